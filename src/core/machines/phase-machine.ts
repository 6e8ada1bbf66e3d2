import { assign, enqueueActions, setup } from 'xstate';
import { EFFECT_ACTIONS, hostEffect, type Stamped } from './effects.js';
import { gateFailures, type GateSpec, type PhaseCounts, type ValidatorSpec } from './gate.js';
import type { TaskStatus } from './task-types.js';

/** Gate rounds a phase gets (work, then review) before it fails, unless its gate says otherwise. */
export const DEFAULT_MAX_ROUNDS = 3;

/** The id of a ticket's phase actor. */
export const phaseIdOf = (ticketId: string, phase: string): string => `${ticketId}/${phase}`;

export interface PhaseContext {
  id: string;
  ticketId: string;
  name: string;
  index: number;
  gate: GateSpec;
  maxRounds: number;
  round: number;
  counts: PhaseCounts;
  artifacts: string[];
  minQuality: number | null;
  validator: { taskId: string | null; approved: boolean | null; feedback: string | null } | null;
  /**
   * Validators asked for in this round: more than one when a task added during validation sent
   * the phase back to work. Each needs its own task id. Missing in snapshots stored before it
   * existed, which had asked for at most one per round.
   */
  validations?: number;
  feedback: string | null;
  reasons: string[];
  /**
   * Splits that will add tasks to this phase once their source's result is known (a `map`
   * split): the gate is not evaluated while any is pending, or it could pass before the work
   * split out of the phase exists. Missing in snapshots stored before it existed.
   */
  pendingSplits?: string[];
}

export interface PhaseInput {
  id: string;
  ticketId: string;
  name: string;
  index: number;
  gate: GateSpec;
  maxRounds: number;
}

export type PhaseEvent =
  | ({ type: 'phase.open' } & Stamped)
  | ({ type: 'phase.task_added'; taskId: string } & Stamped)
  | ({ type: 'phase.split_pending'; splitId: string } & Stamped)
  | ({ type: 'phase.split_settled'; splitId: string } & Stamped)
  | ({
      type: 'phase.task_settled';
      taskId: string;
      status: TaskStatus;
      artifacts: string[];
      quality: number | null;
    } & Stamped)
  | ({ type: 'phase.validator_started'; taskId: string } & Stamped)
  | ({ type: 'phase.validator_settled'; taskId: string; approved: boolean; feedback: string | null } & Stamped)
  | ({ type: 'phase.reopened'; reopened: Partial<Record<TaskStatus, number>> } & Stamped)
  | ({ type: 'phase.cancel'; reason: string } & Stamped);

export interface SpawnValidatorParams {
  phaseId: string;
  ticketId: string;
  phase: string;
  round: number;
  /** Which validator of the round this is (1 for the first); with `round`, it names the task. */
  attempt: number;
  validator: ValidatorSpec;
  /** The feedback that sent the phase into this round (null in round 1). */
  feedback: string | null;
}

export interface CancelValidatorParams {
  phaseId: string;
  round: number;
  /** The attempt given to `spawnValidator` for the validator to cancel. */
  attempt: number;
  reason: string;
}

/** Why a validator is cancelled when its phase gets a new task. */
export const VALIDATION_ABANDONED = 'the phase got a new task while it was being validated';

export interface ReworkParams {
  phaseId: string;
  ticketId: string;
  phase: string;
  round: number;
  feedback: string;
}

export interface PhaseSettledParams {
  ticketId: string;
  phase: string;
  passed: boolean;
  reasons: string[];
}

const ZERO_COUNTS: PhaseCounts = { total: 0, open: 0, succeeded: 0, dead_lettered: 0, cancelled: 0, skipped: 0 };

const failures = (c: PhaseContext) =>
  gateFailures(c.gate, { counts: c.counts, artifacts: c.artifacts, minQuality: c.minQuality });

/**
 * Whether a verdict comes from the validator the phase asked for last: one cancelled when the
 * phase went back to work may still report, and must not decide.
 */
const fromValidator = (c: PhaseContext, e: PhaseEvent): e is Extract<PhaseEvent, { type: 'phase.validator_settled' }> =>
  e.type === 'phase.validator_settled' && c.validator !== null && e.taskId === c.validator.taskId;

const emitPhase = (type: string, data: (c: PhaseContext, e: PhaseEvent) => Record<string, unknown> = () => ({})) => ({
  type: 'emit' as const,
  params: ({ context, event }: { context: PhaseContext; event: PhaseEvent }) => ({
    type,
    ticketId: context.ticketId,
    phase: context.name,
    data: { round: context.round, ...data(context, event) },
  }),
});

/**
 * A phase of a ticket: pending until the ticket opens it, active while its tasks work, then its
 * gate is evaluated when every task has settled. It passes, or goes back to work with the gate's
 * feedback for another round (up to `maxRounds`), or fails. A task added while a validator decides
 * sends it back to work (that validator cancelled) until every task has settled again. The phase
 * keeps counts, not lists, so each of its transitions stays O(1) however many tasks it has.
 */
