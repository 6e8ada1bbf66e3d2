import {
  assign,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type AnyTransitionDefinition,
  type StateValue,
} from 'xstate';
import {
  MachineStepper,
  type RequestedEffect,
  type StepResult,
  type SteppedSnapshot,
  type Stepper,
} from './machine-stepper.js';

/*
 * Why this file exists: xstate's `machine.transition` is general (parallel regions, history,
 * children) and rebuilds a full snapshot (state value, tag set, node list) after every assign.
 * A task's life costs about 110 µs of it. The engine's machines use a small, regular subset:
 * compound and final states, guarded and eventless transitions, assign, enqueueActions and named
 * custom actions. For machines within that subset this stepper runs the SAME definition (the same
 * state nodes, transition objects, guard and action implementations, in the SCXML order xstate
 * uses) from plans computed once per (transition, active leaf). Machines outside the subset keep
 * xstate's stepper (`unsupportedFeature` reads the whole definition first; see `stepperFor`).
 * test/model/* and test/stepper-twin.test.ts run both in lockstep and require identical state,
 * context, status, tags and effects after each step.
 *
 * It reads xstate internals (state nodes' `transitions`, `order`, `initial`, an assign's
 * `assignment`, an enqueueActions' `collect`, a built-in's `resolve`, a guard's `check`): xstate is
 * pinned to an exact version in package.json and test/stepper-xstate-contract.test.ts fails with
 * the name of whatever changed shape.
 */

/** A state node with what a step needs, computed once. */
export interface CompiledNode {
  readonly sn: AnyStateNode;
  readonly parent: CompiledNode | undefined;
  readonly order: number;
  /** Active configuration when this is the leaf: itself, then its ancestors up to the root. */
  readonly chain: readonly CompiledNode[];
  readonly value: StateValue;
  readonly tags: ReadonlySet<string>;
  readonly candidates: Map<string, readonly AnyTransitionDefinition[]>;
}

interface Plan {
  readonly exit: readonly CompiledNode[];
  readonly enter: ReadonlyArray<{ node: CompiledNode; defaultEntry: boolean }>;
  readonly leaf: CompiledNode;
}

/** A snapshot of a compiled machine: the active leaf and the context. */
export class CompiledSnapshot implements SteppedSnapshot {
  constructor(
    /** @internal */ readonly leaf: CompiledNode,
    readonly context: any, // eslint-disable-line @typescript-eslint/no-explicit-any -- the machine's own context type
    readonly status: SteppedSnapshot['status'],
  ) {}

  get value(): StateValue {
    return this.leaf.value;
  }

  hasTag(tag: string): boolean {
    return this.leaf.tags.has(tag);
  }
}

/** A snapshot xstate left in error (a step handed over to it); the compiled steps never make one. */
class FailedSnapshot extends CompiledSnapshot {
  constructor(
    leaf: CompiledNode,
    context: unknown,
    readonly error: unknown,
  ) {
    super(leaf, context, 'error');
  }
}

/** One macrostep in progress. */
interface Run {
  context: unknown;
  event: { type: string };
  leaf: CompiledNode;
  status: 'active' | 'done';
  changed: boolean;
  /**
   * The context is an object this run made: later assigns of the run may write into it. Whatever
   * ran before saw values, not this object (guards return booleans, params build their own
   * objects), and the snapshot stepped from still holds its own context.
   */
  owned: boolean;
  /** Assigns so far: an eventless transition that assigned is a change even in an owned context. */
  assigns: number;
  effects: RequestedEffect[];
  internal: Array<{ type: string }>;
  /** `{ context, event }` as guards and params get it, made again only when either changes. */
  args: { context: unknown; event: { type: string } } | null;
}

function newRun(context: unknown, event: { type: string }, leaf: CompiledNode): Run {
  return {
    context,
    event,
    leaf,
    status: 'active',
    changed: false,
    owned: false,
    assigns: 0,
    effects: [],
    internal: [],
    args: null,
  };
}

/**
 * The `{ context, event }` argument of guards and params: one object while neither changes. Like
 * the run's own context, it is read during the call, not kept (a later assign may change it).
 */
