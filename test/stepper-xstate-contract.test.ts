/**
 * What the steppers read of xstate beyond its documented API, checked against the installed
 * xstate. src/core/stepper/compiled-stepper.ts runs machine definitions itself from their state
 * nodes and action objects; src/core/stepper/machine-stepper.ts borrows an actor's internal scope;
 * test/model/helpers.ts reads inspection internals. xstate is pinned to an exact version in
 * package.json: before moving the pin, run this file; a failure names what changed shape and who
 * reads it. (That both steppers still agree in behaviour is test/stepper-twin.test.ts's job.)
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'vitest';
import {
  assign,
  createActor,
  enqueueActions,
  not,
  raise,
  setup,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type AnyTransitionDefinition,
  type InspectionEvent,
} from 'xstate';
import { ENQUEUE_HANDED_OVER } from '../src/core/stepper/compiled-stepper.js';

const installed = (createRequire(import.meta.url)('xstate/package.json') as { version: string }).version;
const pinned = (JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> })
  .dependencies.xstate;

const COMPILED = 'src/core/stepper/compiled-stepper.ts';
const MACHINE = 'src/core/stepper/machine-stepper.ts';
const MODEL = 'test/model/helpers.ts';

/** Not a type guard: the values are read as records of properties too. */
const isFunction = (value: unknown): boolean => typeof value === 'function';

/** Fails with the name of the internal, who reads it, and what to do. */
function contract(holds: boolean, internal: string, reader: string, found?: unknown): void {
  if (holds) return;
  const seen = found === undefined ? '' : ` (found: ${shown(found)})`;
  throw new Error(
    `xstate ${installed} does not match what the steppers read: ${internal}${seen}. ${reader} reads it: adapt it, and this test, before moving the xstate pin in package.json.`,
  );
}

