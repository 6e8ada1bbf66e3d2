import type { AttemptError, AttemptRecord, TaskContext, TaskEvent, TaskTimes } from './task-types.js';

/** Pure helpers of the task machine: how attempts fail, end and are retried; which deadline is due. */

export type FailureEvent = Extract<TaskEvent, { type: 'task.fail' | 'task.agent_lost' | 'timer' }>;
type Args = { context: TaskContext; event: TaskEvent };

/** The error an attempt ends with, for each way an attempt can fail. */
export function attemptError(context: TaskContext, event: FailureEvent): AttemptError {
  if (event.type === 'task.fail') return event.error;
  if (event.type === 'task.agent_lost') {
    return {
      message: `agent ${event.agentId} was lost while holding the task`,
      category: 'agent-lost',
      code: 'E_AGENT_LOST',
      retryable: true,
    };
  }
  const name = event.name as 'start' | 'finish' | 'heartbeat';
  return {
    message: `${name} deadline of ${context.spec.timeouts[name]} ms passed`,
    category: 'timeout',
    code: 'E_TIMEOUT',
    retryable: true,
    timeout: name,
  };
}

/** Attempts made since the task was last redriven (all of them if never): what the retry budget counts. */
export function attemptsInBudget(context: TaskContext): number {
  const last = context.redrives.length > 0 ? context.redrives[context.redrives.length - 1] : undefined;
  return context.attempt - (last?.afterAttempt ?? 0);
}

export function canRetry(context: TaskContext, error: AttemptError): boolean {
  return error.retryable && attemptsInBudget(context) < context.spec.retry.maxAttempts;
}

export function closeAttempt(attempts: AttemptRecord[], attempt: number, now: number, error: AttemptError | null) {
  const last = attempts[attempts.length - 1];
  if (!last || last.attempt !== attempt || last.endedAt !== undefined) return attempts;
  return withLast(attempts, attemptWith(last, error ? { endedAt: now, error } : { endedAt: now }));
}

/**
 * An attempt record with some of its times (or its error) set. Built field by field in one order:
 * spreading records of several shapes (with or without a start time) was a slow path.
 */
export function attemptWith(
  base: AttemptRecord,
  changes: Pick<AttemptRecord, 'startedAt' | 'endedAt' | 'error'>,
): AttemptRecord {
  const record: AttemptRecord = {
    attempt: base.attempt,
    agentId: base.agentId,
    leaseId: base.leaseId,
    assignedAt: base.assignedAt,
  };
  const startedAt = changes.startedAt ?? base.startedAt;
  if (startedAt !== undefined) record.startedAt = startedAt;
  const endedAt = changes.endedAt ?? base.endedAt;
  if (endedAt !== undefined) record.endedAt = endedAt;
  const error = changes.error ?? base.error;
  if (error !== undefined) record.error = error;
  return record;
}

/** A copy of `list` with its last item replaced. */
export function withLast<T>(list: readonly T[], last: T): T[] {
  const copy = list.slice();
  copy[copy.length - 1] = last;
  return copy;
}

export const leaseMatches = ({ context, event }: Args): boolean =>
  'leaseId' in event && context.lease !== null && context.lease.id === event.leaseId;

export const timerDue = (name: 'start' | 'finish' | 'heartbeat', { context, event }: Args): boolean => {
  if (event.type !== 'timer' || event.name !== name) return false;
  const limit = context.spec.timeouts[name];
  const at = context.at;
  const from = name === 'start' ? at.queuedAt : name === 'finish' ? at.startedAt : at.lastBeatAt;
  return limit !== undefined && from !== null && event.now >= from + limit;
};

/** The task's times with some replaced. Built field by field: spreading the patch (a different shape at each call) was a slow path. */
export const times = (context: TaskContext, patch: Partial<TaskTimes>): TaskTimes => {
  const at = context.at;
  return {
    queuedAt: patch.queuedAt !== undefined ? patch.queuedAt : at.queuedAt,
    startedAt: patch.startedAt !== undefined ? patch.startedAt : at.startedAt,
    lastBeatAt: patch.lastBeatAt !== undefined ? patch.lastBeatAt : at.lastBeatAt,
    retryAt: patch.retryAt !== undefined ? patch.retryAt : at.retryAt,
    settledAt: patch.settledAt !== undefined ? patch.settledAt : at.settledAt,
    notBefore: patch.notBefore !== undefined ? patch.notBefore : at.notBefore,
  };
};