function argsOf(run: Run): { context: unknown; event: { type: string } } {
  const args = run.args;
  if (args !== null && args.context === run.context && args.event === run.event) return args;
  return (run.args = { context: run.context, event: run.event });
}

type CompiledAction = (run: Run) => void;
const NO_ACTIONS: readonly ActionLike[] = [];
type ActionLike = string | { type: string; params?: unknown } | ((...args: never[]) => unknown);
type GuardLike = string | { type: string; params?: unknown } | ((...args: never[]) => unknown);
type Builtin = ((...args: never[]) => unknown) & {
  type: string;
  assignment?: unknown;
  collect?: unknown;
  resolve?: unknown;
};

/**
 * Why `machine` cannot be compiled, or `undefined` when it can. Every state node is read: its
 * type, invocations, delayed transitions, outputs, and every guard and action list (entry, exit,
 * the initial transition's, each transition's, eventless and wildcard ones included), so a
 * machine outside the subset is refused before it runs (issue 12). What only shows when an action
 * runs (what an `enqueueActions` enqueues, a `spawn` in an assign) is caught then, and that one
 * step is handed to xstate's own stepper (see `CompiledStepper.step`).
 */
export function unsupportedFeature(machine: AnyStateMachine): string | undefined {
  const visit = (sn: AnyStateNode): string | undefined => {
    if (sn.type === 'parallel' || sn.type === 'history') return `${sn.type} state ${sn.id}`;
    if (sn.invoke.length > 0) return `invoke in ${sn.id}`;
    if ((sn.config as { after?: unknown }).after !== undefined) return `after in ${sn.id}`;
    if (sn.output !== undefined) return `output in ${sn.id}`;
    if (!sn.parent) {
      const maxIterations = (machine as { options?: { maxIterations?: number } }).options?.maxIterations;
      if (maxIterations !== undefined && maxIterations !== Infinity) return `options.maxIterations (${maxIterations})`;
    }
    const lists: Array<[string, readonly ActionLike[]]> = [
      [`entry of ${sn.id}`, sn.entry as ActionLike[]],
      [`exit of ${sn.id}`, sn.exit as ActionLike[]],
    ];
    if (sn.type === 'compound') lists.push([`the initial transition of ${sn.id}`, sn.initial.actions as ActionLike[]]);
    for (const [descriptor, ts] of sn.transitions as Map<string, AnyTransitionDefinition[]>) {
      for (const t of ts) lists.push([`a transition on ${descriptor} in ${sn.id}`, t.actions as ActionLike[]]);
    }
    for (const t of sn.always ?? []) lists.push([`an eventless transition in ${sn.id}`, t.actions as ActionLike[]]);
    for (const [where, actions] of lists) {
      for (const action of actions) {
        const builtin = unsupportedBuiltin(machine, action);
        if (builtin !== undefined) return `the built-in action ${builtin} in ${where}`;
      }
    }
    const transitions = [...sn.transitions.values()].flat().concat(sn.always ?? []);
    for (const t of transitions) {
      if ((t.target?.length ?? 0) > 1) return `a transition with several targets in ${sn.id}`;
      if (t.guard !== undefined && isBuiltinGuard(machine, t.guard as GuardLike)) return `a built-in guard in ${sn.id}`;
      // Re-entering from the root exits the root itself; nothing here needs it.
      if (t.reenter && !sn.parent) return `a re-entering transition on the root`;
    }
    for (const child of Object.values(sn.states)) {
      const found = visit(child);
      if (found) return found;
    }
    return undefined;
  };
  return visit(machine.root);
}

/** Built-in actions this stepper carries out itself; any other built-in is xstate's to run. */
const SUPPORTED_BUILTINS: ReadonlySet<string> = new Set(['xstate.assign', 'xstate.enqueueActions']);

