/**
 * Shared machinery of the model-based tests: paths are generated from a machine's definition
 * with `xstate/graph` (`createTestModel(...).getShortestPaths()`), replayed with the runtime's own
 * `MachineStepper`, and after each step the snapshot and the requested effects are checked against
 * an independent oracle written per machine. Coverage of state nodes and transitions (guarded
 * alternatives and eventless ones included) is measured from xstate's microstep inspection events.
 *
 * How the traversal is bounded: a model state is an abstract *key* of a snapshot (the state value
 * plus the few context facts that decide guards, never clock values), extended with the edge that
 * led to it (`key <= event label <= previous key`). Shortest paths to every such node therefore
 * take every edge of the abstract graph, while the number of nodes stays the number of abstract
 * edges. The paths form a tree (each extends its parent's by one edge), so they are replayed as a
 * trie: every prefix once. A `limit` on traversal iterations fails loudly if a key is too fine.
 *
 * Sample events are made per snapshot (so that lease ids can match or not, and timers fire just
 * before or at their deadline) and each carries a label, unique among the samples of a state; the
 * label, not the concrete payload, identifies the event in the traversal. A path is replayed as
 * its sequence of labels, each event made anew from the replayed snapshot, and the replay must
 * reach the same abstract states as the traversal did.
 *
 * createTestModel only sends a state the event types it handles; the samples of the other types
 * are sent as one-step probes (once per state value and set of samples), so that an event a state
 * drops is checked too: the oracle decides whether dropping it is right.
 */
import { expect, it } from 'vitest';
import type {
  AnyMachineSnapshot,
  AnyStateMachine,
  AnyStateNode,
  AnyTransitionDefinition,
  EventObject,
  InspectionEvent,
} from 'xstate';
import { createTestModel, getStateNodes } from 'xstate/graph';
import { MachineStepper, type RequestedEffect } from '../../src/core/stepper/machine-stepper.js';
import { TwinStepper } from '../support/twin-stepper.js';

// ---------------------------------------------------------------------------------------------
// Sample events and their labels

const labels = new WeakMap<object, string>();

/** Marks `event` as a sample with a label; the label identifies it in the generated paths. */
export function sample<E extends EventObject>(label: string, event: E): E {
  labels.set(event, label);
  return event;
}

export function labelOf(event: EventObject): string {
  const label = labels.get(event);
  if (label === undefined) {
    throw new Error(
      `event ${JSON.stringify(event)} has no sample label: every event type a state handles needs sample events`,
    );
  }
  return label;
}

/** Checks that the labels of one state's samples are unique (they key the traversal's edges). */
function uniqueLabels(events: readonly EventObject[]): readonly EventObject[] {
  const seen = new Set<string>();
  for (const e of events) {
    const label = labelOf(e);
    if (seen.has(label)) throw new Error(`sample label "${label}" is used twice in one state`);
    seen.add(label);
  }
  return events;
}

// ---------------------------------------------------------------------------------------------
// Effects

export interface Effect {
  type: string;
  params: Record<string, unknown>;
}

/**
 * Effects in one canonical vocabulary, whatever combined form a machine uses to ask for them:
 * `timers { set, clear }` becomes `clearTimer`s then `setTimer`s, and `leaseEnded` becomes
 * `releaseSlot` plus `revoke` when it carries a revoke reason.
 */
export function normalizeEffects(raw: readonly RequestedEffect[]): Effect[] {
  const out: Effect[] = [];
  for (const e of raw) {
    if (e.type === 'timers') {
      const p = e.params as { set?: Array<{ name: string; at: number }>; clear?: string[] };
      for (const name of p.clear ?? []) out.push({ type: 'clearTimer', params: { name } });
      for (const t of p.set ?? []) out.push({ type: 'setTimer', params: { name: t.name, at: t.at } });
    } else if (e.type === 'leaseEnded') {
      const p = e.params as { taskId: string; agentId: string; leaseId: string; revoke?: string | null };
      out.push({ type: 'releaseSlot', params: { agentId: p.agentId, taskId: p.taskId } });
      if (p.revoke !== null && p.revoke !== undefined) {
        out.push({
          type: 'revoke',
          params: { taskId: p.taskId, agentId: p.agentId, leaseId: p.leaseId, reason: p.revoke },
        });
      }
    } else {
      out.push({ type: e.type, params: e.params });
    }
  }
  return out;
}

