import { assign, setup } from 'xstate';
import { EFFECT_ACTIONS, hostEffect, type Stamped } from './effects.js';
import type { GateSpec } from './gate.js';

/** Phases a ticket gets when none are given: the usual arc of a piece of software work. */
export const DEFAULT_PHASES = ['requirements', 'implementation', 'testing'] as const;

export interface PhasePlan {
  name: string;
  gate: GateSpec;
  maxRounds: number;
}

export interface TicketContext {
  id: string;
  title: string;
  description: string;
  phases: PhasePlan[];
  /** Index of the phase at work. */
  index: number;
  /** The ticket's own context, given at creation; shared by all its tasks. */
  context: Record<string, unknown>;
  /** Key-value state any task of the ticket can read; written through the API. */
  shared: Record<string, unknown>;
  /** What each passed phase handed on: its tasks' results and artifacts (cross-phase context). */
  phaseOutputs: Record<string, PhaseOutput>;
  createdAt: number;
  reason: string | null;
}

export interface PhaseOutput {
  results: Record<string, unknown>;
  artifacts: Record<string, unknown>;
}

export interface TicketInput {
  id: string;
  title: string;
  description: string;
  phases: PhasePlan[];
  context: Record<string, unknown>;
  now: number;
}

export type TicketEvent =
  | ({ type: 'ticket.phase_passed'; phase: string; output: PhaseOutput } & Stamped)
  | ({ type: 'ticket.phase_failed'; phase: string; reasons: string[] } & Stamped)
  | ({ type: 'ticket.set_shared'; key: string; value: unknown } & Stamped)
  | ({ type: 'ticket.cancel'; reason: string } & Stamped);

const emitTicket = (type: string, data: (c: TicketContext) => Record<string, unknown> = () => ({})) => ({
  type: 'emit' as const,
  params: ({ context }: { context: TicketContext }) => ({ type, ticketId: context.id, data: data(context) }),
});

/**
 * A ticket: an ordered list of phases worked one after another. Each passed phase hands its
 * output on to the next (cross-phase context); a failed phase fails the ticket.
 */
export const ticketMachine = setup({
  types: {
    context: {} as TicketContext,
    events: {} as TicketEvent,
    input: {} as TicketInput,
  },
  actions: {
    ...EFFECT_ACTIONS,
    recordOutput: assign({
      phaseOutputs: ({ context, event }) =>
        event.type === 'ticket.phase_passed'
          ? { ...context.phaseOutputs, [event.phase]: event.output }
          : context.phaseOutputs,
    }),
    openPhase: hostEffect<{ ticketId: string; phase: string }>(),
    cancelWork: hostEffect<{ ticketId: string; reason: string }>(),
    ticketSettled: hostEffect<{ ticketId: string; status: string }>(),
  },
  guards: {
    lastPhaseAndCurrent: ({ context, event }) =>
      context.index >= context.phases.length - 1 &&
      'phase' in event &&
      context.phases[context.index]?.name === event.phase,
    currentPhase: ({ context, event }) => 'phase' in event && context.phases[context.index]?.name === event.phase,
  },
}).createMachine({
  id: 'ticket',
  context: ({ input }) => ({
    id: input.id,
    title: input.title,
    description: input.description,
    phases: input.phases,
    index: 0,
    context: input.context,
    shared: {},
    phaseOutputs: {},
    createdAt: input.now,
    reason: null,
  }),
  initial: 'active',
  entry: [
    emitTicket('ticket.created', (c) => ({ title: c.title, phases: c.phases.map((p) => p.name) })),
    {
      type: 'openPhase',
      params: ({ context }) => ({ ticketId: context.id, phase: context.phases[0]?.name ?? '' }),
    },
  ],
  on: {
    'ticket.set_shared': {
      actions: assign({ shared: ({ context, event }) => ({ ...context.shared, [event.key]: event.value }) }),
    },
  },
  states: {
    active: {
      on: {
        'ticket.phase_passed': [
          {
            guard: { type: 'lastPhaseAndCurrent' },
            target: 'completed',
            actions: 'recordOutput',
          },
          {
            guard: 'currentPhase',
            actions: [
              'recordOutput',
              assign({ index: ({ context }) => context.index + 1 }),
              emitTicket('ticket.phase_changed', (c) => ({ phase: c.phases[c.index]?.name, index: c.index })),
              {
                type: 'openPhase',
                params: ({ context }) => ({ ticketId: context.id, phase: context.phases[context.index]?.name ?? '' }),
              },
            ],
          },
        ],
        'ticket.phase_failed': {
          guard: 'currentPhase',
          target: 'failed',
          actions: assign({ reason: ({ event }) => `phase ${event.phase} failed: ${event.reasons.join('; ')}` }),
        },
        'ticket.cancel': {
          target: 'cancelled',
          actions: [
            assign({ reason: ({ event }) => event.reason }),
            { type: 'cancelWork', params: ({ context, event }) => ({ ticketId: context.id, reason: event.reason }) },
          ],
        },
      },
    },
    completed: {
      type: 'final',
      entry: [
        emitTicket('ticket.completed', (c) => ({ phases: Object.keys(c.phaseOutputs) })),
        { type: 'ticketSettled', params: ({ context }) => ({ ticketId: context.id, status: 'completed' }) },
      ],
    },
    failed: {
      type: 'final',
      entry: [
        emitTicket('ticket.failed', (c) => ({ reason: c.reason })),
        { type: 'ticketSettled', params: ({ context }) => ({ ticketId: context.id, status: 'failed' }) },
      ],
    },
    cancelled: {
      type: 'final',
      entry: [
        emitTicket('ticket.cancelled', (c) => ({ reason: c.reason })),
        { type: 'ticketSettled', params: ({ context }) => ({ ticketId: context.id, status: 'cancelled' }) },
      ],
    },
  },
});

export type TicketMachine = typeof ticketMachine;