/** The type of `action` when it is a built-in this stepper does not carry out (raise, sendTo, log, ...). */
function unsupportedBuiltin(machine: AnyStateMachine, action: ActionLike): string | undefined {
  const resolved =
    typeof action === 'function'
      ? action
      : machine.implementations.actions[typeof action === 'string' ? action : action.type];
  // A named action without implementation, or with a plain function, is an effect.
  if (typeof resolved !== 'function' || !('resolve' in resolved)) return undefined;
  const type = (resolved as Builtin).type;
  return SUPPORTED_BUILTINS.has(type) ? undefined : type;
}

function isBuiltinGuard(machine: AnyStateMachine, guard: GuardLike): boolean {
  const resolved =
    typeof guard === 'function'
      ? guard
      : machine.implementations.guards[typeof guard === 'string' ? guard : guard.type];
  return typeof resolved !== 'function' || 'check' in resolved;
}

/**
 * Thrown inside a step when an action turns out to need what this stepper does not implement
 * (only dynamic cases: the static ones are refused by `unsupportedFeature`). Nothing of the step
 * has taken effect yet (a step only builds new values), so the step is run again by xstate.
 */
class OutsideSubset extends Error {}

/**
 * The methods of xstate's `enqueue` (beside `enqueue(action)` and `enqueue.assign`) whose actions
 * this stepper leaves to xstate. @internal Exported for test/stepper-xstate-contract.test.ts.
 */
export const ENQUEUE_HANDED_OVER = [
  'cancel',
  'raise',
  'sendTo',
  'sendParent',
  'spawnChild',
  'stopChild',
  'emit',
] as const;

const noSpawn = (): never => {
  throw new OutsideSubset('spawning children');
};

/** Steps a machine of the supported subset from precomputed plans; see the note at the top. */
export class CompiledStepper implements Stepper<CompiledSnapshot> {
  readonly machine: AnyStateMachine;
  private readonly nodes = new Map<AnyStateNode, CompiledNode>();
  private readonly plans = new Map<AnyTransitionDefinition, Map<CompiledNode, Plan>>();
  private readonly rootNode: CompiledNode;
  /** Action lists of the definition (entry, exit, transition actions) as compiled actions. */
  private readonly compiledActions = new WeakMap<readonly ActionLike[], CompiledAction[]>();
  private startPlan: Plan | undefined;
  /** xstate's stepper for the steps this one hands over (see `OutsideSubset`); made when first needed. */
  private xstateStepper: MachineStepper | undefined;

  constructor(machine: AnyStateMachine) {
    const why = unsupportedFeature(machine);
    if (why !== undefined) throw new Error(`machine ${machine.id} cannot be compiled: it uses ${why}`);
    this.machine = machine;
    this.rootNode = this.index(machine.root, undefined);
  }

  initial(input: unknown): StepResult<CompiledSnapshot> {
    try {
      return this.compiledInitial(input);
    } catch (error) {
      if (!(error instanceof OutsideSubset)) throw error;
      return this.fromXstate(this.xstate().initial(input));
    }
  }

  private compiledInitial(input: unknown): StepResult<CompiledSnapshot> {
    const event = { type: 'xstate.init', input };
    const config = this.machine.config as { context?: unknown };
    const run = newRun(typeof config.context === 'function' ? {} : (config.context ?? {}), event, this.rootNode);
    if (typeof config.context === 'function') {
      // As xstate does, the factory's result is assigned: a shallow copy, the run's own.
      const factory = config.context as (args: { input: unknown; spawn: unknown; self: unknown }) => object;
      run.context = { ...factory({ input, spawn: noSpawn, self: undefined }) };
      run.owned = true;
      run.assigns += 1;
      run.changed = true;
    }
    this.take(this.initialPlan(), NO_ACTIONS, run);
    this.settle(run);
    return { snapshot: new CompiledSnapshot(run.leaf, run.context, run.status), effects: run.effects };
  }

  /** The root and its default descendants, entered as by a transition from outside; made once. */
  private initialPlan(): Plan {
    if (this.startPlan === undefined) {
      const enter: Array<{ node: CompiledNode; defaultEntry: boolean }> = [];
      for (let n: CompiledNode | undefined = this.rootNode; n; n = this.initialChild(n))
        enter.push({ node: n, defaultEntry: true });
      this.startPlan = { exit: [], enter, leaf: enter[enter.length - 1]!.node };
    }
    return this.startPlan;
  }

