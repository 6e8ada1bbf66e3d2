import { assign, enqueueActions, setup } from 'xstate';
import { EFFECT_ACTIONS } from '../machines/effects.js';
import { COORDINATION_EFFECT_ACTIONS } from './coordinator-effects.js';

/**
 * A barrier: parties arrive (each by its own name; arriving twice counts once) and all are let
 * through together once `parties` have arrived. With a timeout (a durable timer) a barrier that
 * is still short of parties breaks, and every party waiting at it is told so. Single use: a
 * released barrier stays open, a broken one stays broken.
 */

type Stamped = { now: number };

export interface BarrierInput {
  id: string;
  ticketId: string | null;
  parties: number;
  timeoutMs: number | null;
  now: number;
}

export interface BarrierContext {
  id: string;
  ticketId: string | null;
  parties: number;
  arrived: string[];
  at: { createdAt: number; deadline: number | null; settledAt: number | null };
  outcome: { status: 'released' | 'broken'; reason: string | null; timedOut: boolean } | null;
}

export type BarrierEvent =
  | ({ type: 'barrier.arrive'; party: string } & Stamped)
  | ({ type: 'barrier.break'; reason: string } & Stamped)
  | ({ type: 'timer'; name: string } & Stamped);

const emitBarrier = (type: string, data: (c: BarrierContext) => Record<string, unknown>) => ({
  type: 'emit' as const,
  params: ({ context }: { context: BarrierContext }) => ({
    type,
    ticketId: context.ticketId,
    data: { id: context.id, ...data(context) },
  }),
});

/**
 * The barrier machine (kind `coordination.barrier`). Pure: every effect is a named action the runtime carries out.
 *
 * @example
 * ```ts
 * const s = new MachineStepper(barrierMachine).initial({ id: 'b', ticketId: null, parties: 2, timeoutMs: null, now: 0 });
 * ```
 */
export const barrierMachine = setup({
  types: { context: {} as BarrierContext, events: {} as BarrierEvent, input: {} as BarrierInput },
  actions: {
    ...EFFECT_ACTIONS,
    ...COORDINATION_EFFECT_ACTIONS,
    clearDeadline: enqueueActions(({ context, enqueue }) => {
      if (context.at.deadline !== null) enqueue({ type: 'clearTimer', params: { name: 'timeout' } });
    }),
  },
  guards: {
    full: ({ context }) => context.arrived.length >= context.parties,
    newParty: ({ context, event }) => event.type === 'barrier.arrive' && !context.arrived.includes(event.party),
    due: ({ context, event }) =>
      event.type === 'timer' &&
      event.name === 'timeout' &&
      context.at.deadline !== null &&
      event.now >= context.at.deadline,
  },
}).createMachine({
  id: 'barrier',
  context: ({ input }) => ({
    id: input.id,
    ticketId: input.ticketId,
    parties: input.parties,
    arrived: [],
    at: {
      createdAt: input.now,
      deadline: input.timeoutMs === null ? null : input.now + input.timeoutMs,
      settledAt: null,
    },
    outcome: null,
  }),
  entry: [
    emitBarrier('coordination.barrier.created', (c) => ({ parties: c.parties, deadline: c.at.deadline })),
    enqueueActions(({ context, enqueue }) => {
      if (context.at.deadline !== null)
        enqueue({ type: 'setTimer', params: { name: 'timeout', at: context.at.deadline } });
    }),
  ],
  initial: 'waiting',
  states: {
    waiting: {
      always: { guard: 'full', target: 'released' },
      on: {
        'barrier.arrive': {
          guard: 'newParty',
          actions: [
            assign({ arrived: ({ context, event }) => [...context.arrived, event.party] }),
            emitBarrier('coordination.barrier.arrived', (c) => ({
              party: c.arrived[c.arrived.length - 1],
              arrived: c.arrived.length,
              parties: c.parties,
            })),
          ],
        },
        'barrier.break': {
          target: 'broken',
          actions: assign({
            outcome: ({ event }) => ({ status: 'broken' as const, reason: event.reason, timedOut: false }),
          }),
        },
        timer: {
          guard: 'due',
          target: 'broken',
          actions: assign({
            outcome: ({ context }) => ({
              status: 'broken' as const,
              reason: `barrier ${context.id} timed out with ${context.arrived.length} of ${context.parties} parties`,
              timedOut: true,
            }),
          }),
        },
      },
    },
    released: {
      tags: ['settled'],
      entry: [
        assign({
          outcome: { status: 'released', reason: null, timedOut: false },
          at: ({ context, event }) => ({ ...context.at, settledAt: event.now }),
        }),
        'clearDeadline',
        emitBarrier('coordination.barrier.released', (c) => ({ parties: c.arrived })),
        'coordinatorSettled',
      ],
    },
    broken: {
      tags: ['settled'],
      entry: [
        assign({ at: ({ context, event }) => ({ ...context.at, settledAt: event.now }) }),
        'clearDeadline',
        emitBarrier('coordination.barrier.broken', (c) => ({ reason: c.outcome?.reason ?? null, arrived: c.arrived })),
        'coordinatorSettled',
      ],
    },
  },
});

export type BarrierMachine = typeof barrierMachine;
