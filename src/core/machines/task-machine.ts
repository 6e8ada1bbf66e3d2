import { assign, setup } from 'xstate';
import { backoffDelay } from './retry-backoff.js';
import { EFFECT_ACTIONS, hostEffect, timerChanges } from './effects.js';
import type { AttemptError, TaskContext, TaskControls, TaskEvent, TaskInput, TaskStatus } from './task-types.js';
import type {
  EnqueueParams,
  LeaseEndedParams,
  OfferParams,
  RegisterWaitingParams,
  SettledParams,
} from './task-effect-params.js';
import {
  attemptError,
  attemptWith,
  attemptsInBudget,
  canRetry,
  closeAttempt,
  leaseMatches,
  timerDue,
  times,
  withLast,
  type FailureEvent,
} from './task-attempts.js';
import { agentCompletedEmit, assignedEmit, emitFor, failedEmit, offerAction, settleEffects } from './task-emits.js';

export type {
  EnqueueParams,
  OfferParams,
  LeaseEndedParams,
  SettledParams,
  RegisterWaitingParams,
} from './task-effect-params.js';
export { attemptError } from './task-attempts.js';

/**
 * The life of one task: waiting for its dependencies and its phase, queued, offered to an agent,
 * running, then succeeded, retried after backoff, dead-lettered, cancelled or skipped.
 * Deadlines are data: the machine asks for durable timers and checks them when they fire.
 */
