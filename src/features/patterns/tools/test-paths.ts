import type { AnyMachineSnapshot, StateValue } from 'xstate';
import { getAdjacencyMap, getShortestPaths, serializeSnapshot } from 'xstate/graph';
import type { CompiledPattern } from '../compile/compile.js';
import type {
  PatternEvent,
  PatternFailure,
  PatternOutcome,
  PatternRunContext,
  PatternRunInput,
} from '../compile/protocol.js';

/**
 * Test paths generated from a compiled pattern's statechart with `xstate/graph`: shortest
 * paths to every state, plus, for every transition not yet taken by one of them (each failure,
 * timeout, tie, rejection and route), the shortest path through it. Every path is carried on to
 * the nearest final state, so each one is a whole run with a known outcome, and paths that are
 * prefixes of others are dropped.
 */

export interface PatternTestPath {
  id: string;
  description: string;
  events: PatternEvent[];
  /** The state after each event, dotted (`review.reviewing`). */
  steps: Array<{ event: PatternEvent; state: string }>;
  final: { state: string; outcome: PatternOutcome | null; failure: PatternFailure | null };
}

/** The paths through a pattern's statechart that together take every transition, with coverage figures. */
export interface PathReport {
  pattern: string;
  paths: PatternTestPath[];
  /** Transitions of the statechart (from reachable states) and how many the paths take. */
  transitions: number;
  covered: number;
  /** States reached by the paths, out of all reachable ones. */
  states: number;
  statesCovered: number;
}

/** The input runs start with in traversal (and in replays of the paths). */
export function traversalInput(name: string): PatternRunInput {
  return { runId: 'run', pattern: name, ticketId: null, phase: null, now: 0 };
}

/** `{ a: { b: 'c' } }` as `a.b.c`. */
export function flatState(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [key, inner] = Object.entries(value)[0] ?? ['', ''];
  return inner === undefined ? key : `${key}.${flatState(inner as StateValue)}`;
}

/** xstate/graph's adjacency map with plain string keys (its keys are branded serialised snapshots). */
type Adjacency = Record<
  string,
  { state: AnyMachineSnapshot; transitions: Record<string, { event: PatternEvent; state: AnyMachineSnapshot }> }
>;

const key = (s: AnyMachineSnapshot): string => serializeSnapshot(s);

/**
 * The paths through a compiled pattern's statechart (xstate/graph) that together take every
 * transition, each with the events that drive it and the state it ends in: a test per path.
 *
 * @example
 * ```ts
 * const { paths } = generatePaths(compiled);
 * for (const p of paths) console.log(p.description, '→', p.final.state);
 * ```
 */
export function generatePaths(compiled: CompiledPattern): PathReport {
  const options = { events: compiled.events, input: traversalInput(compiled.name) };
  const logic = compiled.machine;
  const adjacency = getAdjacencyMap(logic, options) as unknown as Adjacency;
  const initial = Object.keys(adjacency)[0]!;
  const after = (at: string, e: PatternEvent): string => key(adjacency[at]!.transitions[JSON.stringify(e)]!.state);
  const shortest = new Map<string, PatternEvent[]>();
  for (const path of getShortestPaths(logic, options)) {
    shortest.set(
      key(path.state as AnyMachineSnapshot),
      path.steps.slice(1).map((s) => s.event as PatternEvent),
    );
  }
  const edges: Array<{ from: string; event: PatternEvent; to: string }> = [];
  for (const [from, entry] of Object.entries(adjacency)) {
    for (const t of Object.values(entry.transitions)) {
      const to = key(t.state);
      if (to !== from) edges.push({ from, event: t.event as PatternEvent, to });
    }
  }
  const toFinal = continuations(adjacency, edges);
  const candidates: PatternEvent[][] = [];
  const taken = new Set<string>();
  const edgeKey = (from: string, event: PatternEvent) => `${from}\u0000${JSON.stringify(event)}`;
  const walk = (events: PatternEvent[]): string[] => {
    const keys: string[] = [];
    let at = initial;
    for (const e of events) {
      keys.push(edgeKey(at, e));
      at = after(at, e);
    }
    return keys;
  };
  for (const edge of edges) {
    if (taken.has(edgeKey(edge.from, edge.event))) continue;
    const events = [...(shortest.get(edge.from) ?? []), edge.event, ...(toFinal.get(edge.to) ?? [])];
    for (const k of walk(events)) taken.add(k);
    candidates.push(events);
  }
  const kept = dropPrefixes(candidates);
  const paths = kept.map((events, i) => describe(adjacency, initial, events, i + 1));
  const reached = new Set<string>();
  for (const events of kept) {
    let at = initial;
    reached.add(at);
    for (const e of events) {
      at = after(at, e);
      reached.add(at);
    }
  }
  return {
    pattern: compiled.name,
    paths,
    transitions: edges.length,
    covered: edges.filter((e) => taken.has(edgeKey(e.from, e.event))).length,
    states: Object.keys(adjacency).length,
    statesCovered: reached.size,
  };
}

