import { TroupeError, type ErrorCategory } from '../../core/errors.js';
import type { TaskContext } from '../../core/machines/task-types.js';
import type { MessageOutcome } from '../host-types.js';
import type { RuntimeCore } from '../runtime-core.js';
import { assertStorablePayload } from '../validation.js';
import { taskView, type TaskView } from './views.js';

/** What an agent hands in when a task succeeds: the result, named artifacts, and an optional quality score for gates. */
export interface CompleteReport {
  result?: unknown;
  artifacts?: Record<string, unknown>;
  quality?: number | null;
}

/** What an agent reports when an attempt fails; `category` and `retryable` decide whether the task is retried (docs/errors.md). */
export interface FailReport {
  message: string;
  category?: ErrorCategory;
  code?: string;
  retryable?: boolean;
}

/** How a report about a lease ended. */
export interface ReportOutcome {
  /** True when this report moved the task; false for a repeat of one already applied. */
  applied: boolean;
  task: TaskView;
}

/**
 * Reports about leased work, as remote agents send them: only the holder of the current lease
 * can move a task. A repeat of the report that settled the task is answered the same way
 * (idempotent); anything else about a lease that is not current is refused with
 * `E_LEASE_MISMATCH` and changes nothing.
 *
 * @example
 * ```ts
 * await runtime.leases.complete(taskId, leaseId, { result: { ok: true } });
 * ```
 */
export class LeaseApi {
  constructor(
    private readonly core: RuntimeCore,
    private readonly maxPayloadBytes: number,
  ) {}

  accept(taskId: string, leaseId: string): Promise<ReportOutcome> {
    return this.report(taskId, leaseId, { type: 'task.accept', leaseId }, 'accept');
  }

  reject(taskId: string, leaseId: string, reason: string): Promise<ReportOutcome> {
    return this.report(taskId, leaseId, { type: 'task.reject', leaseId, reason }, 'reject');
  }

  heartbeat(taskId: string, leaseId: string): Promise<ReportOutcome> {
    return this.report(taskId, leaseId, { type: 'task.heartbeat', leaseId }, 'heartbeat');
  }

  progress(taskId: string, leaseId: string, value: number | null, message: string | null): Promise<ReportOutcome> {
    return this.report(taskId, leaseId, { type: 'task.progress', leaseId, value, message }, 'progress');
  }

  complete(taskId: string, leaseId: string, report: CompleteReport): Promise<ReportOutcome> {
    const outcome = {
      result: report.result ?? null,
      artifacts: report.artifacts ?? {},
      quality: report.quality ?? null,
    };
    assertStorablePayload(outcome, 'the completion', this.maxPayloadBytes);
    return this.report(taskId, leaseId, { type: 'task.complete', leaseId, ...outcome }, 'complete');
  }

  fail(taskId: string, leaseId: string, report: FailReport): Promise<ReportOutcome> {
    const category = report.category ?? 'transient';
    const retryable =
      report.retryable ?? (category === 'transient' || category === 'timeout' || category === 'agent-lost');
    const error = { message: report.message, category, code: report.code ?? 'E_TASK_FAILED', retryable };
    return this.report(taskId, leaseId, { type: 'task.fail', leaseId, error }, 'fail');
  }

  private async report(
    taskId: string,
    leaseId: string,
    event: { type: string } & Record<string, unknown>,
    kind: 'accept' | 'reject' | 'heartbeat' | 'progress' | 'complete' | 'fail',
  ): Promise<ReportOutcome> {
    const outcome: MessageOutcome = await this.core.host.request(taskId, event, 'task');
    // Only a missing actor means an unknown task; any other error (a store failure, a snapshot of
    // another machine version) is passed on as it is.
    // An id of another kind (an agent's, a ticket's) is no task either: reports never reach it.
    if (outcome.error?.details?.missing === true || outcome.error?.code === 'E_ID_KIND_CONFLICT') {
      throw new TroupeError('E_UNKNOWN_TASK', `no task has id "${taskId}"`);
    }
    if (outcome.error) throw outcome.error;
    const snapshot = outcome.snapshot;
    if (!snapshot) throw new TroupeError('E_UNKNOWN_TASK', `no task has id "${taskId}"`);
    const context = snapshot.context as TaskContext;
    const task = taskView(snapshot.value, context);
    if (outcome.applied) return { applied: true, task };
    // Not applied: idempotent if this lease already settled the task the same way.
    const last = context.attempts[context.attempts.length - 1];
    const sameLease = context.attempts.some((a) => a.leaseId === leaseId);
    const repeat =
      sameLease &&
      last?.leaseId === leaseId &&
      ((kind === 'complete' && task.status === 'succeeded') ||
        (kind === 'fail' &&
          last.error !== undefined &&
          (task.status === 'retrying' || task.status === 'dead_lettered' || task.status === 'queued')));
    if (repeat) return { applied: false, task };
    throw new TroupeError(
      'E_LEASE_MISMATCH',
      sameLease
        ? `lease ${leaseId} of task ${taskId} has ended (the task is ${task.status}); this ${kind} is refused`
        : `lease ${leaseId} is not a lease of task ${taskId} (the task is ${task.status}); this ${kind} is refused`,
      { details: { taskId, leaseId, status: task.status } },
    );
  }
}
