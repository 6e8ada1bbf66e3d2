import type { CompiledPattern } from '../compile/compile.js';
import type { PatternProblem } from '../problems/problems.js';
import { checkDependencies } from './dependencies.js';
import { checkFlow } from './flow.js';
import { checkCapabilities, checkQuorums, checkRoutes, checkWaits } from './state-checks.js';
import { statechartGraph } from './statechart-graph.js';

/** Options of the static checks of a compiled pattern. */
export interface StaticCheckOptions {
  /** Capabilities of each registered agent; without it the capability warning is skipped. */
  agents?: ReadonlyArray<ReadonlyArray<string>>;
}

/**
 * The static checks, run on the compiled statechart before anything runs: unreachable steps,
 * flow loops, dependency cycles and references to steps that do not run before, waits with no
 * way out, joins and sync points that can never be met, routes never chosen and (a warning)
 * capabilities no agent offers.
 *
 * @example
 * ```ts
 * const problems = checkCompiled(compiled, { agents: [['python'], ['review']] });
 * ```
 */
export function checkCompiled(compiled: CompiledPattern, options: StaticCheckOptions = {}): PatternProblem[] {
  const graph = statechartGraph(compiled.machine);
  return [
    ...checkFlow(graph),
    ...checkDependencies(graph),
    ...checkWaits(graph),
    ...checkQuorums(graph),
    ...checkRoutes(graph, compiled),
    ...(options.agents ? checkCapabilities(graph, options.agents) : []),
  ];
}