export const taskMachine = setup({
  types: {
    context: {} as TaskContext,
    events: {} as TaskEvent,
    input: {} as TaskInput,
  },
  actions: {
    ...EFFECT_ACTIONS,
    enqueue: hostEffect<EnqueueParams>(),
    dequeue: hostEffect<{ taskId: string }>(),
    offer: hostEffect<OfferParams>(),
    /** The lease ended: free the agent's slot; `revoke` (a reason) when the agent must be told to stop. */
    leaseEnded: hostEffect<LeaseEndedParams>(),
    settled: hostEffect<SettledParams>(),
    /** The task waits on dependencies or its phase: the runtime indexes it to wake it. */
    registerWaiting: hostEffect<RegisterWaitingParams>(),

    takeLease: assign(({ context, event }) => {
      if (event.type !== 'task.assign') return {};
      const attempt = context.attempt + 1;
      return {
        attempt,
        lease: { id: event.leaseId, agentId: event.agentId, assignedAt: event.now },
        attempts: [
          ...context.attempts,
          { attempt, agentId: event.agentId, leaseId: event.leaseId, assignedAt: event.now },
        ],
      };
    }),

    /** A deadline fired while queued: no agent took the attempt in time, and it counts. */
    consumeAttempt: assign({
      attempt: ({ context }) => context.attempt + 1,
      attempts: ({ context, event }) => [
        ...context.attempts,
        { attempt: context.attempt + 1, agentId: '', leaseId: '', assignedAt: event.now },
      ],
    }),

    recordFailure: assign(({ context, event }) => {
      const failure = event as FailureEvent;
      const error = attemptError(context, failure);
      const retryAt = canRetry(context, error)
        ? failure.now + backoffDelay(context.spec.retry.backoff, context.attempt, failure.rand)
        : null;
      return {
        error,
        at: times(context, { retryAt }),
        attempts: closeAttempt(context.attempts, context.attempt, failure.now, error),
      };
    }),

    markSettled: assign(({ context, event }, params: { status: TaskStatus }) => ({
      outcome: params.status,
      at: times(context, { settledAt: event.now }),
      lease: null,
    })),

    setReason: assign({ reason: ({ event }) => ('reason' in event ? event.reason : null) }),

    rework: assign(({ event }) => {
      if (event.type !== 'task.rework') return {};
      return {
        round: event.round,
        feedback: event.feedback,
        attempt: 0,
        attempts: [],
        output: null,
        error: null,
        reason: null,
        outcome: null,
        pendingDeps: event.waitFor,
        at: { queuedAt: null, startedAt: null, lastBeatAt: null, retryAt: null, settledAt: null, notBefore: null },
      };
    }),

    /** Out of the dead letters: a fresh retry budget, maybe a new input or policy; the history stays. */
    redrive: assign(({ context, event }) => {
      if (event.type !== 'task.redrive') return {};
      const spec = { ...context.spec };
      if (event.input !== undefined) spec.input = event.input;
      if (event.retry !== undefined) spec.retry = event.retry;
      return {
        spec,
        redrives: [
          ...context.redrives,
          {
            at: event.now,
            afterAttempt: context.attempt,
            error: context.error,
            inputChanged: event.input !== undefined,
            retryChanged: event.retry !== undefined,
            reason: event.reason,
          },
        ],
        error: null,
        reason: null,
        outcome: null,
        output: null,
        at: times(context, { queuedAt: null, startedAt: null, lastBeatAt: null, retryAt: null, settledAt: null }),
      };
    }),

    /** A failed dependency whose policy is `fail`: dead-lettered without an attempt. */
    dependencyFailed: assign(({ event }) => {
      if (event.type !== 'task.dependency.failed') return {};
      const error: AttemptError = {
        message: `dependency ${event.taskId} ended ${event.status}`,
        category: 'permanent',
        code: 'E_DEPENDENCY_FAILED',
        retryable: false,
      };
      return { error, reason: error.message };
    }),

    /** A failed dependency whose policy is `continue`: counted as resolved. */
    dependencyIgnored: assign({
      pendingDeps: ({ context, event }) =>
        context.pendingDeps.filter((d) => event.type !== 'task.dependency.failed' || d !== event.taskId),
    }),
  },
  guards: {
    ready: ({ context }) => context.phaseOpen && context.pendingDeps.length === 0 && context.at.notBefore === null,
    notBeforeDue: ({ context, event }) =>
      event.type === 'timer' &&
      event.name === 'notBefore' &&
      context.at.notBefore !== null &&
      event.now >= context.at.notBefore,
    depPolicyContinue: ({ context, event }) => depPolicy(context.spec.controls, event) === 'continue',
    depPolicyFail: ({ context, event }) => depPolicy(context.spec.controls, event) === 'fail',
    leaseMatches,
    autoStart: ({ event }) => event.type === 'task.assign' && event.autoStart,
    leaseMatchesAndRetryable: (args) =>
      leaseMatches(args) && canRetry(args.context, attemptError(args.context, args.event as FailureEvent)),
    agentLost: ({ context, event }) =>
      event.type === 'task.agent_lost' && context.lease !== null && context.lease.agentId === event.agentId,
    agentLostRetryable: ({ context, event }) =>
      event.type === 'task.agent_lost' &&
      context.lease !== null &&
      context.lease.agentId === event.agentId &&
      canRetry(context, attemptError(context, event)),
    lastErrorRetryable: ({ context }) => context.error !== null && canRetry(context, context.error),
    startDue: (args) => timerDue('start', args),
    finishDue: (args) => timerDue('finish', args),
    heartbeatDue: (args) => timerDue('heartbeat', args),
    heartbeatTimer: ({ event }) => event.type === 'timer' && event.name === 'heartbeat',
    retryDue: ({ context, event }) =>
      event.type === 'timer' &&
      event.name === 'retry' &&
      context.at.retryAt !== null &&
      event.now >= context.at.retryAt,
  },
}).createMachine({
  id: 'task',
  context: ({ input }) => ({
    id: input.id,
    spec: {
      type: input.type,
      description: input.description ?? '',
      ticketId: input.ticketId ?? null,
      phase: input.phase ?? null,
      priority: input.priority,
      requires: input.requires,
      input: input.input ?? null,
      dependsOn: input.dependsOn,
      retry: input.retry,
      timeouts: input.timeouts,
      role: input.role ?? null,
      createdAt: input.now,
      controls: input.controls ?? NO_CONTROLS,
      ...(input.traceparent !== undefined ? { traceparent: input.traceparent } : {}),
    },
    pendingDeps: input.dependsOn.filter((d) => !input.satisfiedDeps.includes(d)),
    phaseOpen: input.phaseOpen,
    attempt: 0,
    attempts: [],
    lease: null,
    at: {
      queuedAt: null,
      startedAt: null,
      lastBeatAt: null,
      retryAt: null,
      settledAt: null,
      notBefore: input.notBefore != null && input.notBefore > input.now ? input.notBefore : null,
    },
    progress: null,
    output: null,
    error: null,
    reason: null,
    outcome: null,
    round: input.round ?? 1,
    feedback: input.feedback ?? null,
    redrives: [],
  }),
  initial: 'waiting',
  entry: emitFor('task.created', (c) =>
    c.at.notBefore === null && c.spec.traceparent === undefined
      ? { type: c.spec.type, priority: c.spec.priority, dependsOn: c.spec.dependsOn }
      : {
          type: c.spec.type,
          priority: c.spec.priority,
          dependsOn: c.spec.dependsOn,
          ...(c.at.notBefore !== null ? { notBefore: c.at.notBefore } : {}),
          ...(c.spec.traceparent !== undefined ? { traceparent: c.spec.traceparent } : {}),
        },
  ),
  states: {
    waiting: {
      entry: [
        {
          type: 'registerWaiting',
          params: ({ context }) => ({
            taskId: context.id,
            pendingDeps: context.pendingDeps,
            phaseOpen: context.phaseOpen,
            ticketId: context.spec.ticketId,
            phase: context.spec.phase,
          }),
        },
        {
          // A delayed task: a durable timer, so the delay survives a restart.
          type: 'timers',
          params: ({ context }) =>
            timerChanges(context.at.notBefore !== null ? [{ name: 'notBefore', at: context.at.notBefore }] : [], []),
        },
      ],
      always: { guard: 'ready', target: 'queued' },
      exit: {
        type: 'timers',
        params: ({ context }) => timerChanges([], context.at.notBefore !== null ? ['notBefore'] : []),
      },
      on: {
        'task.dependency.succeeded': {
          actions: [
            assign({
              pendingDeps: ({ context, event }) => context.pendingDeps.filter((d) => d !== event.taskId),
            }),
            {
              type: 'emit',
              params: ({ context, event }) => ({
                type: 'dependency.resolved',
                taskId: context.id,
                ticketId: context.spec.ticketId,
                phase: context.spec.phase,
                data: { dependency: event.taskId, remaining: context.pendingDeps.length },
              }),
            },
          ],
        },
        'task.dependency.failed': [
          {
            guard: 'depPolicyContinue',
            actions: [
              'dependencyIgnored',
              {
                type: 'emit',
                params: ({ context, event }) => ({
                  type: 'dependency.resolved',
                  taskId: context.id,
                  ticketId: context.spec.ticketId,
                  phase: context.spec.phase,
                  data: {
                    dependency: event.taskId,
                    remaining: context.pendingDeps.length,
                    status: event.type === 'task.dependency.failed' ? event.status : null,
                    policy: 'continue',
                  },
                }),
              },
            ],
          },
          { guard: 'depPolicyFail', target: 'dead_lettered', actions: 'dependencyFailed' },
          {
            target: 'skipped',
            actions: assign({ reason: ({ event }) => `dependency ${event.taskId} ended ${event.status}` }),
          },
        ],
        'task.phase.opened': { actions: assign({ phaseOpen: true }) },
        timer: {
          guard: 'notBeforeDue',
          actions: assign({ at: ({ context }) => times(context, { notBefore: null }) }),
        },
        'task.cancel': { target: 'cancelled', actions: 'setReason' },
        'task.skip': { target: 'skipped', actions: 'setReason' },
      },
    },
    queued: {
      entry: [
        // The first entry comes from the init event, which carries no `now`: creation time is it.
        // A queued task has no lease: the one a rejected offer or a retried attempt held has ended.
        assign({
          at: ({ context, event }) => times(context, { queuedAt: event.now ?? context.spec.createdAt }),
          lease: null,
        }),
        {
          type: 'enqueue',
          params: ({ context }) => ({
            taskId: context.id,
            priority: context.spec.priority,
            requires: context.spec.requires,
            queuedAt: context.at.queuedAt ?? 0,
            type: context.spec.type,
            controls: context.spec.controls,
          }),
        },
        {
          type: 'timers',
          params: ({ context }) => {
            const start = context.spec.timeouts.start;
            return timerChanges(
              start !== undefined ? [{ name: 'start', at: (context.at.queuedAt ?? 0) + start }] : [],
              [],
            );
          },
        },
        emitFor('task.queued', (c) => ({ attempt: c.attempt + 1, priority: c.spec.priority })),
      ],
      exit: { type: 'dequeue', params: ({ context }) => ({ taskId: context.id }) },
      on: {
        'task.assign': [
          { guard: 'autoStart', target: 'leased.running', actions: ['takeLease', offerAction, assignedEmit] },
          { target: 'leased.offered', actions: ['takeLease', offerAction, assignedEmit] },
        ],
        timer: { guard: 'startDue', target: 'attemptFailed', actions: ['consumeAttempt', 'recordFailure', failedEmit] },
        'task.cancel': { target: 'cancelled', actions: 'setReason' },
        'task.skip': { target: 'skipped', actions: 'setReason' },
      },
    },
    leased: {
      initial: 'offered',
      // One action frees the agent's slot and, unless the agent itself ended the lease, tells it to stop.
      exit: {
        type: 'leaseEnded',
        params: ({ context, event }) => ({
          taskId: context.id,
          agentId: context.lease?.agentId ?? '',
          leaseId: context.lease?.id ?? '',
          revoke:
            event.type === 'task.complete' || event.type === 'task.fail' || event.type === 'task.reject'
              ? null
              : event.type === 'task.cancel'
                ? event.reason
                : event.type === 'timer'
                  ? `${event.name} deadline passed`
                  : 'agent lost',
          rejected: event.type === 'task.reject',
        }),
      },
      on: {
        'task.cancel': {
          target: 'cancelled',
          actions: assign({
            reason: ({ event }) => event.reason,
            attempts: ({ context, event }) =>
              closeAttempt(context.attempts, context.attempt, event.now, {
                message: event.reason,
                category: 'cancelled',
                code: 'E_CANCELLED',
                retryable: false,
              }),
          }),
        },
        'task.agent_lost': [
          { guard: 'agentLostRetryable', target: 'retrying', actions: ['recordFailure', failedEmit] },
          { guard: 'agentLost', target: 'dead_lettered', actions: ['recordFailure', failedEmit] },
        ],
      },
      states: {
        offered: {
          on: {
            'task.accept': { guard: 'leaseMatches', target: 'running' },
            'task.reject': {
              guard: 'leaseMatches',
              target: '#task.queued',
              actions: [
                emitFor('task.rejected'),
                assign({
                  attempt: ({ context }) => context.attempt - 1,
                  attempts: ({ context }) => context.attempts.slice(0, -1),
                }),
              ],
            },
            timer: { guard: 'startDue', target: '#task.attemptFailed', actions: ['recordFailure', failedEmit] },
          },
        },
        running: {
          entry: [
            assign(({ context, event }) => {
              const last = context.attempts[context.attempts.length - 1];
              return {
                at: times(context, { startedAt: event.now, lastBeatAt: event.now }),
                attempts: last
                  ? withLast(context.attempts, attemptWith(last, { startedAt: event.now }))
                  : context.attempts,
              };
            }),
            {
              type: 'timers',
              params: ({ context }) => {
                const { start, finish, heartbeat } = context.spec.timeouts;
                const startedAt = context.at.startedAt ?? 0;
                const set = [];
                if (finish !== undefined) set.push({ name: 'finish', at: startedAt + finish });
                if (heartbeat !== undefined) set.push({ name: 'heartbeat', at: startedAt + heartbeat });
                return timerChanges(set, start !== undefined ? ['start'] : []);
              },
            },
            emitFor('task.started', (c) => ({
              attempt: c.attempt,
              leaseId: c.lease?.id,
              // How long this attempt waited in the queue: what a queue-wait metric needs, in the event itself.
              waitedMs: c.at.startedAt !== null && c.at.queuedAt !== null ? c.at.startedAt - c.at.queuedAt : null,
            })),
          ],
          exit: {
            type: 'timers',
            params: ({ context }) => {
              const clear: string[] = [];
              if (context.spec.timeouts.finish !== undefined) clear.push('finish');
              if (context.spec.timeouts.heartbeat !== undefined) clear.push('heartbeat');
              return timerChanges([], clear);
            },
          },
          on: {
            'task.heartbeat': {
              guard: 'leaseMatches',
              actions: assign({ at: ({ context, event }) => times(context, { lastBeatAt: event.now }) }),
            },
            'task.progress': {
              guard: 'leaseMatches',
              actions: [
                assign({
                  at: ({ context, event }) => times(context, { lastBeatAt: event.now }),
                  progress: ({ event }) => ({ value: event.value, message: event.message }),
                }),
                emitFor('task.progress', (c) => ({ value: c.progress?.value, message: c.progress?.message })),
              ],
            },
            'task.complete': {
              guard: 'leaseMatches',
              target: '#task.succeeded',
              actions: assign({
                output: ({ event }) => ({ result: event.result, artifacts: event.artifacts, quality: event.quality }),
                error: null,
                attempts: ({ context, event }) => closeAttempt(context.attempts, context.attempt, event.now, null),
              }),
            },
            'task.fail': [
              { guard: 'leaseMatchesAndRetryable', target: '#task.retrying', actions: ['recordFailure', failedEmit] },
              { guard: 'leaseMatches', target: '#task.dead_lettered', actions: ['recordFailure', failedEmit] },
            ],
            timer: [
              { guard: 'finishDue', target: '#task.attemptFailed', actions: ['recordFailure', failedEmit] },
              { guard: 'heartbeatDue', target: '#task.attemptFailed', actions: ['recordFailure', failedEmit] },
              {
                // A heartbeat arrived after the timer was armed: wait until the new deadline.
                guard: 'heartbeatTimer',
                actions: {
                  type: 'setTimer',
                  params: ({ context }) => ({
                    name: 'heartbeat',
                    at: (context.at.lastBeatAt ?? 0) + (context.spec.timeouts.heartbeat ?? 0),
                  }),
                },
              },
            ],
          },
        },
      },
    },
    /** A transient decision point after a deadline consumed an attempt. */
    attemptFailed: {
      always: [{ guard: 'lastErrorRetryable', target: 'retrying' }, { target: 'dead_lettered' }],
    },
    retrying: {
      entry: [
        {
          // A start deadline of the failed attempt may still be armed (an offer that was lost).
          type: 'timers',
          params: ({ context }) => ({
            set: [{ name: 'retry', at: context.at.retryAt ?? 0 }],
            clear: context.spec.timeouts.start !== undefined ? ['start'] : [],
          }),
        },
        emitFor('task.retrying', (c) => ({
          attempt: c.attempt,
          nextAttempt: c.attempt + 1,
          retryAt: c.at.retryAt,
          error: c.error,
        })),
        // The failed attempt's lease has ended (its slot was released on leaving `leased`).
        assign({ lease: null }),
      ],
      // However the wait ends (retry, cancel, skip), no retry is due any more.
      exit: [
        { type: 'clearTimer', params: { name: 'retry' } },
        assign({ at: ({ context }) => times(context, { retryAt: null }) }),
      ],
      on: {
        timer: {
          guard: 'retryDue',
          target: 'queued',
          actions: assign({ at: ({ context }) => times(context, { retryAt: null }) }),
        },
        'task.cancel': { target: 'cancelled', actions: 'setReason' },
        'task.skip': { target: 'skipped', actions: 'setReason' },
      },
    },
    succeeded: {
      tags: ['settled'],
      entry: [{ type: 'markSettled', params: { status: 'succeeded' } }, ...settleEffects, agentCompletedEmit],
      on: { 'task.rework': { target: 'waiting', actions: 'rework' } },
    },
    dead_lettered: {
      tags: ['settled'],
      entry: [{ type: 'markSettled', params: { status: 'dead_lettered' } }, ...settleEffects],
      on: {
        'task.rework': { target: 'waiting', actions: 'rework' },
        'task.redrive': {
          target: 'queued',
          actions: [
            'redrive',
            emitFor('task.redriven', (c) => {
              const r = c.redrives[c.redrives.length - 1];
              return {
                redrive: c.redrives.length,
                afterAttempt: r?.afterAttempt,
                inputChanged: r?.inputChanged,
                retryChanged: r?.retryChanged,
                reason: r?.reason,
              };
            }),
          ],
        },
        'task.discard': { target: 'discarded', actions: 'setReason' },
      },
    },
    /**
     * A dead letter past the retention limit: out of the dead-letter queue for good. Its phase and
     * dependents heard of its failure when it was dead-lettered; nobody is told again.
     */
    discarded: {
      tags: ['settled'],
      entry: [
        assign(({ context, event }) => ({
          outcome: 'discarded' as const,
          at: times(context, { settledAt: event.now }),
        })),
        emitFor('task.discarded', (c) => ({ reason: c.reason, attempts: c.attempt })),
      ],
    },
    cancelled: {
      tags: ['settled'],
      entry: [{ type: 'markSettled', params: { status: 'cancelled' } }, ...settleEffects],
    },
    skipped: {
      tags: ['settled'],
      entry: [{ type: 'markSettled', params: { status: 'skipped' } }, ...settleEffects],
      on: { 'task.rework': { target: 'waiting', actions: 'rework' } },
    },
  },
});

export type TaskMachine = typeof taskMachine;

const NO_CONTROLS: TaskControls = Object.freeze({});

/** What a failed dependency does to the task, by its declared policy (skip by default). */
function depPolicy(controls: TaskControls, event: TaskEvent): string {
  if (event.type !== 'task.dependency.failed') return 'skip';
  return controls.onDependencyFailure?.[event.taskId] ?? 'skip';
}

export { attemptsInBudget };

/** Maps the machine's state value to a flat status name. */
export function taskStatusOf(value: unknown): TaskStatus {
  if (typeof value === 'string') return value as TaskStatus;
  if (value && typeof value === 'object' && 'leased' in value) {
    return (value as { leased: 'offered' | 'running' }).leased;
  }
  throw new Error(`unexpected task state ${JSON.stringify(value)}`);
}