  step(snapshot: CompiledSnapshot, event: { type: string }): StepResult<CompiledSnapshot> | undefined {
    if (snapshot.status !== 'active') return undefined;
    try {
      return this.compiledStep(snapshot, event);
    } catch (error) {
      if (!(error instanceof OutsideSubset)) throw error;
      // The stored form (value and context) is all a snapshot of this subset holds: xstate steps
      // from it exactly as it would from its own snapshot.
      const xstate = this.xstate();
      const result = xstate.step(xstate.restore(snapshot.value, snapshot.context), event);
      return result === undefined ? undefined : this.fromXstate(result);
    }
  }

  private xstate(): MachineStepper {
    return (this.xstateStepper ??= new MachineStepper(this.machine));
  }

  /** xstate's result as a compiled snapshot. */
  private fromXstate(result: StepResult<AnyMachineSnapshot>): StepResult<CompiledSnapshot> {
    const x = result.snapshot;
    const restored = this.restore(x.value, x.context);
    // A stop event stops, an error event nobody handles fails: as xstate's own snapshot says.
    const snapshot =
      x.status === 'error'
        ? new FailedSnapshot(restored.leaf, x.context, x.error)
        : x.status === 'stopped'
          ? new CompiledSnapshot(restored.leaf, x.context, 'stopped')
          : restored;
    return { snapshot, effects: result.effects };
  }

  private compiledStep(snapshot: CompiledSnapshot, event: { type: string }): StepResult<CompiledSnapshot> | undefined {
    const type = event.type;
    let transition: AnyTransitionDefinition | undefined;
    const run = newRun(snapshot.context, event, snapshot.leaf);
    if (type.startsWith('xstate.')) {
      // xstate stops on xstate.stop and fails on an error event no transition takes; it takes no
      // transition for xstate.init, only eventless ones.
      if (type === 'xstate.stop' || type.startsWith('xstate.error.')) throw new OutsideSubset(type);
      if (type !== 'xstate.init') transition = this.select(run);
    } else transition = this.select(run);
    if (transition) this.microstep(transition, run);
    this.settle(run);
    if (!run.changed && run.effects.length === 0) return undefined;
    return { snapshot: new CompiledSnapshot(run.leaf, run.context, run.status), effects: run.effects };
  }

  restore(value: unknown, context: unknown): CompiledSnapshot {
    let node = this.rootNode;
    // A machine of one state (no children) has xstate's value `{}`; its name was stored for it
    // before that was fixed, and means the same.
    if (Object.keys(node.sn.states).length === 0) return new CompiledSnapshot(node, context ?? {}, 'active');
    let rest = value as StateValue;
    for (;;) {
      const key = typeof rest === 'string' ? rest : Object.keys(rest)[0];
      const child = key === undefined ? undefined : node.sn.states[key];
      if (!child) throw new Error(`state ${JSON.stringify(value)} does not exist in machine ${this.machine.id}`);
      node = this.node(child);
      if (typeof rest === 'string') break;
      rest = (rest as Record<string, StateValue>)[key as string] as StateValue;
    }
    while (node.sn.type === 'compound') node = this.initialChild(node) as CompiledNode;
    return new CompiledSnapshot(node, context ?? {}, this.isRootFinal(node) ? 'done' : 'active');
  }

  // -------------------------------------------------------------------------------------------
  // The macrostep: the event's transition, then eventless transitions and internal events

  private settle(run: Run): void {
    let selectEventless = true;
    while (run.status === 'active') {
      let transition = selectEventless ? this.selectEventless(run) : undefined;
      if (!transition) {
        const next = run.internal.shift();
        if (!next) break;
        run.event = next;
        transition = this.select(run);
        selectEventless = true;
        if (transition) this.microstep(transition, run);
        continue;
      }
      // An eventless transition that changes nothing would be selected again forever; xstate
      // stops selecting eventless transitions then, and so does this.
      const leafBefore = run.leaf;
      const assignsBefore = run.assigns;
      this.microstep(transition, run);
      selectEventless = run.leaf !== leafBefore || run.assigns !== assignsBefore;
    }
  }