/** The durable timer table of one actor, as a host keeps it: armed by effects, consumed by firing. */
export class TimerTable {
  private readonly armed = new Map<string, number>();

  clone(): TimerTable {
    const t = new TimerTable();
    for (const [k, v] of this.armed) t.armed.set(k, v);
    return t;
  }

  /** A timer event consumes the armed timer of that name when its time has come. */
  fire(event: EventObject): void {
    const e = event as { type: string; name?: unknown; now?: unknown };
    if (e.type !== 'timer' || typeof e.name !== 'string' || typeof e.now !== 'number') return;
    const at = this.armed.get(e.name);
    if (at !== undefined && e.now >= at) this.armed.delete(e.name);
  }

  apply(effects: readonly Effect[]): void {
    for (const e of effects) {
      if (e.type === 'setTimer') this.armed.set(e.params.name as string, e.params.at as number);
      else if (e.type === 'clearTimer') this.armed.delete(e.params.name as string);
    }
  }

  get(name: string): number | undefined {
    return this.armed.get(name);
  }

  names(): string[] {
    return [...this.armed.keys()].sort();
  }
}

// ---------------------------------------------------------------------------------------------
// Assertions that read well in a failure list

export class OracleError extends Error {}

export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new OracleError(typeof message === 'string' ? message : message());
}

export function checkEqual(actual: unknown, expected: unknown, what: string): void {
  const a = stable(actual);
  const e = stable(expected);
  if (a !== e) throw new OracleError(`${what}: expected ${e}, got ${a}`);
}

/** JSON with sorted keys, `undefined` shown, for comparisons and messages. */
export function stable(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === undefined) return '<undefined>';
    if (typeof v === 'number' && !Number.isFinite(v)) return `<${String(v)}>`;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)));
    }
    return v;
  });
}

/** Plain JSON only: no `undefined`, no NaN or Infinity, no functions (it must persist as is). */
export function badJsonAt(value: unknown, path = '$'): string | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${path} is ${value}`;
  if (value === undefined) return `${path} is undefined`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = badJsonAt(value[i], `${path}[${i}]`);
      if (bad) return bad;
    }
    return null;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const bad = badJsonAt(v, `${path}.${k}`);
      if (bad) return bad;
    }
    return null;
  }
  return `${path} is a ${typeof value}`;
}

// ---------------------------------------------------------------------------------------------
// Structure of a machine and what paths covered of it

/** `#task.leased.running on task.fail[1] if leaseMatches -> #task.dead_lettered` */
function describeTransition(node: AnyStateNode, event: string, index: number, t: AnyTransitionDefinition): string {
  const g = t.guard as unknown;
  const guard =
    g === undefined
      ? ''
      : typeof g === 'string'
        ? ` if ${g}`
        : typeof g === 'object' && g !== null && 'type' in g
          ? ` if ${String((g as { type: unknown }).type)}`
          : ' if <inline>';
  const targets = t.target ? t.target.map((s) => `#${s.id}`).join(',') : '(no target)';
  return `#${node.id} on ${event}[${index}]${guard} -> ${targets}`;
}

export class Coverage {
  readonly stateIds: string[];
  readonly transitions = new Map<AnyTransitionDefinition, string>();
  readonly visitedStates = new Set<string>();
  readonly takenTransitions = new Set<AnyTransitionDefinition>();

  constructor(readonly machine: AnyStateMachine) {
    const nodes: AnyStateNode[] = [machine.root, ...getStateNodes(machine.root)];
    this.stateIds = nodes.map((n) => n.id);
    for (const node of nodes) {
      for (const [event, defs] of node.transitions) {
        defs.forEach((t, i) => this.transitions.set(t, describeTransition(node, event, i, t)));
      }
      (node.always ?? []).forEach((t, i) => this.transitions.set(t, describeTransition(node, 'always', i, t)));
    }
  }

  record(nodes: Iterable<string>, transitions: Iterable<AnyTransitionDefinition>): void {
    for (const id of nodes) this.visitedStates.add(id);
    for (const t of transitions) if (this.transitions.has(t)) this.takenTransitions.add(t);
  }