/** For each state, the shortest run of events to a final state (backwards breadth-first). */
function continuations(
  adjacency: Adjacency,
  edges: Array<{ from: string; event: PatternEvent; to: string }>,
): Map<string, PatternEvent[]> {
  const out = new Map<string, PatternEvent[]>();
  const incoming = new Map<string, Array<{ from: string; event: PatternEvent }>>();
  for (const e of edges) incoming.set(e.to, [...(incoming.get(e.to) ?? []), e]);
  const queue: string[] = [];
  for (const [k, entry] of Object.entries(adjacency)) {
    if (entry.state.status === 'done') {
      out.set(k, []);
      queue.push(k);
    }
  }
  // Prefer ending in `completed`: visit its states first.
  queue.sort((a, b) => Number(!a.includes('"completed"')) - Number(!b.includes('"completed"')));
  for (let i = 0; i < queue.length; i++) {
    const at = queue[i]!;
    for (const e of incoming.get(at) ?? []) {
      if (out.has(e.from)) continue;
      out.set(e.from, [e.event, ...out.get(at)!]);
      queue.push(e.from);
    }
  }
  return out;
}

function dropPrefixes(paths: PatternEvent[][]): PatternEvent[][] {
  const text = paths.map((p) => p.map((e) => JSON.stringify(e)));
  return paths.filter(
    (_, i) =>
      !text.some((other, j) => j !== i && other.length > text[i]!.length && text[i]!.every((e, k) => other[k] === e)) &&
      text.findIndex((t) => t.join() === text[i]!.join()) === i,
  );
}

function describe(adjacency: Adjacency, initial: string, events: PatternEvent[], n: number): PatternTestPath {
  let at = adjacency[initial]!.state;
  const steps: PatternTestPath['steps'] = [];
  for (const event of events) {
    at = adjacency[key(at)]!.transitions[JSON.stringify(event)]!.state;
    steps.push({ event, state: flatState(at.value) });
  }
  const context = at.context as PatternRunContext;
  return {
    id: `p${n}`,
    description: events.map(eventText).join(', '),
    events,
    steps,
    final: { state: flatState(at.value), outcome: context.outcome, failure: context.failure },
  };
}

/** An event in a few words: `implement done`, `integrate timed out`, `route r1`. */
export function eventText(e: PatternEvent): string {
  switch (e.type) {
    case 'step.done':
      return `${e.step} done`;
    case 'step.failed':
      return `${e.step} failed`;
    case 'timer':
      return `${e.name.replace(/\.timeout$/, '')} timed out`;
    case 'review.approved':
      return `${e.step} approved`;
    case 'review.rejected':
      return `${e.step} rejected`;
    case 'vote.tied':
      return `${e.step} tied`;
    case 'route.chosen':
      return `${e.step} → ${e.route}`;
    case 'pattern.signal':
      return `signal ${e.name}`;
    case 'pattern.cancel':
      return 'cancelled';
    case 'pattern.start':
      return 'start';
  }
}
