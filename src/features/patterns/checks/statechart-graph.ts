import type { AnyStateMachine, AnyStateNode } from 'xstate';
import type { StepMeta, TransitionConfig } from '../compile/state-kit.js';

/**
 * The compiled statechart read back as a graph, for the static checks: every state node with
 * its metadata, and every transition as an edge from the node that declares it to the leaf
 * state it enters. The checks look at the machine itself, not at the pattern it came from.
 */

export interface ChartEdge {
  /** Id of the node that declares the transition (the active leaf or one of its ancestors). */
  from: string;
  /** Id of the leaf state entered (the target followed down its initial states). */
  to: string;
  /** Id of the state the transition names as its target (maybe a compound one). */
  target: string;
  event: string;
  guard: { type: string; params?: Record<string, unknown> } | null;
  description: string | null;
}

export interface StatechartGraph {
  machine: AnyStateMachine;
  nodes: Map<string, AnyStateNode>;
  edges: ChartEdge[];
  /** Edges by the id of the node that declares them. */
  edgesFrom: Map<string, ChartEdge[]>;
  initialLeaf: string;
  /** Memo of `exitsOf` and `reachableLeaves`: every check asks for them. */
  memo: { exits: Map<string, ChartEdge[]>; reachable: Set<string> | null };
}

export const metaOf = (node: AnyStateNode | undefined): StepMeta | undefined => node?.meta as StepMeta | undefined;

/** The leaf entered when `node` is the target: down through initial states. */
export function leafOf(node: AnyStateNode): AnyStateNode {
  let current = node;
  while (current.type === 'compound') {
    const next = current.initial.target[0];
    if (!next) break;
    current = next;
  }
  return current;
}

/** The node and its ancestors, innermost first, excluding the machine's root. */
export function lineage(node: AnyStateNode): AnyStateNode[] {
  const out: AnyStateNode[] = [];
  for (let n: AnyStateNode | undefined = node; n && n.parent; n = n.parent) out.push(n);
  return out;
}

/**
 * Reads the statechart's nodes and, from each node's own config, its transitions. (xstate's
 * formatted `transitions` say the same but are built on first read at a cost that dominates
 * checking a large pattern; targets here are all `#id`s, resolved against the same nodes.)
 */
export function statechartGraph(machine: AnyStateMachine): StatechartGraph {
  const nodes = new Map<string, AnyStateNode>();
  const visit = (node: AnyStateNode) => {
    nodes.set(node.id, node);
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root);
  const edges: ChartEdge[] = [];
  for (const node of nodes.values()) {
    if (!node.parent) continue;
    const on = (node.config as { on?: Record<string, TransitionConfig | TransitionConfig[]> }).on ?? {};
    for (const [event, value] of Object.entries(on)) {
      for (const t of Array.isArray(value) ? value : [value]) {
        const target = nodes.get(t.target.replace(/^#/, ''));
        if (!target) throw new Error(`statechart ${machine.id}: ${node.id} names unknown target ${t.target}`);
        edges.push({
          from: node.id,
          to: leafOf(target).id,
          target: target.id,
          event,
          guard: t.guard ? { type: t.guard.type, params: t.guard.params } : null,
          description: t.description ?? null,
        });
      }
    }
  }
  const edgesFrom = new Map<string, ChartEdge[]>();
  for (const e of edges) {
    const list = edgesFrom.get(e.from);
    if (list) list.push(e);
    else edgesFrom.set(e.from, [e]);
  }
  return {
    machine,
    nodes,
    edges,
    edgesFrom,
    initialLeaf: leafOf(machine.root).id,
    memo: { exits: new Map(), reachable: null },
  };
}

/** Edges that can leave the leaf `id`: its own and its ancestors' (never the root's). */
export function exitsOf(graph: StatechartGraph, id: string): ChartEdge[] {
  const known = graph.memo.exits.get(id);
  if (known) return known;
  const node = graph.nodes.get(id);
  const exits: ChartEdge[] = [];
  if (node) for (const n of lineage(node)) for (const e of graph.edgesFrom.get(n.id) ?? []) exits.push(e);
  graph.memo.exits.set(id, exits);
  return exits;
}

/** Leaves reachable from the initial leaf. */
export function reachableLeaves(graph: StatechartGraph): Set<string> {
  if (graph.memo.reachable) return graph.memo.reachable;
  const seen = new Set<string>([graph.initialLeaf]);
  const queue = [graph.initialLeaf];
  while (queue.length > 0) {
    const id = queue.pop() as string;
    for (const edge of exitsOf(graph, id)) {
      if (!seen.has(edge.to)) {
        seen.add(edge.to);
        queue.push(edge.to);
      }
    }
  }
  graph.memo.reachable = seen;
  return seen;
}

/**
 * The unit (a step of some pattern, not a part of one) a node belongs to: the innermost
 * ancestor-or-self marked as a unit that holds no other unit.
 */
export function unitOf(node: AnyStateNode): AnyStateNode | undefined {
  for (const n of lineage(node)) if (metaOf(n)?.unit) return n;
  return undefined;
}