  missingStates(): string[] {
    return this.stateIds.filter((id) => !this.visitedStates.has(id)).map((id) => `#${id}`);
  }

  missingTransitions(): string[] {
    return [...this.transitions].filter(([t]) => !this.takenTransitions.has(t)).map(([, d]) => d);
  }

  summary(): string {
    return (
      `states ${this.stateIds.length - this.missingStates().length}/${this.stateIds.length}, ` +
      `transitions ${this.transitions.size - this.missingTransitions().length}/${this.transitions.size}`
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Stepping with a trace of the transitions taken

export interface TracedStep {
  snapshot: AnyMachineSnapshot;
  effects: Effect[];
  raw: RequestedEffect[];
  /** False when the machine did not accept the event (same snapshot, no effects). */
  changed: boolean;
  transitions: AnyTransitionDefinition[];
  /** Ids of every state node active at some microstep, transient ones included. */
  nodes: Set<string>;
}

/**
 * The runtime's `MachineStepper`, with an inspection observer on the system of the actor scope it
 * borrows: `@xstate.microstep` inspection events name the transitions each microstep took,
 * eventless ones included, which is how coverage is measured.
 */
export class TracingStepper {
  readonly stepper: MachineStepper;
  /** The compiled stepper in lockstep: every step must agree with xstate's (see TwinStepper). */
  readonly twin: TwinStepper;
  private transitions: AnyTransitionDefinition[] = [];
  private nodes = new Set<string>();

  constructor(machine: AnyStateMachine) {
    this.stepper = new MachineStepper(machine);
    this.twin = new TwinStepper(machine);
    const scope = (this.stepper as unknown as { scope?: { system?: { inspect?: unknown } } }).scope;
    const system = scope?.system as { inspect(fn: (e: InspectionEvent) => void): unknown } | undefined;
    if (!system || typeof system.inspect !== 'function') {
      throw new Error('MachineStepper no longer exposes its actor scope; update TracingStepper');
    }
    system.inspect((e) => {
      if (e.type !== '@xstate.microstep') return;
      for (const t of e._transitions) {
        this.transitions.push(t);
        this.nodes.add(t.source.id);
      }
      for (const n of (e.snapshot as AnyMachineSnapshot)._nodes) this.nodes.add(n.id);
    });
  }

  private begin(): void {
    this.transitions = [];
    this.nodes = new Set();
  }

  private finish(snapshot: AnyMachineSnapshot, raw: RequestedEffect[], changed: boolean): TracedStep {
    for (const n of snapshot._nodes) this.nodes.add(n.id);
    return { snapshot, raw, effects: normalizeEffects(raw), changed, transitions: this.transitions, nodes: this.nodes };
  }

  initial(input: unknown): TracedStep {
    this.begin();
    const r = this.stepper.initial(input);
    this.twin.initial(input, r);
    return this.finish(r.snapshot, r.effects, true);
  }

  step(snapshot: AnyMachineSnapshot, event: EventObject): TracedStep {
    this.begin();
    const r = this.stepper.step(snapshot, event);
    this.twin.step(snapshot, event, r);
    if (!r) return this.finish(snapshot, [], false);
    return this.finish(r.snapshot, r.effects, true);
  }
}

// ---------------------------------------------------------------------------------------------
// The model runner

/** A machine snapshot with its context typed (AnyMachineSnapshot's own context is `any`). */
export type SnapshotOf<C> = Omit<AnyMachineSnapshot, 'context'> & { context: C };

export interface StepRecord<C = Record<string, unknown>> {
  /** 0 for the initial snapshot, -1 for a probe (an event the state does not handle). */
  index: number;
  /** Snapshot before the event; null for the initial step. */
  prev: SnapshotOf<C> | null;
  event: EventObject | null;
  label: string;
  next: SnapshotOf<C>;
  effects: Effect[];
  changed: boolean;
  /** The configuration's input (the machine was created with it). */
  input: unknown;
  /** Timers armed before this step, and after it (fired timer consumed, effects applied). */
  timersBefore: TimerTable;
  timers: TimerTable;
}

export type Oracle<C> = (step: StepRecord<C>) => void;

export interface ModelConfig {
  name: string;
  input: unknown;
  /** Sample events for a snapshot, each made with `sample(label, event)`. */
  events: (snapshot: AnyMachineSnapshot) => EventObject[];
  /** The abstract state: whatever decides guards and outcomes, never clock values. */
  key: (snapshot: AnyMachineSnapshot) => string;
  /** Upper bound on traversal iterations; exceeding it fails the test (the key is too fine). */
  limit?: number;
  /**
   * Event types that `events` may leave out in some snapshots although the state handles them
   * (e.g. no task can settle when none is open). Any other handled type without samples fails.
   */
  optional?: readonly string[];
}

export interface ModelRun {
  name: string;
  paths: number;
  /** Events in all generated paths together. */
  pathSteps: number;
  /** Steps replayed: every distinct path prefix once (paths share prefixes), the initial step included. */
  steps: number;
  /** Single steps with events the state does not handle, once per abstract state. */
  probes: number;
  failures: string[];
  /** Time spent generating the paths and replaying them. */
  ms: { generate: number; replay: number };
  /** Steps the compiled stepper replayed in lockstep and matched; null when the machine is not compiled. */
  twinSteps: number | null;
}

const MAX_FAILURES = 12;

function describeStep(label: string, event: EventObject | null): string {
  return event ? `${label} ${stable(event)}` : 'init';
}

/** Generates the paths of one configuration and replays them through the oracle. */
export function runModel<C>(
  machine: AnyStateMachine,
  config: ModelConfig,
  oracle: Oracle<C>,
  coverage: Coverage | null,
  options: { stopAtFirstFailure?: boolean } = {},
): ModelRun {
  const key = config.key;
  const model = createTestModel(machine, {
    input: config.input,
    events: (snapshot: AnyMachineSnapshot) => uniqueLabels(config.events(snapshot)),
    serializeEvent: (event: EventObject) => labelOf(event),
    serializeState: (snapshot: AnyMachineSnapshot, event: EventObject | undefined, prev?: AnyMachineSnapshot) =>
      event && prev ? `${key(snapshot)} <= ${labelOf(event)} <= ${key(prev)}` : key(snapshot),
    limit: config.limit ?? 50_000,
    // createTestModel sends a bare `{ type }` for a handled type without samples: refuse those.
    filterEvents: (_snapshot: AnyMachineSnapshot, event: EventObject) => {
      if (labels.has(event)) return true;
      if (config.optional?.includes(event.type)) return false;
      return labelOf(event) !== '';
    },
    // The host never steps an actor that is done (it is no longer live), so final states are leaves.
    stopWhen: (snapshot: AnyMachineSnapshot) => snapshot.status !== 'active',
  } as never);
  const started = performance.now();
  if (process.env.MODEL_STATS) {
    const t0 = performance.now();
    const adj = model.getAdjacencyMap();
    const n = Object.keys(adj).length;
    const e = Object.values(adj).reduce((a, v) => a + Object.keys(v.transitions).length, 0);
    console.log(
      `[model] ${config.name}: ${n} nodes, ${e} edges, adjacency in ${Math.round(performance.now() - t0)} ms`,
    );
  }
  const paths = model.getShortestPaths();
  const generatedMs = performance.now() - started;
  const tracer = new TracingStepper(machine);
  const failures: string[] = [];
  const probed = new Set<string>();
  let steps = 0;
  let probes = 0;

  // Shortest paths share their prefixes (each extends the path to its parent node by one edge):
  // as a trie of labels, every prefix is replayed once, from the snapshot its parent reached.
  interface TrieNode {
    label: string;
    expected: AnyMachineSnapshot;
    children: Map<string, TrieNode>;
  }
  const root: TrieNode | null = paths[0]?.steps[0]
    ? { label: 'init', expected: paths[0].steps[0].state as AnyMachineSnapshot, children: new Map() }
    : null;
  for (const path of paths) {
    let node = root!;
    for (let i = 1; i < path.steps.length; i++) {
      const step = path.steps[i]!;
      const label = labelOf(step.event);
      let child = node.children.get(label);
      if (!child) {
        child = { label, expected: step.state as AnyMachineSnapshot, children: new Map() };
        node.children.set(label, child);
      }
      node = child;
    }
  }

  const fail = (error: unknown, trail: readonly string[]) => {
    const message = error instanceof Error ? error.message : String(error);
    failures.push(`[${config.name}] ${message}\n    path: ${trail.join('\n       -> ')}`);
  };
  const enough = () => failures.length >= (options.stopAtFirstFailure ? 1 : MAX_FAILURES);

  /** Checks one step; returns the timers after it. Throws when the oracle or a generic check fails. */
  const record = (
    index: number,
    prev: AnyMachineSnapshot | null,
    event: EventObject | null,
    traced: TracedStep,
    expected: AnyMachineSnapshot,
    timersBefore: TimerTable,
  ): TimerTable => {
    coverage?.record(traced.nodes, traced.transitions);
    // The replay must reach the abstract state the traversal reached (the key is deterministic).
    if (index >= 0) checkEqual(key(traced.snapshot), key(expected), 'abstract state (replay vs graph)');
    check(traced.snapshot.status !== 'error', () => `snapshot error: ${String(traced.snapshot.error)}`);
    const badContext = badJsonAt(traced.snapshot.context, 'context');
    check(badContext === null, () => `context is not plain JSON: ${badContext}`);
    for (const e of traced.raw) {
      const bad = badJsonAt(e.params, `${e.type}.params`);
      check(bad === null, () => `effect params are not plain JSON: ${bad}`);
    }
    if (!traced.changed) {
      check(traced.snapshot === prev && traced.effects.length === 0, 'an unaccepted event must change nothing');
    }
    const timers = timersBefore.clone();
    if (event) timers.fire(event);
    timers.apply(traced.effects);
    oracle({
      input: config.input,
      index,
      prev: prev as never,
      event,
      label: event ? labelOf(event) : 'init',
      next: traced.snapshot as never,
      effects: traced.effects,
      changed: traced.changed,
      timersBefore,
      timers,
    });
    return timers;
  };

  /**
   * The traversal only sends a state the event types it handles. Once per abstract state, the
   * samples of every other type are sent too, one step each: the machine must ignore them, or the
   * oracle must expect what they do.
   */
  const probe = (snapshot: AnyMachineSnapshot, timers: TimerTable, trail: string[]) => {
    if (snapshot.status !== 'active') return;
    const handled = new Set(snapshot._nodes.flatMap((n: AnyStateNode) => n.ownEvents));
    const unhandled = config.events(snapshot).filter((e) => !handled.has(e.type));
    // The machine cannot tell these apart by context: once per state value and set of samples.
    const k = `${JSON.stringify(snapshot.value)} ${unhandled.map(labelOf).join(',')}`;
    if (probed.has(k)) return;
    probed.add(k);
    for (const event of unhandled) {
      if (enough()) return;
      probes++;
      const traced = tracer.step(snapshot, event);
      try {
        record(-1, snapshot, event, traced, snapshot, timers);
      } catch (error) {
        fail(error, [...trail, `(probe) ${describeStep(labelOf(event), event)}`]);
      }
    }
  };

  const walk = (node: TrieNode, snapshot: AnyMachineSnapshot, timers: TimerTable, trail: string[], depth: number) => {
    probe(snapshot, timers, trail);
    for (const child of node.children.values()) {
      if (enough()) return;
      // A path is a sequence of labels: each event is made anew from the replayed snapshot, so
      // lease ids, deadlines and counts are those of this very run.
      const event = config.events(snapshot).find((e) => labelOf(e) === child.label);
      const childTrail = [...trail, event ? describeStep(child.label, event) : child.label];
      let next: TracedStep;
      let after: TimerTable;
      try {
        if (!event) throw new OracleError(`no sample "${child.label}" in the replayed state ${key(snapshot)}`);
        steps++;
        next = tracer.step(snapshot, event);
        after = record(depth, snapshot, event, next, child.expected, timers);
      } catch (error) {
        fail(error, childTrail);
        continue;
      }
      walk(child, next.snapshot, after, childTrail, depth + 1);
    }
  };

  if (root) {
    const initial = tracer.initial(config.input);
    steps++;
    try {
      const timers = record(0, null, null, initial, root.expected, new TimerTable());
      walk(root, initial.snapshot, timers, ['init'], 1);
    } catch (error) {
      fail(error, ['init']);
    }
  }
  const ms = { generate: Math.round(generatedMs), replay: Math.round(performance.now() - started - generatedMs) };
  const pathSteps = paths.reduce((a, p) => a + p.steps.length - 1, 0);
  const twinSteps = tracer.twin.active ? tracer.twin.compared : null;
  return { name: config.name, paths: paths.length, pathSteps, steps, probes, failures, ms, twinSteps };
}

/** One line per run, printed when MODEL_STATS is set. */
export function reportRuns(machineName: string, runs: readonly ModelRun[], coverage: Coverage): void {
  if (!process.env.MODEL_STATS) return;
  const paths = runs.reduce((a, r) => a + r.paths, 0);
  const pathSteps = runs.reduce((a, r) => a + r.pathSteps, 0);
  const steps = runs.reduce((a, r) => a + r.steps, 0);
  const probes = runs.reduce((a, r) => a + r.probes, 0);
  const per = runs
    .map((r) => `${r.name}: ${r.paths} paths/${r.pathSteps} path steps/${r.steps} replayed/${r.probes} probes`)
    .join('; ');
  console.log(
    `[model] ${machineName}: ${paths} paths of ${pathSteps} steps, ${steps} steps replayed, ${probes} probes (${per}); ${coverage.summary()}`,
  );
}

/** Latest instant a snapshot's context mentions, so that sample events move time forward. */
export function latest(...values: Array<number | null | undefined>): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) if (typeof v === 'number' && v > max) max = v;
  return max === Number.NEGATIVE_INFINITY ? 0 : max;
}

export interface KindOptions {
  /** Leave emits out (default: in). */
  emits?: boolean;
  /** Leave setTimer/clearTimer out (default: in); check timers through the TimerTable instead. */
  timers?: boolean;
}

/** Effects as sorted kinds (`emit:<type>` for emits), to compare with the kinds an oracle expects. */
export function effectKinds(effects: readonly Effect[], options: KindOptions = {}): string[] {
  return effects
    .filter((e) => options.emits !== false || e.type !== 'emit')
    .filter((e) => options.timers !== false || (e.type !== 'setTimer' && e.type !== 'clearTimer'))
    .map((e) => (e.type === 'emit' ? `emit:${String(e.params.type)}` : e.type))
    .sort();
}

export function checkEffectKinds(
  effects: readonly Effect[],
  expected: readonly string[],
  options: KindOptions = {},
): void {
  const aside = [options.emits === false ? 'emits' : '', options.timers === false ? 'timers' : ''].filter(Boolean);
  checkEqual(
    effectKinds(effects, options),
    [...expected].sort(),
    aside.length ? `effects (${aside.join(', ')} aside)` : 'effects',
  );
}

/** The only effect of a type; fails unless there is exactly one. */
export function only(effects: readonly Effect[], type: string): Record<string, unknown> {
  const found = effects.filter((e) => e.type === type);
  check(found.length === 1, () => `expected exactly one ${type} effect, got ${found.length}: ${stable(effects)}`);
  return found[0]!.params;
}

/**
 * Registers the tests every machine's model suite has: one per configuration (every generated
 * path satisfies the oracle after each step) and one for coverage (every state node visited, every
 * transition taken). Returns `run`, memoised per configuration, for the suite's own extra tests.
 */
export function describeModelRuns<C>(
  machineName: string,
  machine: AnyStateMachine,
  configs: readonly ModelConfig[],
  oracle: Oracle<C>,
): { coverage: Coverage; run: (config: ModelConfig) => ModelRun } {
  const coverage = new Coverage(machine);
  const runs = new Map<string, ModelRun>();
  const run = (config: ModelConfig): ModelRun => {
    let r = runs.get(config.name);
    if (!r) {
      r = runModel<C>(machine, config, oracle, coverage);
      runs.set(config.name, r);
    }
    return r;
  };
  for (const config of configs) {
    it(`${config.name}: every generated path satisfies the oracle after each step`, () => {
      const r = run(config);
      expect(r.paths).toBeGreaterThan(0);
      expect(r.failures).toEqual([]);
      // The runtime runs this machine compiled: every replayed step was checked against xstate's.
      expect(r.twinSteps).toBe(r.steps + r.probes);
    });
  }
  it('the paths visit every state node and take every transition', () => {
    for (const config of configs) run(config);
    reportRuns(machineName, [...runs.values()], coverage);
    expect(coverage.missingStates()).toEqual([]);
    expect(coverage.missingTransitions()).toEqual([]);
  });
  return { coverage, run };
}
