/**
 * The compiled stepper against xstate's own, in lockstep (test/support/twin-stepper.ts), on
 * every reachable snapshot with every event: the compiled machine of each built-in YAML pattern,
 * and small machines written to sit at the edge of the subset the compiled stepper implements.
 * The built-in task, agent, phase, ticket and coordination machines have their own lockstep
 * replays in test/model and test/coordination-model.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assign, enqueueActions, raise, setup, type EventObject } from 'xstate';
import { unsupportedFeature } from '../src/core/stepper/compiled-stepper.js';
import { checkPatternText } from '../src/features/patterns/check-pattern.js';
import type { CompiledPattern } from '../src/features/patterns/compile/compile.js';
import { traversalInput } from '../src/features/patterns/tools/test-paths.js';
import { exploreInLockstep } from './support/twin-stepper.js';

const BUILT_IN = readdirSync('patterns')
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('every built-in pattern: compiled stepper and xstate in lockstep', () => {
  it('finds the built-in patterns', () => {
    expect(BUILT_IN.length).toBeGreaterThanOrEqual(14);
  });

  it.each(BUILT_IN)('%s', (file) => {
    const compiled = checkPatternText(readFileSync(`patterns/${file}`, 'utf8'), `patterns/${file}`)
      .compiled as CompiledPattern;
    expect(unsupportedFeature(compiled.machine)).toBeUndefined();
    // Every event of the pattern from every reachable snapshot, the ones a state drops included.
    const events = [
      ...compiled.events,
      { type: 'pattern.signal', name: 'unknown' },
      { type: 'unrelated' },
    ] as EventObject[];
    const run = exploreInLockstep(compiled.machine, traversalInput(compiled.name), events);

    expect(run.states).toBeGreaterThan(compiled.events.length / 2);
    expect(run.applied).toBeGreaterThan(0);
    expect(run.steps).toBeGreaterThan(run.applied);
  });
});

/** A custom effect (`note`), with params naming where it ran; each machine declares it in `setup`. */
const note = (at: string) => ({
  type: 'note' as const,
  params: ({ context }: { context: object }) => ({ at, n: (context as { n?: number }).n ?? 0 }),
});
const effects = {
  note: (_: unknown, _params: { at: string; n: number }) => undefined,
  small: (_: unknown, _params: { why: string }) => undefined,
};

