import type { AnyStateNode } from 'xstate';
import type { StepMeta } from '../compile/state-kit.js';
import { problem, type PatternProblem } from '../problems/problems.js';
import { exitsOf, metaOf, reachableLeaves, unitOf, type StatechartGraph } from './statechart-graph.js';

/**
 * References between steps (`needs`, join and sync sources, merge sources, the result a branch
 * reads) must point at steps that have run on every path before: a dependency cycle, a reference
 * to a later step or to a step on another branch is an error. A split whose children nobody
 * waits for is a warning.
 */
export function checkDependencies(graph: StatechartGraph): PatternProblem[] {
  const out: PatternProblem[] = [];
  const units = unitGraph(graph);
  const idom = dominators(units);
  const metas = new Map<string, StepMeta>();
  for (const node of graph.nodes.values()) {
    const meta = metaOf(node);
    if (meta?.unit) metas.set(node.id, meta);
  }
  const inCycle = new Set<string>();
  for (const cycle of refCycles(metas)) {
    const [first, second] = cycle as [string, string];
    const meta = metas.get(first)!;
    const at = meta.refs.find((r) => r.to === second)?.at ?? meta.at;
    out.push(problem('E_DEPENDENCY_CYCLE', at, `steps depend on each other in a cycle: ${cycle.join(' → ')}`));
    for (let i = 0; i + 1 < cycle.length; i++) inCycle.add(`${cycle[i]}>${cycle[i + 1]}`);
  }
  const referenced = new Set<string>();
  for (const [id, meta] of metas) {
    for (const ref of meta.refs) {
      referenced.add(ref.to);
      if (inCycle.has(`${id}>${ref.to}`) || !units.succ.has(id) || !metas.has(ref.to)) continue;
      if (dominates(idom, ref.to, id)) continue;
      const later = reaches(units.succ, id, ref.to);
      const why = later ? 'it runs after this step' : 'it does not run on every path to this step';
      out.push(problem('E_REF_NOT_BEFORE', ref.at, `step "${meta.step}" uses step "${ref.to}", but ${why}`));
    }
  }
  for (const [id, meta] of metas) {
    if (meta.split && !referenced.has(id) && units.succ.has(id)) {
      out.push(
        problem(
          'W_SPLIT_NOT_JOINED',
          meta.at,
          `no join, sync point, merge or needs uses the children of split "${meta.step}"; the pattern may end before they do`,
        ),
      );
    }
  }
  return out;
}

interface UnitGraph {
  entry: string;
  succ: Map<string, Set<string>>;
}

/** The state a run waits in before it starts: the entry of the flow between steps. */
const START = '#start';

/** Reachable steps and the flow between them (parts of a step folded into the step). */
function unitGraph(graph: StatechartGraph): UnitGraph {
  const succ = new Map<string, Set<string>>();
  const unitId = (node: AnyStateNode | undefined) =>
    node ? (unitOf(node)?.id ?? (node.id === graph.initialLeaf ? START : undefined)) : undefined;
  for (const leaf of reachableLeaves(graph)) {
    const from = unitId(graph.nodes.get(leaf));
    if (!from) continue;
    const set = succ.get(from) ?? new Set<string>();
    succ.set(from, set);
    for (const edge of exitsOf(graph, leaf)) {
      const to = unitId(graph.nodes.get(edge.to));
      if (to && to !== from) set.add(to);
    }
  }
  return { entry: unitId(graph.nodes.get(graph.initialLeaf)) ?? '', succ };
}

/** Immediate dominators (Cooper, Harvey and Kennedy's iterative algorithm). */
function dominators(units: UnitGraph): Map<string, string> {
  const order: string[] = [];
  const seen = new Set<string>();
  const stack: Array<{ id: string; it: Iterator<string> }> = [
    { id: units.entry, it: (units.succ.get(units.entry) ?? new Set()).values() },
  ];
  seen.add(units.entry);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const next = top.it.next();
    if (next.done) {
      order.push(top.id);
      stack.pop();
    } else if (!seen.has(next.value)) {
      seen.add(next.value);
      stack.push({ id: next.value, it: (units.succ.get(next.value) ?? new Set()).values() });
    }
  }
  const rpo = order.reverse();
  const position = new Map(rpo.map((id, i) => [id, i]));
  const preds = new Map<string, string[]>();
  for (const [from, tos] of units.succ) {
    for (const to of tos) {
      const list = preds.get(to);
      if (list) list.push(from);
      else preds.set(to, [from]);
    }
  }
  const idom = new Map<string, string>([[units.entry, units.entry]]);
  const intersect = (a: string, b: string): string => {
    while (a !== b) {
      while (position.get(a)! > position.get(b)!) a = idom.get(a)!;
      while (position.get(b)! > position.get(a)!) b = idom.get(b)!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (const id of rpo.slice(1)) {
      const processed = (preds.get(id) ?? []).filter((p) => idom.has(p));
      if (processed.length === 0) continue;
      const candidate = processed.slice(1).reduce((acc, p) => intersect(p, acc), processed[0]!);
      if (idom.get(id) !== candidate) {
        idom.set(id, candidate);
        changed = true;
      }
    }
  }
  return idom;
}

/** True when `a` runs on every path to `b` (and is not `b` itself). */
function dominates(idom: Map<string, string>, a: string, b: string): boolean {
  if (!idom.has(b) || a === b) return false;
  for (let current = b; ;) {
    const up = idom.get(current)!;
    if (up === a) return true;
    if (up === current) return false;
    current = up;
  }
}

function reaches(succ: Map<string, Set<string>>, from: string, to: string): boolean {
  const seen = new Set([from]);
  const queue = [from];
  while (queue.length > 0) {
    for (const next of succ.get(queue.pop()!) ?? []) {
      if (next === to) return true;
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return false;
}

/** Cycles in the "uses" relation, each as a closed list of ids, found once each. */
function refCycles(metas: Map<string, StepMeta>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const cycles: string[][] = [];
  const visit = (id: string) => {
    state.set(id, 'open');
    trail.push(id);
    for (const ref of metas.get(id)?.refs ?? []) {
      if (!metas.has(ref.to)) continue;
      if (state.get(ref.to) === 'open') cycles.push([...trail.slice(trail.indexOf(ref.to)), ref.to]);
      else if (!state.has(ref.to)) visit(ref.to);
    }
    trail.pop();
    state.set(id, 'done');
  };
  for (const id of metas.keys()) if (!state.has(id)) visit(id);
  return cycles;
}
