import { assign, setup } from 'xstate';
import { EFFECT_ACTIONS, hostEffect, type Stamped } from '../machines/effects.js';
import { recordOutcome, shouldTrip, type BreakerPolicy, type BreakerWindow } from './breaker-window.js';

/** Where a circuit breaker is: `closed` lets work through, `open` holds it, `half_open` lets probes through. */
export type BreakerStatus = 'closed' | 'open' | 'half_open';

/** What a circuit breaker actor keeps: its policy, the recent outcomes, and when and how often it opened. */
export interface BreakerContext {
  key: string;
  policy: BreakerPolicy;
  /** Outcomes while closed, within the policy's window. */
  window: BreakerWindow;
  openedAt: number | null;
  /** Probes that succeeded since it went half-open. */
  probeSuccesses: number;
  /** How often it has opened. */
  trips: number;
}

export interface BreakerInput {
  key: string;
  policy: BreakerPolicy;
  now: number;
}

export type BreakerEvent =
  | ({ type: 'breaker.configure'; policy: BreakerPolicy } & Stamped)
  | ({ type: 'breaker.outcome'; ok: boolean; taskId: string } & Stamped)
  | ({ type: 'breaker.reset' } & Stamped)
  | ({ type: 'timer'; name: string } & Stamped);

/** What the dispatcher is told on every change: the state, and how many probes half-open lets through. */
export interface BreakerStateParams {
  key: string;
  status: BreakerStatus;
  probes: number;
}

const stateEffect = (status: BreakerStatus) => ({
  type: 'breakerState' as const,
  params: ({ context }: { context: BreakerContext }): BreakerStateParams => ({
    key: context.key,
    status,
    probes: context.policy.probes,
  }),
});

const emitBreaker = (type: string) => ({
  type: 'emit' as const,
  params: ({ context }: { context: BreakerContext }) => ({
    type,
    data: {
      key: context.key,
      trips: context.trips,
      failures: context.window.filter(([, ok]) => !ok).length,
      outcomes: context.window.length,
    },
  }),
});

/**
 * A circuit breaker per key: closed (outcomes counted in a window) → open when they trip it →
 * half-open after the cooldown (a durable timer), letting a few probe tasks through → closed when
 * the probes succeed, open again when one fails. While open, tasks under the key wait in the queue
 * without spending attempts (the dispatcher holds them back).
 */
export const breakerMachine = setup({
  types: { context: {} as BreakerContext, events: {} as BreakerEvent, input: {} as BreakerInput },
  actions: {
    ...EFFECT_ACTIONS,
    breakerState: hostEffect<BreakerStateParams>(),
    record: assign({
      window: ({ context, event }) =>
        event.type === 'breaker.outcome'
          ? recordOutcome(context.policy, context.window, event.now, event.ok)
          : context.window,
    }),
    configure: assign({
      policy: ({ context, event }) => (event.type === 'breaker.configure' ? event.policy : context.policy),
    }),
  },
  guards: {
    trips: ({ context, event }) =>
      event.type === 'breaker.outcome' &&
      !event.ok &&
      shouldTrip(context.policy, recordOutcome(context.policy, context.window, event.now, false)),
    succeeded: ({ event }) => event.type === 'breaker.outcome' && event.ok,
    lastProbe: ({ context, event }) =>
      event.type === 'breaker.outcome' && event.ok && context.probeSuccesses + 1 >= context.policy.probes,
    cooledDown: ({ context, event }) =>
      event.type === 'timer' &&
      event.name === 'cooldown' &&
      context.openedAt !== null &&
      event.now >= context.openedAt + context.policy.cooldownMs,
  },
}).createMachine({
  id: 'breaker',
  context: ({ input }) => ({
    key: input.key,
    policy: input.policy,
    window: [],
    openedAt: null,
    probeSuccesses: 0,
    trips: 0,
  }),
  initial: 'closed',
  on: {
    'breaker.reset': { target: '.closed' },
  },
  states: {
    closed: {
      entry: [
        assign({ window: [], openedAt: null, probeSuccesses: 0 }),
        stateEffect('closed'),
        emitBreaker('breaker.closed'),
      ],
      on: {
        'breaker.outcome': [{ guard: 'trips', target: 'open', actions: 'record' }, { actions: 'record' }],
        'breaker.configure': { actions: ['configure', stateEffect('closed')] },
      },
    },
    open: {
      entry: [
        assign({ openedAt: ({ event }) => event.now, trips: ({ context }) => context.trips + 1, probeSuccesses: 0 }),
        {
          type: 'setTimer',
          params: ({ context }) => ({ name: 'cooldown', at: (context.openedAt ?? 0) + context.policy.cooldownMs }),
        },
        stateEffect('open'),
        emitBreaker('breaker.opened'),
      ],
      exit: { type: 'clearTimer', params: { name: 'cooldown' } },
      on: {
        timer: { guard: 'cooledDown', target: 'half_open' },
        'breaker.configure': { actions: 'configure' },
      },
    },
    half_open: {
      entry: [stateEffect('half_open'), emitBreaker('breaker.half_open')],
      on: {
        'breaker.outcome': [
          { guard: 'lastProbe', target: 'closed' },
          { guard: 'succeeded', actions: assign({ probeSuccesses: ({ context }) => context.probeSuccesses + 1 }) },
          { target: 'open' },
        ],
        'breaker.configure': { actions: ['configure', stateEffect('half_open')] },
      },
    },
  },
});

/** The actor id of the breaker for `key`. */
export const breakerIdOf = (key: string): string => `breaker:${key}`;