export const phaseMachine = setup({
  types: {
    context: {} as PhaseContext,
    events: {} as PhaseEvent,
    input: {} as PhaseInput,
  },
  actions: {
    ...EFFECT_ACTIONS,
    /** Tells the phase's waiting tasks that they may run. */
    openTasks: hostEffect<{ ticketId: string; phase: string }>(),
    spawnValidator: hostEffect<SpawnValidatorParams>(),
    cancelValidator: hostEffect<CancelValidatorParams>(),
    reworkTasks: hostEffect<ReworkParams>(),
    phaseSettled: hostEffect<PhaseSettledParams>(),
    countAdded: assign({
      counts: ({ context }) => ({ ...context.counts, total: context.counts.total + 1, open: context.counts.open + 1 }),
    }),
    countSettled: assign(({ context, event }) => {
      if (event.type !== 'phase.task_settled') return {};
      const counts = { ...context.counts, open: context.counts.open - 1 };
      if (event.status in counts) counts[event.status as keyof PhaseCounts] += 1;
      const artifacts = [...context.artifacts];
      for (const name of event.artifacts) if (!artifacts.includes(name)) artifacts.push(name);
      const minQuality =
        event.status === 'succeeded' && event.quality !== null
          ? Math.min(event.quality, context.minQuality ?? Number.POSITIVE_INFINITY)
          : context.minQuality;
      return { counts, artifacts, minQuality };
    }),
    recordReasons: assign({ reasons: ({ context }) => failures(context) }),
    splitPending: assign({
      pendingSplits: ({ context, event }) =>
        event.type === 'phase.split_pending' && !(context.pendingSplits ?? []).includes(event.splitId)
          ? [...(context.pendingSplits ?? []), event.splitId]
          : (context.pendingSplits ?? []),
    }),
    /** Back to work from validating: the validator asked for is cancelled, its verdict would not count. */
    abandonValidation: enqueueActions(({ context, event, enqueue }) => {
      enqueue({
        type: 'emit',
        params: {
          type: 'phase.validation_cancelled',
          ticketId: context.ticketId,
          phase: context.name,
          data: {
            round: context.round,
            addedTaskId: event.type === 'phase.task_added' ? event.taskId : null,
            ...(event.type === 'phase.split_pending' ? { splitId: event.splitId } : {}),
            validatorTaskId: context.validator?.taskId ?? null,
            reason: VALIDATION_ABANDONED,
          },
        },
      });
      enqueue({
        type: 'cancelValidator',
        params: {
          phaseId: context.id,
          round: context.round,
          // Snapshots stored before `validations` existed asked for one validator per round.
          attempt: context.validations ?? 1,
          reason: VALIDATION_ABANDONED,
        },
      });
      enqueue.assign({ validator: null });
    }),
    // Only a split the phase waits for is taken off (one from an older snapshot never announced itself).
    splitSettled: assign({
      pendingSplits: ({ context, event }) =>
        (context.pendingSplits ?? []).filter((id) => event.type !== 'phase.split_settled' || id !== event.splitId),
    }),
  },
  guards: {
    allSettled: ({ context }) =>
      context.counts.total > 0 && context.counts.open === 0 && (context.pendingSplits ?? []).length === 0,
    criteriaHold: ({ context }) => failures(context).length === 0,
    criteriaHoldWithValidator: ({ context }) => context.gate.validator !== undefined && failures(context).length === 0,
    approved: ({ context, event }) => fromValidator(context, event) && event.approved,
    rejectedWithRoundsLeft: ({ context, event }) =>
      fromValidator(context, event) && !event.approved && context.round < context.maxRounds,
    rejected: ({ context, event }) => fromValidator(context, event) && !event.approved,
    roundsLeft: ({ context }) => context.round < context.maxRounds,
    nothingReopened: ({ event }) =>
      event.type === 'phase.reopened' && Object.values(event.reopened).reduce((a, b) => a + (b ?? 0), 0) === 0,
  },
}).createMachine({
  id: 'phase',
  context: ({ input }) => ({
    id: input.id,
    ticketId: input.ticketId,
    name: input.name,
    index: input.index,
    gate: input.gate,
    maxRounds: input.maxRounds,
    round: 1,
    counts: ZERO_COUNTS,
    artifacts: [],
    minQuality: null,
    validator: null,
    validations: 0,
    feedback: null,
    reasons: [],
    pendingSplits: [],
  }),
  initial: 'pending',
  on: {
    'phase.task_added': { actions: 'countAdded' },
    'phase.split_pending': { actions: 'splitPending' },
    'phase.split_settled': { actions: 'splitSettled' },
    // Counted in every state: a task can settle before its phase opens (cancelled, skipped) or
    // while the phase is being reworked, and a count missed here would keep the phase open forever.
    'phase.task_settled': { actions: 'countSettled' },
  },
  states: {
    pending: {
      on: {
        'phase.open': { target: 'active' },
        'phase.cancel': { target: 'cancelled' },
      },
    },
    active: {
      entry: [
        { type: 'openTasks', params: ({ context }) => ({ ticketId: context.ticketId, phase: context.name }) },
        emitPhase('phase.opened', (c) => ({ tasks: c.counts.total })),
      ],
      always: { guard: 'allSettled', target: 'evaluating' },
      on: {
        'phase.cancel': { target: 'cancelled' },
      },
    },
    evaluating: {
      entry: 'recordReasons',
      always: [
        { guard: { type: 'criteriaHoldWithValidator' }, target: 'validating' },
        { guard: 'criteriaHold', target: 'passed' },
        {
          guard: 'roundsLeft',
          target: 'reworking',
          actions: assign({ feedback: ({ context }) => context.reasons.join('; ') }),
        },
        { target: 'failed' },
      ],
    },
    validating: {
      entry: [
        assign({
          validator: { taskId: null, approved: null, feedback: null },
          validations: ({ context }) => (context.validations ?? 0) + 1,
        }),
        {
          type: 'spawnValidator',
          params: ({ context }) => ({
            phaseId: context.id,
            ticketId: context.ticketId,
            phase: context.name,
            round: context.round,
            attempt: context.validations ?? 1,
            validator: context.gate.validator as ValidatorSpec,
            feedback: context.round > 1 ? context.feedback : null,
          }),
        },
      ],
      on: {
        // The validator's verdict would not cover the new task's work: back to work, and the gate
        // is evaluated again (with a new validator) once the new task has settled too.
        'phase.task_added': { target: 'active', actions: ['countAdded', 'abandonValidation'] },
        // So with work a split is about to add.
        'phase.split_pending': { target: 'active', actions: ['splitPending', 'abandonValidation'] },
        'phase.validator_started': {
          actions: assign({
            validator: ({ event }) => ({ taskId: event.taskId, approved: null, feedback: null }),
          }),
        },
        'phase.validator_settled': [
          {
            guard: 'approved',
            target: 'passed',
            actions: assign({
              validator: ({ context, event }) => ({
                taskId: context.validator?.taskId ?? null,
                approved: true,
                feedback: event.feedback,
              }),
            }),
          },
          {
            guard: 'rejectedWithRoundsLeft',
            target: 'reworking',
            actions: assign(({ context, event }) => ({
              validator: { taskId: context.validator?.taskId ?? null, approved: false, feedback: event.feedback },
              reasons: [`validator rejected: ${event.feedback ?? 'no feedback'}`],
              feedback: event.feedback ?? 'the validator rejected the work',
            })),
          },
          {
            guard: 'rejected',
            target: 'failed',
            actions: assign(({ event }) => ({ reasons: [`validator rejected: ${event.feedback ?? 'no feedback'}`] })),
          },
        ],
        'phase.cancel': { target: 'cancelled' },
      },
    },
    reworking: {
      entry: [
        emitPhase('phase.rejected', (c) => ({ reasons: c.reasons, feedback: c.feedback, nextRound: c.round + 1 })),
        {
          type: 'reworkTasks',
          params: ({ context }) => ({
            phaseId: context.id,
            ticketId: context.ticketId,
            phase: context.name,
            round: context.round + 1,
            feedback: context.feedback ?? '',
          }),
        },
      ],
      on: {
        'phase.reopened': [
          {
            guard: 'nothingReopened',
            target: 'failed',
            actions: assign({ reasons: ({ context }) => [...context.reasons, 'no task could be reworked'] }),
          },
          {
            target: 'active',
            actions: assign(({ context, event }) => {
              const counts = { ...context.counts };
              let reopened = 0;
              for (const [status, n] of Object.entries(event.reopened)) {
                counts[status as keyof PhaseCounts] -= n ?? 0;
                reopened += n ?? 0;
              }
              counts.open += reopened;
              return {
                counts,
                round: context.round + 1,
                artifacts: [],
                minQuality: null,
                validator: null,
                validations: 0,
              };
            }),
          },
        ],
        'phase.cancel': { target: 'cancelled' },
      },
    },
    passed: {
      type: 'final',
      entry: [
        emitPhase('phase.passed', (c) => ({ counts: c.counts, artifacts: c.artifacts, quality: c.minQuality })),
        {
          type: 'phaseSettled',
          params: ({ context }) => ({ ticketId: context.ticketId, phase: context.name, passed: true, reasons: [] }),
        },
      ],
    },
    failed: {
      type: 'final',
      entry: [
        emitPhase('phase.failed', (c) => ({ reasons: c.reasons, counts: c.counts })),
        {
          type: 'phaseSettled',
          params: ({ context }) => ({
            ticketId: context.ticketId,
            phase: context.name,
            passed: false,
            reasons: context.reasons,
          }),
        },
      ],
    },
    cancelled: { type: 'final', entry: emitPhase('phase.cancelled') },
  },
});

export type PhaseMachine = typeof phaseMachine;
