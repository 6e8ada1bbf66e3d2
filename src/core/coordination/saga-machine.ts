import { assign, enqueueActions, setup } from 'xstate';
import { EFFECT_ACTIONS, type Stamped } from '../machines/effects.js';
import { COORDINATION_EFFECT_ACTIONS } from './coordinator-effects.js';
import {
  markOf,
  MARK,
  setMark,
  statusOfMark,
  type ActorSpawn,
  type ResolvedTemplate,
  type TaskSettledEvent,
} from './coordination-types.js';
import { spawnsFor } from './task-templates.js';

/**
 * A saga: steps (tasks) run one after another, each waiting on the one before (so each also
 * receives its predecessor's result and artifacts). If a step does not succeed, the steps after
 * it are skipped by their dependency, and the compensations of the steps that DID succeed run
 * in reverse order, one at a time, each after the previous one settled. A compensation that
 * fails does not stop the others; the saga then ends `compensation_failed` and names them.
 */

export interface SagaStep {
  taskId: string;
  compensation: ResolvedTemplate | null;
}

export interface SagaInput {
  id: string;
  ticketId: string | null;
  steps: SagaStep[];
  /** The step tasks, created with the saga, chained by their dependencies. */
  spawns: ActorSpawn[];
  now: number;
}

export interface SagaContext {
  id: string;
  ticketId: string | null;
  steps: SagaStep[];
  /** One mark per step (see `MARK`). */
  marks: string;
  failedStep: number | null;
  /** The step whose compensation runs now, or null between compensations. */
  compensating: number | null;
  compensated: string[];
  compensationFailures: string[];
  at: { createdAt: number; settledAt: number | null };
  outcome: { status: 'completed' | 'compensated' | 'compensation_failed'; reason: string | null } | null;
}

export type SagaEvent = TaskSettledEvent & Stamped;

export const compensationIdOf = (sagaId: string, step: number): string => `${sagaId}.compensate.${step}`;

/** The next step to compensate: the latest succeeded step before `before` that has a compensation. */
export function nextToCompensate(c: Pick<SagaContext, 'steps' | 'marks'>, before: number): number | null {
  for (let i = before - 1; i >= 0; i--) {
    if (c.marks[i] === MARK.succeeded && c.steps[i]?.compensation) return i;
  }
  return null;
}

const emitSaga = (type: string, data: (c: SagaContext) => Record<string, unknown>) => ({
  type: 'emit' as const,
  params: ({ context }: { context: SagaContext }) => ({
    type,
    ticketId: context.ticketId,
    data: { id: context.id, ...data(context) },
  }),
});

const stepCount = (c: SagaContext) => c.steps.length;

/**
 * The saga machine (kind `coordination.saga`). Pure: every effect is a named action the runtime carries out.
 *
 * @example
 * ```ts
 * createTestModel(sagaMachine, { input, events }).getShortestPaths();
 * ```
 */
