/**
 * The compiled stepper implements a subset of statecharts. A machine outside it is refused before
 * it runs and stepped by xstate's own algorithm instead; a step that only shows at run time that
 * it needs more (what an enqueueActions enqueues) is handed to xstate. Either way the machine
 * behaves as it does in a real xstate actor.
 */
import { describe, expect, it } from 'vitest';
import {
  and,
  assign,
  cancel,
  createActor,
  emit,
  enqueueActions,
  log,
  not,
  raise,
  sendTo,
  setup,
  spawnChild,
  stopChild,
  type AnyStateMachine,
  type EventObject,
} from 'xstate';
import { CompiledStepper, stepperFor, unsupportedFeature } from '../src/core/stepper/compiled-stepper.js';
import { MachineStepper, type SteppedSnapshot, type Stepper } from '../src/core/stepper/machine-stepper.js';
import { MachineRegistry } from '../src/engine/machine-registry.js';

/** Steps `stepper` and a started xstate actor with the same events; both must agree after each. */
function replayAgainstActor(
  stepper: Stepper,
  machine: AnyStateMachine,
  events: EventObject[],
): Array<{ type: string }> {
  const actor = createActor(machine).start();
  const effects: Array<{ type: string }> = [];
  const first = stepper.initial(undefined);
  effects.push(...first.effects);
  let snapshot: SteppedSnapshot = first.snapshot;
  const same = (what: string) => {
    const x = actor.getSnapshot();
    expect({ value: snapshot.value, context: snapshot.context, status: snapshot.status }, what).toEqual({
      value: x.value,
      context: x.context,
      status: x.status,
    });
  };
  same('after start');
  for (const event of events) {
    actor.send(event);
    const result = stepper.step(snapshot as never, event);
    if (result) {
      snapshot = result.snapshot;
      effects.push(...result.effects);
    }
    same(`after ${event.type}`);
  }
  actor.stop();
  return effects;
}

const counter = setup({
  types: { context: {} as { n: number; seen: string[] }, events: {} as { type: string } },
  actions: { effect: (_: unknown, _params: { n: number }) => undefined },
});

/** `raise` in a transition: the raised event is taken in the same macrostep. */
const raising = counter.createMachine({
  id: 'raising',
  context: { n: 0, seen: [] },
  initial: 'idle',
  states: {
    idle: {
      on: {
        go: { actions: [assign({ n: ({ context }) => context.n + 1 }), raise({ type: 'bounced' })] },
        bounced: { target: 'busy', actions: assign({ seen: ({ context }) => [...context.seen, 'bounced'] }) },
      },
    },
    busy: {
      entry: [{ type: 'effect', params: ({ context }) => ({ n: context.n }) }, raise({ type: 'settle' })],
      on: { settle: { target: 'idle', actions: assign({ seen: ({ context }) => [...context.seen, 'settled'] }) } },
    },
  },
});

