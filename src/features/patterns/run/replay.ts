import { NonRetryableError } from '../../../core/errors.js';
import type { TaskHandler } from '../../../engine/api/task-handler.js';
import type { AgentApi } from '../../../engine/api/agent-api.js';
import type { Store } from '../../../engine/store/store.js';
import type { SimulatedClock } from '../../../engine/clock.js';
import type { CompiledPattern } from '../compile/compile.js';
import { tasksOf } from '../compile/work.js';
import type { PatternTestPath } from '../tools/test-paths.js';
import { DEFAULT_RESULT, scriptFromPath, type PathScript, type SettledOutcome } from './path-script.js';
import type { PatternApi } from './pattern-api.js';
import type { PatternRunView } from './run-view.js';

/** The parts of a runtime that a replay drives (a `Runtime` is one). */
export interface ReplayTarget {
  readonly agents: Pick<AgentApi, 'register'>;
  readonly patterns: Pick<PatternApi, 'apply' | 'signal' | 'get'>;
  readonly store: Pick<Store, 'loadTimers'>;
  idle(): Promise<void>;
}

/**
 * An in-process agent handler that follows a script: each task succeeds, fails (without
 * retry) or is held, by its id. Held tasks are released by `release(after)`.
 *
 * @example
 * ```ts
 * const agent = new ScriptedAgent(scriptFromPath(compiled, path, 'run-1'));
 * await runtime.agents.register({ id: 'scripted', capabilities: capabilitiesOf(compiled), handler: agent.handler });
 * ```
 */
export class ScriptedAgent {
  private readonly waiting = new Map<string, { after: number; outcome: SettledOutcome; go: () => void }>();

  constructor(private readonly script: PathScript) {}

  readonly handler: TaskHandler = async (task, ctx) => {
    let outcome = this.script.outcomes.get(task.id) ?? { kind: 'succeed' as const, result: DEFAULT_RESULT };
    if (outcome.kind === 'hold') {
      const release = outcome.release;
      await new Promise<void>((resolve, reject) => {
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error));
        if (release) this.waiting.set(task.id, { ...release, go: resolve });
      });
      outcome = release!.outcome;
    }
    if (outcome.kind === 'fail') throw new NonRetryableError(outcome.reason);
    for (const [name, value] of Object.entries(outcome.artifacts ?? {})) ctx.artifact(name, value);
    return outcome.result;
  };

  /** Lets held tasks whose deadline (replay action `after`) has passed settle as scripted. */
  release(after: number): void {
    for (const [id, held] of this.waiting) {
      if (held.after > after) continue;
      this.waiting.delete(id);
      held.go();
    }
  }
}

/** Every capability any task of the pattern requires, so one agent can take them all. */
export function capabilitiesOf(compiled: CompiledPattern): string[] {
  return [...new Set([...compiled.works.values()].flatMap((w) => tasksOf(w).flatMap((t) => t.requires)))];
}

/**
 * Replays a test path against a live runtime: the path's events become agent outcomes and clock
 * moves, and the run's resulting state is returned for comparison with `path.final`. The runtime
 * must run on `clock` and have no other agents.
 *
 * @example
 * ```ts
 * const view = await replayPath(runtime, clock, compiled, path, 'run-1');
 * expect(view.state).toBe(path.final.state);
 * ```
 */
export async function replayPath(
  runtime: ReplayTarget,
  clock: SimulatedClock,
  compiled: CompiledPattern,
  path: PatternTestPath,
  runId: string,
): Promise<PatternRunView> {
  const script = scriptFromPath(compiled, path, runId);
  const agent = new ScriptedAgent(script);
  await runtime.agents.register({
    id: `${runId}-agent`,
    capabilities: capabilitiesOf(compiled),
    capacity: 1_000,
    handler: agent.handler,
  });
  for (const [index, action] of script.actions.entries()) {
    if (action.kind === 'start') await runtime.patterns.apply({ pattern: compiled, runId });
    else if (action.kind === 'signal') await runtime.patterns.signal(runId, action.name);
    else {
      await runtime.idle();
      const timer = (await runtime.store.loadTimers()).find((t) => t.actorId === runId && t.name === action.name);
      if (timer) await clock.advanceTo(timer.at);
      await runtime.idle();
      agent.release(index);
    }
    await runtime.idle();
  }
  await runtime.idle();
  return runtime.patterns.get(runId);
}