describe('machines at the edge of the subset: compiled stepper and xstate in lockstep', () => {
  const sends = (...types: string[]): EventObject[] => types.map((type) => ({ type }));

  // xstate.* events too: init takes no transition, stop stops, an error event fails unless a transition (here `*`) takes it.
  it('wildcards: exact before partial before *, longest partial first, falling through failed guards and up the ancestors', () => {
    const m = setup({
      types: { context: {} as { n: number; log: string[] }, events: {} as { type: string } },
      guards: { even: ({ context }) => context.n % 2 === 0, small: ({ context }) => context.n < 3 },
      actions: effects,
    }).createMachine({
      id: 'wild',
      context: { n: 0, log: [] },
      initial: 'a',
      on: {
        '*': {
          actions: [
            assign({ log: ({ context, event }) => [...context.log.slice(-2), `root * ${event.type}`] }),
            note('root *'),
          ],
        },
        'x.*': { target: '.b', actions: note('root x.*') },
      },
      states: {
        a: {
          on: {
            'x.y.z': { guard: 'even', actions: [assign({ n: ({ context }) => context.n + 1 }), note('a x.y.z')] },
            'x.y.*': [
              { guard: 'small', actions: [assign({ n: ({ context }) => context.n + 1 }), note('a x.y.* small')] },
              { target: 'b', actions: note('a x.y.*') },
            ],
            '*': { guard: 'even', target: 'b', actions: note('a *') },
          },
        },
        b: {
          entry: note('b entry'),
          exit: note('b exit'),
          on: { 'x.*': { target: 'a', actions: assign({ n: 0 }) }, 'y.*': 'a' },
        },
      },
    });
    const run = exploreInLockstep(
      m,
      undefined,
      sends('x.y.z', 'x.y.w', 'x.q', 'x', 'y.a', 'z', 'xstate.init', 'xstate.error.actor.child', 'xstate.stop'),
    );

    expect(run.states).toBeGreaterThan(4);
  });

  it('re-entry: reenter on self, parent and child; targetless transitions; exits and entries in order', () => {
    const m = setup({
      types: { context: {} as { n: number }, events: {} as { type: string } },
      guards: { under: ({ context }) => context.n < 2 },
      actions: effects,
    }).createMachine({
      id: 'reenter',
      context: { n: 0 },
      initial: 'p',
      states: {
        p: {
          entry: note('p entry'),
          exit: note('p exit'),
          initial: 'c1',
          on: {
            self: { target: 'p', reenter: true, actions: note('p self') },
            inner: { target: '.c2', actions: note('p -> c2') },
            innerReenter: { target: '.c1', reenter: true, actions: note('p -> c1 reenter') },
            stay: { actions: [assign({ n: ({ context }) => (context.n + 1) % 3 }), note('p stay')] },
            away: 'q',
          },
          states: {
            c1: {
              entry: note('c1 entry'),
              exit: note('c1 exit'),
              initial: 'd',
              states: {
                d: {
                  entry: note('d entry'),
                  exit: note('d exit'),
                  on: { up: { target: '#reenter.p', reenter: true } },
                },
              },
              on: { self: { guard: 'under', target: 'c1', reenter: true, actions: note('c1 self') }, side: 'c2' },
            },
            c2: {
              entry: note('c2 entry'),
              exit: note('c2 exit'),
              on: {
                self: { target: 'c2', actions: note('c2 self, no reenter') },
                up: { target: '..', reenter: false },
                side: 'c1',
              },
            },
          },
        },
        q: { entry: note('q entry'), on: { back: { target: 'p.c2', actions: note('q -> p.c2') } } },
      },
    });
    const run = exploreInLockstep(
      m,
      undefined,
      sends('self', 'inner', 'innerReenter', 'stay', 'away', 'up', 'side', 'back', 'none'),
    );

    expect(run.states).toBeGreaterThan(6);
  });

  it('nested final states: done events bubble level by level, onDone with assigns, the root final exits everything', () => {
    const m = setup({
      types: { context: {} as { done: string[] }, events: {} as { type: string } },
      actions: effects,
    }).createMachine({
      id: 'finals',
      context: { done: [] },
      initial: 'outer',
      exit: note('root exit'),
      states: {
        outer: {
          initial: 'inner',
          exit: note('outer exit'),
          states: {
            inner: {
              initial: 'work',
              exit: note('inner exit'),
              states: {
                work: { on: { finish: 'finished', skip: '#finals.outer.shortcut' } },
                finished: { type: 'final', entry: note('inner finished') },
              },
              onDone: {
                target: 'between',
                actions: [assign({ done: ({ context }) => [...context.done, 'inner'].slice(-2) }), note('inner done')],
              },
            },
            between: { on: { finish: 'end', again: 'inner' } },
            shortcut: { type: 'final', entry: note('shortcut') },
            end: { type: 'final', entry: note('outer end') },
          },
          onDone: [
            {
              guard: ({ context }) => context.done.length < 2,
              target: 'last',
              actions: assign({ done: ({ context }) => [...context.done, 'outer'] }),
            },
            { target: 'last' },
          ],
        },
        last: { on: { finish: 'gone' } },
        gone: { type: 'final', entry: note('gone'), exit: note('gone exit') },
      },
    });
    const run = exploreInLockstep(
      m,
      undefined,
      sends('finish', 'skip', 'again', 'none', 'xstate.error.actor.child', 'xstate.stop'),
    );

    expect(run.states).toBeGreaterThan(5);
  });

  it('eventless loops: counting loops, loops between states, targetless always, always entered from the initial state', () => {
    const m = setup({
      types: { context: {} as { n: number; limit: number }, events: {} as { type: string } },
      guards: { below: ({ context }) => context.n < context.limit, odd: ({ context }) => context.n % 2 === 1 },
      actions: effects,
    }).createMachine({
      id: 'always',
      context: { n: 0, limit: 3 },
      initial: 'count',
      states: {
        count: {
          entry: note('count entry'),
          always: [
            { guard: 'below', actions: [assign({ n: ({ context }) => context.n + 1 }), note('count up')] },
            { target: 'ping' },
          ],
        },
        ping: {
          entry: note('ping entry'),
          always: { guard: 'odd', target: 'pong', actions: assign({ n: ({ context }) => context.n - 1 }) },
          on: {
            more: { target: 'count', actions: assign({ limit: ({ context }) => (context.limit + 1) % 6 }) },
            bump: { actions: assign({ n: ({ context }) => context.n + 1 }) },
          },
        },
        pong: {
          entry: note('pong entry'),
          // No target, no change: taken once, then xstate stops selecting eventless transitions.
          always: { actions: note('pong always') },
          on: { back: 'ping', reset: { target: 'count', actions: assign({ n: 0 }) } },
        },
      },
    });
    const run = exploreInLockstep(m, undefined, sends('more', 'bump', 'back', 'reset', 'none'));

    expect(run.states).toBeGreaterThan(5);
  });

  it('enqueueActions: assigns, effects and checks enqueued; an enqueued raise is handed to xstate for that step', () => {
    const m = setup({
      types: { context: {} as { n: number }, events: {} as { type: string } },
      guards: { big: ({ context }) => context.n >= 2 },
      actions: { ...effects, bounce: raise({ type: 'bounced' }) },
    }).createMachine({
      id: 'enqueue',
      context: { n: 0 },
      initial: 'idle',
      states: {
        idle: {
          on: {
            add: {
              actions: enqueueActions(({ enqueue, check }) => {
                enqueue.assign({ n: ({ context }) => (context.n + 1) % 4 });
                if (check('big')) enqueue(note('big'));
                else enqueue({ type: 'small', params: { why: 'not big' } });
              }),
            },
            raiseInline: { actions: enqueueActions(({ enqueue }) => enqueue.raise({ type: 'bounced' })) },
            raiseNamed: { actions: enqueueActions(({ enqueue }) => enqueue('bounce')) },
            bounced: { target: 'bounced', actions: note('bounced') },
          },
        },
        bounced: { on: { back: 'idle' } },
      },
    });
    expect(unsupportedFeature(m)).toBeUndefined();
    const run = exploreInLockstep(m, undefined, sends('add', 'raiseInline', 'raiseNamed', 'back', 'none'));

    expect(run.states).toBe(8); // idle and bounced, each with n = 0..3
  });
});