describe('a machine outside the compiled subset', () => {
  it('is refused up front and stepped by xstate: raise(...) behaves as in an xstate actor', () => {
    expect(unsupportedFeature(raising)).toBe('the built-in action xstate.raise in a transition on go in raising.idle');
    expect(() => new CompiledStepper(raising)).toThrow(/cannot be compiled: it uses the built-in action xstate.raise/);
    const stepper = stepperFor(raising, (m) => new MachineStepper(m));
    expect(stepper).toBeInstanceOf(MachineStepper);
    // The runtime's registry makes the same choice.
    const registry = new MachineRegistry([
      { kind: 'raising', machineId: 'test.raising', version: 1, machine: raising },
    ]);
    expect(registry.get('raising').stepper).toBeInstanceOf(MachineStepper);

    const effects = replayAgainstActor(registry.get('raising').stepper, raising, [
      { type: 'go' },
      { type: 'go' },
      { type: 'none' },
    ]);
    // An undelayed raise has nothing left to carry out: only the machine's own effects come back.
    expect(effects).toEqual([
      { type: 'effect', params: { n: 1 } },
      { type: 'effect', params: { n: 2 } },
    ]);
  });

  const withBuiltin = (
    where: 'entry' | 'exit' | 'initial' | 'always' | 'wildcard',
    action: unknown,
  ): AnyStateMachine => {
    const a = action as never;
    return setup({}).createMachine({
      id: 'm',
      initial: 'p',
      states: {
        p: {
          initial: 'c',
          entry: where === 'entry' ? a : [],
          exit: where === 'exit' ? a : [],
          ...(where === 'initial' ? { initial: { target: 'c', actions: a } } : {}),
          on: where === 'wildcard' ? { '*': { actions: a } } : {},
          states: { c: where === 'always' ? { always: { guard: () => false, actions: a } } : {} },
        },
      },
    } as never) as unknown as AnyStateMachine;
  };

  it.each([
    ['entry', raise({ type: 'x' }), 'xstate.raise', 'entry of m.p'],
    ['exit', sendTo('someone', { type: 'x' }), 'xstate.sendTo', 'exit of m.p'],
    ['initial', log('hello'), 'xstate.log', 'the initial transition of m.p'],
    ['always', spawnChild('child'), 'xstate.spawnChild', 'an eventless transition in m.p.c'],
    ['wildcard', emit({ type: 'x' }), 'xstate.emit', 'a transition on * in m.p'],
    ['wildcard', cancel('id'), 'xstate.cancel', 'a transition on * in m.p'],
    ['entry', stopChild('child'), 'xstate.stopChild', 'entry of m.p'],
  ] as const)('refuses a built-in in %s: %s', (where, action, type, place) => {
    expect(unsupportedFeature(withBuiltin(where, action))).toBe(`the built-in action ${type} in ${place}`);
  });

  it('refuses a built-in bound by name in setup, and built-in guards', () => {
    const named = setup({ actions: { again: raise({ type: 'x' }) } }).createMachine({
      id: 'n',
      on: { go: { actions: 'again' } },
    });
    expect(unsupportedFeature(named)).toBe('the built-in action xstate.raise in a transition on go in n');
    const guarded = setup({ guards: { yes: () => true } }).createMachine({
      id: 'g',
      initial: 'a',
      states: { a: { on: { go: { guard: and(['yes', not('yes')]), target: 'b' } } }, b: {} },
    });
    expect(unsupportedFeature(guarded)).toBe('a built-in guard in g.a');
  });

  it('accepts what it implements: assign, enqueueActions, named and inline custom actions', () => {
    const m = setup({ actions: { named: () => undefined } }).createMachine({
      id: 'ok',
      context: { n: 0 },
      entry: [assign({ n: 1 }), 'named', function inline() {}],
      on: { go: { actions: enqueueActions(({ enqueue }) => enqueue('named')) } },
    });
    expect(unsupportedFeature(m)).toBeUndefined();
    expect(stepperFor(m, (x) => new MachineStepper(x))).toBeInstanceOf(CompiledStepper);
  });
});

describe('a step of a compiled machine that needs more than the subset', () => {
  const enqueuing = counter.createMachine({
    id: 'enqueuing',
    context: { n: 0, seen: [] },
    initial: 'idle',
    states: {
      idle: {
        on: {
          go: {
            actions: enqueueActions(({ context, enqueue }) => {
              enqueue.assign({ n: context.n + 1 });
              if (context.n % 2 === 1) enqueue.raise({ type: 'bounced' });
              enqueue({ type: 'effect', params: { n: context.n } });
            }),
          },
          bounced: { target: 'busy', actions: assign({ seen: ({ context }) => [...context.seen, 'bounced'] }) },
        },
      },
      busy: { on: { back: 'idle' } },
    },
  });

  it('is handed to xstate for that step: an enqueued raise behaves as in an xstate actor', () => {
    const stepper = stepperFor(enqueuing, (m) => new MachineStepper(m));
    expect(stepper).toBeInstanceOf(CompiledStepper);
    const effects = replayAgainstActor(stepper, enqueuing, [
      { type: 'go' },
      { type: 'go' },
      { type: 'back' },
      { type: 'go' },
    ]);
    expect(effects).toEqual([
      { type: 'effect', params: { n: 0 } },
      { type: 'effect', params: { n: 1 } },
      { type: 'effect', params: { n: 2 } },
    ]);
  });
});