export const sagaMachine = setup({
  types: { context: {} as SagaContext, events: {} as SagaEvent, input: {} as SagaInput },
  actions: {
    ...EFFECT_ACTIONS,
    ...COORDINATION_EFFECT_ACTIONS,
    startCompensation: enqueueActions(({ context, enqueue }) => {
      const step = nextToCompensate(context, context.compensating ?? context.failedStep ?? 0);
      if (step === null) return;
      const plan = context.steps[step] as SagaStep;
      const failed = context.steps[context.failedStep ?? 0] as SagaStep;
      const id = compensationIdOf(context.id, step);
      enqueue.assign({ compensating: step });
      enqueue({
        type: 'spawnActors',
        params: {
          actors: spawnsFor(plan.compensation as ResolvedTemplate, {
            id,
            ticketId: context.ticketId,
            dependsOn: [plan.taskId],
            satisfied: [plan.taskId],
            extraInput: { saga: { id: context.id, compensates: plan.taskId, failedStep: failed.taskId } },
          }),
        },
      });
      enqueue({
        type: 'watchTasks',
        params: { coordinatorId: context.id, taskIds: [id], indexes: [stepCount(context) + step], withOutput: false },
      });
      enqueue({
        type: 'emit',
        params: {
          type: 'coordination.saga.compensating',
          ticketId: context.ticketId,
          data: { id: context.id, step: plan.taskId, compensation: id },
        },
      });
    }),
  },
  guards: {
    isStep: ({ context, event }) => event.index < stepCount(context) && context.marks[event.index] === MARK.open,
    stepSucceeded: ({ context, event }) =>
      event.index < stepCount(context) && context.marks[event.index] === MARK.open && event.status === 'succeeded',
    hasNextCompensation: ({ context }) =>
      nextToCompensate(context, context.compensating ?? context.failedStep ?? 0) !== null,
    allSucceeded: ({ context }) => context.marks.split('').every((m) => m === MARK.succeeded),
    isCurrentCompensation: ({ context, event }) =>
      context.compensating !== null && event.index === stepCount(context) + context.compensating,
    anyCompensationFailed: ({ context }) => context.compensationFailures.length > 0,
  },
}).createMachine({
  id: 'saga',
  context: ({ input }) => ({
    id: input.id,
    ticketId: input.ticketId,
    steps: input.steps,
    marks: MARK.open.repeat(input.steps.length),
    failedStep: null,
    compensating: null,
    compensated: [],
    compensationFailures: [],
    at: { createdAt: input.now, settledAt: null },
    outcome: null,
  }),
  entry: [
    emitSaga('coordination.saga.created', (c) => ({ steps: c.steps.map((s) => s.taskId) })),
    {
      type: 'spawnActors',
      params: ({ event }) => ({ actors: (event as unknown as { input: SagaInput }).input.spawns }),
    },
    {
      type: 'watchTasks',
      params: ({ context }) => ({
        coordinatorId: context.id,
        taskIds: context.steps.map((s) => s.taskId),
        withOutput: false,
      }),
    },
  ],
  initial: 'running',
  states: {
    running: {
      always: { guard: 'allSucceeded', target: 'completed' },
      on: {
        'coordination.task_settled': [
          {
            guard: 'stepSucceeded',
            actions: assign({ marks: ({ context, event }) => setMark(context.marks, event.index, MARK.succeeded) }),
          },
          {
            guard: 'isStep',
            target: 'compensating',
            actions: assign({
              marks: ({ context, event }) => setMark(context.marks, event.index, markOf(event.status)),
              failedStep: ({ event }) => event.index,
            }),
          },
        ],
      },
    },
    compensating: {
      entry: emitSaga('coordination.saga.failed_step', (c) => ({
        step: c.steps[c.failedStep ?? 0]?.taskId,
        status: statusOfMark(c.marks[c.failedStep ?? 0] ?? ''),
      })),
      // Later steps settle (skipped) while compensating: keep their marks true for the view.
      on: {
        'coordination.task_settled': {
          guard: 'isStep',
          actions: assign({ marks: ({ context, event }) => setMark(context.marks, event.index, markOf(event.status)) }),
        },
      },
      initial: 'next',
      states: {
        next: {
          always: [
            { guard: 'hasNextCompensation', target: 'running', actions: 'startCompensation' },
            { target: '#saga.finishing' },
          ],
        },
        running: {
          on: {
            'coordination.task_settled': {
              guard: 'isCurrentCompensation',
              target: 'next',
              actions: assign(({ context, event }) => {
                const stepTask = (context.steps[context.compensating ?? 0] as SagaStep).taskId;
                return event.status === 'succeeded'
                  ? { compensated: [...context.compensated, stepTask] }
                  : {
                      compensationFailures: [...context.compensationFailures, `${event.taskId} ended ${event.status}`],
                    };
              }),
            },
          },
        },
      },
    },
    finishing: {
      always: [
        {
          guard: 'anyCompensationFailed',
          target: 'compensation_failed',
          actions: assign({
            outcome: ({ context }) => ({
              status: 'compensation_failed' as const,
              reason: context.compensationFailures.join('; '),
            }),
          }),
        },
        { target: 'compensated', actions: assign({ outcome: { status: 'compensated', reason: null } }) },
      ],
    },
    completed: {
      tags: ['settled'],
      entry: [
        assign({ outcome: { status: 'completed', reason: null } }),
        emitSaga('coordination.saga.completed', (c) => ({ steps: c.steps.length })),
        'coordinatorSettled',
      ],
    },
    compensated: {
      tags: ['settled'],
      entry: [emitSaga('coordination.saga.compensated', (c) => ({ compensated: c.compensated })), 'coordinatorSettled'],
    },
    compensation_failed: {
      tags: ['settled'],
      entry: [
        emitSaga('coordination.saga.compensation_failed', (c) => ({
          compensated: c.compensated,
          reason: c.outcome?.reason ?? null,
        })),
        'coordinatorSettled',
      ],
    },
  },
});

export type SagaMachine = typeof sagaMachine;