function shown(value: unknown): string {
  if (typeof value === 'function') return `a function with keys ${JSON.stringify(Object.keys(value))}`;
  if (value instanceof Map) return `a Map with keys ${JSON.stringify([...value.keys()])}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** One machine with every construct the compiled stepper reads. */
const probeAssign = assign({ n: ({ context }: { context: { n: number } }) => context.n + 1 } as never);
const probeObjectAssign = { n: 5 };
const probeCollect = ({ enqueue }: { enqueue: (a: { type: string; params?: unknown }) => void }) =>
  enqueue({ type: 'effect', params: { from: 'enqueue' } });
const probeContext = ({ input }: { input: { n: number } }) => ({ n: input.n });
// Typed loosely: the point is the shape xstate builds from it, not the config's types.
const machine = setup({
  actions: { effect: () => undefined, bump: probeAssign, objectAssign: assign(probeObjectAssign as never) },
  guards: { small: ({ context }: { context: { n: number } }) => context.n < 10 },
} as never).createMachine({
  id: 'probe',
  context: probeContext,
  initial: 'outer',
  states: {
    outer: {
      tags: ['busy'],
      entry: { type: 'effect', params: { from: 'entry' } },
      exit: ['bump'],
      initial: 'work',
      states: {
        work: {
          on: { finish: 'done', 'x.*': { target: 'work', reenter: true } },
          always: { guard: not('small'), target: 'done' },
        },
        done: { type: 'final' },
      },
      onDone: 'end',
      on: {
        go: { guard: 'small', actions: ['bump', enqueueActions(probeCollect as never)] },
        '*': { actions: 'objectAssign' },
      },
    },
    end: { type: 'final' },
  },
} as never) as unknown as AnyStateMachine;

const root = machine.root;
const outer = root.states.outer as AnyStateNode;
const work = outer.states.work as AnyStateNode;
const transitionsOf = (sn: AnyStateNode) => sn.transitions as unknown as Map<string, AnyTransitionDefinition[]>;

describe(`xstate ${installed}: the internals the steppers read`, () => {
  it('is the exact version package.json pins', () => {
    if (!/^\d+\.\d+\.\d+$/.test(pinned ?? '')) {
      throw new Error(
        `package.json must pin xstate to an exact version (the steppers read its internals), found "${pinned}"`,
      );
    }
    if (installed !== pinned)
      throw new Error(
        `xstate ${installed} is installed but package.json pins ${pinned}: run npm ci, or update the pin after this test passes`,
      );
  });

  it('state nodes: type, key, id, parent, states, order, tags, entry, exit, initial, invoke, output, config', () => {
    contract(root.parent === undefined && outer.parent === root && work.parent === outer, 'StateNode.parent', COMPILED);
    contract(
      root.states.outer === outer && typeof root.states === 'object',
      'StateNode.states',
      COMPILED,
      Object.keys(root.states),
    );
    contract(outer.key === 'outer' && work.id === 'probe.outer.work', 'StateNode.key / StateNode.id', COMPILED, [
      work.key,
      work.id,
    ]);
    contract(
      outer.type === 'compound' && work.type === 'atomic' && (outer.states.done as AnyStateNode).type === 'final',
      'StateNode.type',
      COMPILED,
      [outer.type, work.type],
    );
    // Document order: the compiled stepper sorts entries and exits by it.
    const orders = [root, outer, work, outer.states.done as AnyStateNode, root.states.end as AnyStateNode].map(
      (n) => n.order,
    );
    contract(
      orders.every((o, i) => typeof o === 'number' && (i === 0 || o > (orders[i - 1] as number))),
      'StateNode.order (document order)',
      COMPILED,
      orders,
    );
    contract(Array.isArray(outer.tags) && outer.tags.includes('busy'), 'StateNode.tags', COMPILED, outer.tags);
    contract(
      Array.isArray(outer.entry) && outer.entry.length === 1 && (outer.entry[0] as { type?: string }).type === 'effect',
      'StateNode.entry',
      COMPILED,
      outer.entry,
    );
    contract(Array.isArray(outer.exit) && outer.exit[0] === 'bump', 'StateNode.exit', COMPILED, outer.exit);
    const initial = outer.initial as unknown as { target?: unknown[]; actions?: unknown[] };
    contract(
      Array.isArray(initial.target) && initial.target[0] === work && Array.isArray(initial.actions),
      'StateNode.initial { target: StateNode[], actions }',
      COMPILED,
      Object.keys(initial),
    );
    contract(Array.isArray(outer.invoke) && outer.invoke.length === 0, 'StateNode.invoke', COMPILED, outer.invoke);
    contract(outer.output === undefined && 'output' in outer, 'StateNode.output', COMPILED);
    contract(
      typeof outer.config === 'object' && (outer.config as { initial?: unknown }).initial === 'work',
      'StateNode.config (where `after` is read)',
      COMPILED,
    );
    contract(
      (machine as { options?: { maxIterations?: number } }).options?.maxIterations === Infinity,
      'machine.options.maxIterations (default Infinity)',
      COMPILED,
      (machine as { options?: unknown }).options,
    );
  });

  it('transitions: a Map by descriptor (wildcards and done events included), always, target, source, guard, reenter, actions', () => {
    const map = transitionsOf(outer);
    contract(
      map instanceof Map,
      'StateNode.transitions (a Map of descriptor to TransitionDefinition[])',
      COMPILED,
      map,
    );
    contract(
      map.has('go') && map.has('*') && map.has('xstate.done.state.probe.outer'),
      'StateNode.transitions keys (event types, "*", "xstate.done.state.<id>")',
      COMPILED,
      map,
    );
    const go = map.get('go')?.[0] as AnyTransitionDefinition;
    contract(
      go.source === outer && go.target === undefined && go.guard === 'small' && go.reenter === false,
      'TransitionDefinition { source, target, guard, reenter }',
      COMPILED,
      { target: go.target, guard: go.guard, reenter: go.reenter },
    );
    contract(
      Array.isArray(go.actions) && go.actions[0] === 'bump',
      'TransitionDefinition.actions',
      COMPILED,
      go.actions,
    );
    const wild = transitionsOf(work).get('x.*')?.[0] as AnyTransitionDefinition;
    contract(
      Array.isArray(wild?.target) && wild.target[0] === work && wild.reenter === true,
      'TransitionDefinition.target (StateNode[]) / reenter',
      COMPILED,
      wild?.target,
    );
    const always = work.always as AnyTransitionDefinition[] | undefined;
    contract(
      Array.isArray(always) && always.length === 1 && always[0]?.target?.[0] === outer.states.done,
      'StateNode.always',
      COMPILED,
      always,
    );
    contract(
      root.always === undefined || (Array.isArray(root.always) && root.always.length === 0),
      'StateNode.always when none',
      COMPILED,
      root.always,
    );
  });

  it('actions and guards: implementations, resolve, type, assignment, collect, check', () => {
    contract(
      typeof machine.implementations.actions === 'object' && typeof machine.implementations.guards === 'object',
      'machine.implementations { actions, guards }',
      COMPILED,
    );
    const bump = machine.implementations.actions.bump as unknown as Record<string, unknown>;
    contract(
      isFunction(bump) && 'resolve' in bump && bump.type === 'xstate.assign',
      'a built-in action: a function with resolve and type "xstate.assign"',
      COMPILED,
      bump,
    );
    contract(
      (probeAssign as unknown as { assignment?: unknown }).assignment !== undefined &&
        typeof (probeAssign as unknown as { assignment: unknown }).assignment === 'object',
      'assign(...).assignment (the assigner object)',
      COMPILED,
    );
    const objectAssign = machine.implementations.actions.objectAssign as unknown as { assignment?: unknown };
    contract(
      objectAssign.assignment === probeObjectAssign,
      'assign({...}).assignment (the very object given)',
      COMPILED,
      objectAssign.assignment,
    );
    const enqueue = (transitionsOf(outer).get('go')?.[0]?.actions as unknown[])[1] as Record<string, unknown>;
    contract(
      isFunction(enqueue) && enqueue.type === 'xstate.enqueueActions' && enqueue.collect === probeCollect,
      'enqueueActions(...) { type "xstate.enqueueActions", collect }',
      COMPILED,
      enqueue,
    );
    const raised = raise({ type: 'x' }) as unknown as Record<string, unknown>;
    contract(
      isFunction(raised) && 'resolve' in raised && raised.type === 'xstate.raise',
      'raise(...) { resolve, type "xstate.raise" }',
      COMPILED,
      raised,
    );
    const builtinGuard = not('small') as unknown as Record<string, unknown>;
    contract(
      isFunction(builtinGuard) && 'check' in builtinGuard,
      'a built-in guard: a function with check',
      COMPILED,
      builtinGuard,
    );
    const named = machine.implementations.guards.small as unknown as Record<string, unknown>;
    contract(isFunction(named) && !('check' in named), 'a named guard: a plain function', COMPILED, named);
    contract(
      machine.config.context === probeContext,
      'machine.config.context (the context factory as given)',
      COMPILED,
    );
  });

  it("enqueueActions: the enqueue object's methods and check, as a running actor hands them", () => {
    let seen: string[] = [];
    let checkType = '';
    const m = setup({}).createMachine({
      entry: enqueueActions(({ enqueue, check }) => {
        seen = Object.keys(enqueue).sort();
        checkType = typeof check;
      }),
    });
    createActor(m).start().stop();
    const ours = ['assign', ...ENQUEUE_HANDED_OVER].sort();
    contract(
      JSON.stringify(seen) === JSON.stringify(ours),
      `the methods of enqueue (the compiled stepper builds ${JSON.stringify(ours)})`,
      COMPILED,
      seen,
    );
    contract(checkType === 'function', 'enqueueActions check', COMPILED, checkType);
  });

  it('actor scope: createActor(machine)._actorScope with a replaceable actionExecutor, getInitialSnapshot, transition, resolveState', () => {
    const scope = (createActor(machine) as unknown as { _actorScope?: Record<string, unknown> })._actorScope;
    contract(typeof scope === 'object' && scope !== null, 'Actor._actorScope', MACHINE);
    contract(
      typeof scope?.actionExecutor === 'function',
      'Actor._actorScope.actionExecutor',
      MACHINE,
      scope && Object.keys(scope),
    );
    const got: Array<{ type: string; params?: unknown }> = [];
    (scope as { actionExecutor: unknown }).actionExecutor = (action: { type: string; params?: unknown }) =>
      void got.push(action);
    const first = machine.getInitialSnapshot(scope as never, { n: 1 }) as AnyMachineSnapshot;
    contract(
      first.status === 'active' && first.context.n === 1 && JSON.stringify(first.value) === '{"outer":"work"}',
      'machine.getInitialSnapshot(scope, input)',
      MACHINE,
      first.value,
    );
    contract(
      got.length === 1 && got[0]?.type === 'effect' && JSON.stringify(got[0]?.params) === '{"from":"entry"}',
      'the actionExecutor call { type, params } of a custom action',
      MACHINE,
      got,
    );
    got.length = 0;
    const next = machine.transition(first, { type: 'go' }, scope as never) as AnyMachineSnapshot;
    contract(
      next !== first && next.context.n === 2 && got.length === 1,
      'machine.transition(snapshot, event, scope) runs actions through the scope',
      MACHINE,
      got,
    );
    contract(
      machine.transition(next, { type: 'nothing.at.all' } as never, scope as never) !== undefined,
      'machine.transition',
      MACHINE,
    );
    const raiser = setup({}).createMachine({ on: { go: { actions: raise({ type: 'x' }) } } });
    const raiserScope = (createActor(raiser) as unknown as { _actorScope: { actionExecutor: unknown } })._actorScope;
    const raised: Array<{ type: string; params?: { delay?: unknown } }> = [];
    raiserScope.actionExecutor = (action: { type: string; params?: { delay?: unknown } }) => void raised.push(action);
    raiser.transition(raiser.getInitialSnapshot(raiserScope as never), { type: 'go' }, raiserScope as never);
    contract(
      raised.length === 1 && raised[0]?.type === 'xstate.raise' && raised[0]?.params?.delay === undefined,
      'the actionExecutor call of an undelayed raise { type "xstate.raise", params.delay undefined }',
      MACHINE,
      raised,
    );
    const restored = machine.resolveState({
      value: { outer: 'work' },
      context: { n: 3 },
    } as never) as AnyMachineSnapshot;
    contract(restored.context.n === 3 && restored.hasTag('busy'), 'machine.resolveState({ value, context })', MACHINE);
  });

  it('inspection: system.inspect, @xstate.microstep events with _transitions, snapshot._nodes', () => {
    const scope = (
      createActor(machine) as unknown as { _actorScope: { system?: { inspect?: unknown }; actionExecutor: unknown } }
    )._actorScope;
    contract(typeof scope.system?.inspect === 'function', 'Actor._actorScope.system.inspect', MODEL);
    const microsteps: InspectionEvent[] = [];
    (scope.system as { inspect(fn: (e: InspectionEvent) => void): void }).inspect((e) => {
      if (e.type === '@xstate.microstep') microsteps.push(e);
    });
    scope.actionExecutor = () => undefined;
    const first = machine.getInitialSnapshot(scope as never, { n: 1 }) as AnyMachineSnapshot;
    machine.transition(first, { type: 'finish' }, scope as never);
    const step = microsteps[microsteps.length - 1] as
      { _transitions?: unknown; snapshot?: { _nodes?: unknown } } | undefined;
    contract(
      Array.isArray(step?._transitions) && (step._transitions as unknown[]).length > 0,
      '@xstate.microstep inspection event ._transitions',
      MODEL,
      step && Object.keys(step),
    );
    contract(Array.isArray(first._nodes) && first._nodes.includes(work), 'MachineSnapshot._nodes', MODEL);
  });
});
