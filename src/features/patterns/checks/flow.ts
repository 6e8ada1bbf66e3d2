import { problem, type PatternProblem } from '../problems/problems.js';
import { metaOf, reachableLeaves, exitsOf, unitOf, lineage, type StatechartGraph } from './statechart-graph.js';

/**
 * Steps no path reaches, and flows that loop (a loop is allowed only as a review step's rounds,
 * which are bounded by its `max_rounds`).
 */
export function checkFlow(graph: StatechartGraph): PatternProblem[] {
  const out: PatternProblem[] = [];
  const reachable = reachableLeaves(graph);
  const reachedUnits = new Set<string>();
  for (const id of reachable) {
    const node = graph.nodes.get(id);
    if (node) for (const n of lineage(node)) reachedUnits.add(n.id);
  }
  for (const node of graph.nodes.values()) {
    const meta = metaOf(node);
    if (!meta?.unit || reachedUnits.has(node.id)) continue;
    // Only the outermost unreachable step: the steps inside an unreachable used pattern follow.
    const parentUnit = node.parent ? unitOf(node.parent) : undefined;
    if (parentUnit && !reachedUnits.has(parentUnit.id)) continue;
    out.push(
      problem(
        'E_UNREACHABLE_STEP',
        meta.at,
        `no path reaches step "${meta.step}": nothing before it leads here (check next:, branch rules and ends)`,
      ),
    );
  }
  out.push(...flowCycles(graph, reachable));
  return out;
}

/** Strongly connected sets of leaves joined by unbounded transitions (Tarjan, iterative). */
function flowCycles(graph: StatechartGraph, leaves: Set<string>): PatternProblem[] {
  const succ = new Map<string, string[]>();
  for (const id of leaves) {
    succ.set(
      id,
      exitsOf(graph, id)
        .filter((e) => e.guard?.type !== 'roundsLeft')
        .map((e) => e.to),
    );
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: PatternProblem[] = [];
  let counter = 0;
  for (const start of leaves) {
    if (index.has(start)) continue;
    const work: Array<{ id: string; next: number }> = [{ id: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const targets = succ.get(frame.id) ?? [];
      if (frame.next < targets.length) {
        const to = targets[frame.next++]!;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ id: to, next: 0 });
        } else if (onStack.has(to)) low.set(frame.id, Math.min(low.get(frame.id)!, index.get(to)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
      if (low.get(frame.id) !== index.get(frame.id)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.id);
      const selfLoop = component.length === 1 && (succ.get(component[0]!) ?? []).includes(component[0]!);
      if (component.length > 1 || selfLoop) out.push(cycleProblem(graph, component));
    }
  }
  return out;
}

function cycleProblem(graph: StatechartGraph, leaves: string[]): PatternProblem {
  const units = [...new Set(leaves.map((id) => unitOf(graph.nodes.get(id)!)).filter((u) => u !== undefined))];
  const metas = units.map((u) => metaOf(u)!).sort((a, b) => a.at.line - b.at.line || a.at.column - b.at.column);
  const first = metas[0]!;
  const names = metas.map((m) => m.step);
  return problem(
    'E_FLOW_CYCLE',
    first.at,
    `the flow loops through ${[...names, names[0]].join(' → ')}; repeat work with a review step (max_rounds) instead`,
  );
}