  private select(run: Run): AnyTransitionDefinition | undefined {
    for (const node of run.leaf.chain) {
      const candidates = this.candidatesOf(node, run.event.type);
      for (const t of candidates) {
        if (t.guard === undefined || this.guard(t.guard as GuardLike, run, node)) return t;
      }
    }
    return undefined;
  }

  private selectEventless(run: Run): AnyTransitionDefinition | undefined {
    for (const node of run.leaf.chain) {
      for (const t of node.sn.always ?? []) {
        if (t.guard === undefined || this.guard(t.guard as GuardLike, run, node)) return t;
      }
    }
    return undefined;
  }

  private microstep(transition: AnyTransitionDefinition, run: Run): void {
    let byLeaf = this.plans.get(transition);
    if (!byLeaf) this.plans.set(transition, (byLeaf = new Map()));
    let plan = byLeaf.get(run.leaf);
    if (!plan) byLeaf.set(run.leaf, (plan = this.plan(transition, run.leaf)));
    this.take(plan, transition.actions as ActionLike[], run);
  }

  private take(plan: Plan, actions: readonly ActionLike[], run: Run): void {
    for (const node of plan.exit) this.act(node.sn.exit as ActionLike[], run);
    this.act(actions, run);
    for (const { node, defaultEntry } of plan.enter) {
      this.act(node.sn.entry as ActionLike[], run);
      if (defaultEntry && node.sn.type === 'compound') this.act(node.sn.initial.actions as ActionLike[], run);
      if (node.sn.type === 'final' && node.parent) {
        if (node.parent === this.rootNode) {
          run.leaf = plan.leaf;
          run.status = 'done';
          run.changed = true;
          // A machine that reaches its final state exits every active state, deepest first.
          for (const active of plan.leaf.chain) this.act(active.sn.exit as ActionLike[], run);
          return;
        }
        run.internal.push({ type: `xstate.done.state.${node.parent.sn.id}`, output: undefined } as { type: string });
      }
    }
    if (plan.leaf !== run.leaf) {
      run.leaf = plan.leaf;
      run.changed = true;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Actions and guards, resolved as xstate resolves them

  private act(actions: readonly ActionLike[], run: Run): void {
    let compiled = this.compiledActions.get(actions);
    if (compiled === undefined) {
      compiled = actions.map((action) => this.compileAction(action));
      this.compiledActions.set(actions, compiled);
    }
    for (let i = 0; i < compiled.length; i++) (compiled[i] as CompiledAction)(run);
  }

  /**
   * An action resolved once (its implementation, whether it is built in, how its params come):
   * what is left for each run is the call. Errors (an unsupported built-in) still come when the
   * action runs, as they would in xstate.
   */
  private compileAction(action: ActionLike): CompiledAction {
    if (typeof action === 'function') {
      if ('resolve' in action) return (run) => this.builtin(action as Builtin, undefined, run);
      const type = action.name || '(anonymous)';
      return (run) => void run.effects.push({ type, params: {} });
    }
    const type = typeof action === 'string' ? action : action.type;
    const impl = this.machine.implementations.actions[type] as Builtin | undefined;
    const source = typeof action === 'string' || !('params' in action) ? undefined : action.params;
    const params: (run: Run) => unknown =
      typeof source === 'function' ? (run) => (source as (a: unknown) => unknown)(argsOf(run)) : () => source;
    if (impl !== undefined && 'resolve' in impl) return (run) => this.builtin(impl, params(run), run);
    return (run) => void run.effects.push({ type, params: (params(run) ?? {}) as Record<string, unknown> });
  }

  private builtin(action: Builtin, params: unknown, run: Run): void {
    if (action.type === 'xstate.assign') {
      const assignment = action.assignment as ((a: unknown, p: unknown) => object) | Record<string, unknown>;
      const args = { context: run.context, event: run.event, spawn: noSpawn, self: undefined, system: undefined };
      let partial: Record<string, unknown>;
      if (typeof assignment === 'function') partial = assignment(args, params) as Record<string, unknown>;
      else {
        partial = {};
        for (const key of Object.keys(assignment)) {
          const p = assignment[key];
          partial[key] = typeof p === 'function' ? (p as (a: unknown, q: unknown) => unknown)(args, params) : p;
        }
      }
      // One copy per step, not per assign: the run's own copy takes the later assigns in place.
      if (run.owned) Object.assign(run.context as object, partial);
      else {
        // A spread copies a context on V8's fast path; Object.assign({}, a, b) does not.
        run.context = Object.assign({ ...(run.context as object) }, partial);
        run.owned = true;
      }
      run.assigns += 1;
      run.changed = true;
      return;
    }
    if (action.type === 'xstate.enqueueActions') {
      const queued: ActionLike[] = [];
      const enqueue = Object.assign((a: ActionLike) => void queued.push(a), {
        assign: (...args: Parameters<typeof assign>) => void queued.push(assign(...args) as unknown as ActionLike),
      });
      for (const name of ENQUEUE_HANDED_OVER) {
        (enqueue as unknown as Record<string, unknown>)[name] = () => {
          throw new OutsideSubset(`enqueue.${name}`);
        };
      }
      const check = (guard: GuardLike): boolean => this.guard(guard, run, undefined);
      (action.collect as (a: unknown, p: unknown) => void)(
        { context: run.context, event: run.event, enqueue, check, self: undefined, system: undefined },
        params,
      );
      for (const queuedAction of queued) this.compileAction(queuedAction)(run);
      return;
    }
    // Only reachable through enqueueActions: the definition's own lists were checked up front.
    throw new OutsideSubset(`the built-in action ${action.type}`);
  }

  private guard(guard: GuardLike, run: Run, node: CompiledNode | undefined): boolean {
    const inline = typeof guard === 'function';
    const impl = inline ? guard : this.machine.implementations.guards[typeof guard === 'string' ? guard : guard.type];
    if (typeof impl !== 'function' || 'check' in impl) {
      // Only reachable through an enqueueActions' check: transition guards were checked up front.
      throw new OutsideSubset(`the built-in guard ${typeof guard === 'object' ? guard.type : String(guard)}`);
    }
    const args = argsOf(run);
    const params =
      inline || typeof guard === 'string' || !('params' in guard)
        ? undefined
        : typeof guard.params === 'function'
          ? (guard.params as (a: unknown) => unknown)(args)
          : guard.params;
    try {
      return Boolean((impl as (a: unknown, p: unknown) => unknown)(args, params));
    } catch (error) {
      if (node === undefined) throw error;
      const name = typeof guard === 'string' ? `'${guard}' ` : typeof guard === 'object' ? `'${guard.type}' ` : '';
      throw new Error(
        `Unable to evaluate guard ${name}in transition for event '${run.event.type}' in state node '${node.sn.id}':\n${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Compilation: nodes, candidates and plans

  private index(sn: AnyStateNode, parent: CompiledNode | undefined): CompiledNode {
    const chain: CompiledNode[] = [];
    const node: CompiledNode = {
      sn,
      parent,
      order: sn.order,
      chain,
      value: valueOf(sn),
      tags: new Set([...(parent ? parent.tags : []), ...sn.tags]),
      candidates: new Map(),
    };
    chain.push(node, ...(parent ? parent.chain : []));
    this.nodes.set(sn, node);
    for (const child of Object.values(sn.states)) this.index(child, node);
    return node;
  }

  private node(sn: AnyStateNode): CompiledNode {
    const node = this.nodes.get(sn);
    if (!node) throw new Error(`state node ${sn.id} is not part of machine ${this.machine.id}`);
    return node;
  }

  private initialChild(node: CompiledNode): CompiledNode | undefined {
    if (node.sn.type !== 'compound') return undefined;
    return this.node(node.sn.initial.target[0] as AnyStateNode);
  }

  private isRootFinal(node: CompiledNode): boolean {
    return node.sn.type === 'final' && node.parent === this.rootNode;
  }

  /** Exact event type first, then wildcard descriptors, longest first (as xstate orders them). */
  private candidatesOf(node: CompiledNode, eventType: string): readonly AnyTransitionDefinition[] {
    let found = node.candidates.get(eventType);
    if (found === undefined) {
      const transitions = node.sn.transitions as Map<string, AnyTransitionDefinition[]>;
      const wildcard = [...transitions.keys()]
        .filter((d) => d !== eventType && matchesDescriptor(eventType, d))
        .sort((a, b) => b.length - a.length)
        .flatMap((d) => transitions.get(d) ?? []);
      found = [...(transitions.get(eventType) ?? []), ...wildcard];
      node.candidates.set(eventType, found);
    }
    return found;
  }

  /** SCXML's exit and entry sets for one transition taken from one active leaf (no parallel, no history). */
  private plan(transition: AnyTransitionDefinition, leaf: CompiledNode): Plan {
    const targetSn = transition.target?.[0];
    if (targetSn === undefined) return { exit: [], enter: [], leaf };
    const source = this.node(transition.source);
    const target = this.node(targetSn);
    const reenter = transition.reenter === true;
    const isDescendant = (n: CompiledNode, of: CompiledNode | undefined): boolean =>
      of !== undefined && n !== of && n.chain.includes(of);
    let domain: CompiledNode | undefined;
    if (!reenter && (target === source || isDescendant(target, source))) domain = source;
    else
      domain = target.chain.slice(1).find((anc) => isDescendant(source, anc)) ?? (reenter ? undefined : this.rootNode);

    const exit = leaf.chain.filter((n) => isDescendant(n, domain) || (reenter && n === domain && source === domain));
    const enter = new Map<CompiledNode, boolean>();
    if (target !== source || source !== domain || reenter) enter.set(target, true);
    for (let n = this.initialChild(target); n; n = this.initialChild(n)) enter.set(n, true);
    const reentrancyDomain = !source.parent && reenter ? undefined : domain;
    for (const anc of target.chain.slice(1)) {
      if (anc === domain) break;
      if ((!reentrancyDomain || isDescendant(anc, reentrancyDomain)) && !enter.has(anc)) enter.set(anc, false);
    }
    const entered = [...enter.entries()]
      .map(([node, defaultEntry]) => ({ node, defaultEntry }))
      .sort((a, b) => a.node.order - b.node.order);
    const remaining = leaf.chain.filter((n) => !exit.includes(n));
    const config = [...remaining, ...entered.map((e) => e.node)];
    const nextLeaf = config.reduce((deepest, n) => (n.chain.length > deepest.chain.length ? n : deepest));
    return { exit: exit.sort((a, b) => b.order - a.order), enter: entered, leaf: nextLeaf };
  }
}

function valueOf(sn: AnyStateNode): StateValue {
  // The root is a leaf only in a machine of one state: xstate's value for it is `{}`.
  if (!sn.parent) return {};
  // A leaf's value is its path, nested from the top.
  let value: StateValue = sn.key;
  for (let p = sn.parent; p && p.parent; p = p.parent) value = { [p.key]: value };
  return value;
}

function matchesDescriptor(eventType: string, descriptor: string): boolean {
  if (descriptor === eventType || descriptor === '*') return true;
  if (!descriptor.endsWith('.*')) return false;
  const partial = descriptor.split('.');
  const tokens = eventType.split('.');
  for (let i = 0; i < partial.length; i++) {
    if (partial[i] === '*') return i === partial.length - 1;
    if (partial[i] !== tokens[i]) return false;
  }
  return true;
}

/** The fastest stepper that runs `machine` exactly: the compiled one when its features allow. */
export function stepperFor(machine: AnyStateMachine, make: (m: AnyStateMachine) => Stepper): Stepper {
  return unsupportedFeature(machine) === undefined ? new CompiledStepper(machine) : make(machine);
}
