import { context as otelContext } from '@opentelemetry/api';
import { contextFromTraceparent } from '../../engine/tracing/trace-context.js';
import { NonRetryableError, TroupeError } from '../../core/errors.js';
import { toAttemptError, type TaskHandler, type TaskHandlerContext } from '../../engine/api/task-handler.js';
import type { ContextPackage } from '../../engine/api/context-package.js';
import { findNonJson } from '../../core/json-value.js';
import { jsonSize } from '../../engine/validation.js';
import type { TaskView } from '../../engine/api/views.js';
import type { AckMessage, AssignMessage, CancelMessage, WelcomeMessage } from '../server/protocol/server-messages.js';
import type { Request } from './agent-link.js';
import { DisconnectedError, RemoteError } from './remote-error.js';
import type { SlotPool } from './slot-pool.js';

/** How the runner talks to the server; requests fail with `DisconnectedError` while disconnected. */
export interface Channel {
  request(frame: Request): Promise<AckMessage>;
  send(frame: Request): boolean;
}

export interface TaskRunnerOptions {
  capacity: number;
  /** Slots shared with the worker's other connections, besides this connection's capacity. */
  slots?: SlotPool;
  handler: TaskHandler;
  channel: Channel;
  /** Largest frame the server reads (from welcome). */
  maxFrameBytes: () => number;
  onError: (error: Error) => void;
}

interface Lease {
  taskId: string;
  leaseId: string;
  controller: AbortController;
  /** The complete or fail report once the handler is done, until the server has answered it. */
  report: Request | null;
  /** True while the lease takes one of the agent's slots (its handler runs and has not been aborted). */
  busy: boolean;
}

/** Refusals after which a report can never apply: the lease is gone. */
const LEASE_GONE = new Set(['E_LEASE_MISMATCH', 'E_UNKNOWN_TASK', 'E_FORBIDDEN']);
/** Refusals of a completion that no retry fixes: the attempt fails instead. */
const RESULT_REFUSED = new Set(['E_PAYLOAD_TOO_LARGE', 'E_NOT_SERIALIZABLE', 'E_INVALID_MESSAGE']);

/**
 * Runs assigned tasks with the agent's handler, exactly as in-process agents run them: the
 * same task view and context, abort on cancel, a thrown error fails the attempt.
 *
 * Reports survive a reconnect: a finished task keeps its complete (or fail) report until the
 * server answers it, and the report goes out again after the next welcome. Leases make the
 * repeat harmless: the server applies a report once and answers a repeat the same way.
 */
export class TaskRunner {
  private readonly leases = new Map<string, Lease>();
  private busy = 0;

  constructor(private readonly options: TaskRunnerOptions) {}

  /** What the agent holds, for its hello after a reconnect. */
  held(): Array<{ taskId: string; leaseId: string }> {
    return [...this.leases.values()].map((l) => ({ taskId: l.taskId, leaseId: l.leaseId }));
  }

  /** Handlers running now (not counting those told to stop). */
  get running(): number {
    return this.busy;
  }

  assign(frame: AssignMessage): void {
    // A resent assignment of work already under way changes nothing.
    if (this.leases.has(frame.leaseId)) return;
    const { channel } = this.options;
    if (this.running >= this.options.capacity || this.options.slots?.take() === false) {
      channel
        .request({ type: 'reject', taskId: frame.taskId, leaseId: frame.leaseId, reason: 'at capacity' })
        .catch(() => undefined);
      return;
    }
    const lease: Lease = {
      taskId: frame.taskId,
      leaseId: frame.leaseId,
      controller: new AbortController(),
      report: null,
      busy: true,
    };
    this.leases.set(lease.leaseId, lease);
    this.busy += 1;
    channel.request({ type: 'accept', taskId: lease.taskId, leaseId: lease.leaseId }).catch((error: unknown) => {
      // Refused: the lease is not ours any more. Disconnected: the next hello settles it.
      if (error instanceof RemoteError) this.end(lease, error.message);
    });
    void this.run(lease, frame);
  }

  cancel(frame: CancelMessage): void {
    const lease = this.leases.get(frame.leaseId);
    if (lease) this.end(lease, frame.reason);
  }

  /** After each welcome: stop what the server took back, send again what it has not answered. */
  welcomed(welcome: WelcomeMessage): void {
    const revoked = new Map(welcome.revoked.map((r) => [r.leaseId, r.reason]));
    for (const lease of [...this.leases.values()]) {
      const reason = revoked.get(lease.leaseId);
      if (reason !== undefined && lease.report === null) this.end(lease, reason);
      // A report of a revoked lease still goes out: the answer says whether it had applied.
      else if (lease.report !== null) this.deliver(lease);
    }
  }

  /** Aborts every handler (the agent is closing); unanswered reports are dropped. */
  abortAll(reason: string): void {
    for (const lease of this.leases.values()) this.free(lease).controller.abort(new TroupeError('E_CANCELLED', reason));
    this.leases.clear();
  }

  private end(lease: Lease, reason: string): void {
    if (this.leases.get(lease.leaseId) === lease) this.leases.delete(lease.leaseId);
    this.free(lease);
    if (!lease.controller.signal.aborted) lease.controller.abort(new TroupeError('E_CANCELLED', reason));
  }

  /** The lease no longer takes a slot: its handler finished or was told to stop. */
  private free(lease: Lease): Lease {
    if (lease.busy) {
      lease.busy = false;
      this.busy -= 1;
      this.options.slots?.give();
    }
    return lease;
  }

  private async run(lease: Lease, frame: AssignMessage): Promise<void> {
    const { channel } = this.options;
    const { signal } = lease.controller;
    const { taskId, leaseId } = lease;
    const artifacts: Record<string, unknown> = {};
    let quality: number | null = null;
    const context: TaskHandlerContext = {
      ...(frame.context as ContextPackage),
      signal,
      heartbeat: () => {
        if (!signal.aborted) channel.send({ type: 'heartbeat', taskId, leaseId });
      },
      progress: (value, message) => {
        if (!signal.aborted) channel.send({ type: 'progress', taskId, leaseId, value, message: message ?? null });
      },
      artifact: (name, value) => {
        artifacts[name] = value;
      },
      quality: (score) => {
        quality = score;
      },
      message: (to, body) => {
        channel.request({ type: 'message', to, body }).catch((error: unknown) => this.options.onError(error as Error));
      },
    };
    let report: Request;
    try {
      const run = () => this.options.handler({ ...(frame.task as TaskView), status: 'running' }, context);
      // The attempt's trace context, so spans the handler makes join the server's trace.
      const traceparent = (frame as { traceparent?: string }).traceparent;
      const result = await (traceparent === undefined
        ? run()
        : otelContext.with(contextFromTraceparent(traceparent), run));
      if (signal.aborted) return void this.free(lease);
      report = this.completion(lease, result === undefined ? null : result, artifacts, quality);
    } catch (error) {
      if (signal.aborted) return void this.free(lease);
      report = failure(lease, error);
    }
    this.free(lease);
    if (this.leases.get(leaseId) !== lease) return;
    lease.report = report;
    this.deliver(lease);
  }

  /** The complete report, or a fail report when the result cannot be sent as it is. */
  private completion(
    lease: Lease,
    result: unknown,
    artifacts: Record<string, unknown>,
    quality: number | null,
  ): Request {
    const report = { type: 'complete', taskId: lease.taskId, leaseId: lease.leaseId, result, artifacts, quality };
    const bad = findNonJson({ result, artifacts, quality });
    if (bad) {
      return failure(
        lease,
        new NonRetryableError(`handler returned a value that is not plain JSON at ${bad.replace('$', 'result')}`),
        'E_NOT_SERIALIZABLE',
      );
    }
    const size = jsonSize(report);
    const limit = this.options.maxFrameBytes();
    if (size > limit) {
      return failure(
        lease,
        new NonRetryableError(`the result is ${size} bytes, over the frame limit of ${limit}`),
        'E_PAYLOAD_TOO_LARGE',
      );
    }
    return report;
  }

  private deliver(lease: Lease): void {
    const report = lease.report;
    if (!report) return;
    this.options.channel.request(report).then(
      () => {
        if (this.leases.get(lease.leaseId) === lease) this.leases.delete(lease.leaseId);
      },
      (error: unknown) => {
        if (error instanceof DisconnectedError || this.leases.get(lease.leaseId) !== lease) return;
        if (error instanceof RemoteError && report.type === 'complete' && RESULT_REFUSED.has(error.code)) {
          lease.report = failure(
            lease,
            new NonRetryableError(`the server refused the result: ${error.message}`),
            error.code,
          );
          this.deliver(lease);
          return;
        }
        if (error instanceof RemoteError && LEASE_GONE.has(error.code)) this.leases.delete(lease.leaseId);
        // Otherwise the report waits for the next welcome and goes out again then.
        this.options.onError(error as Error);
      },
    );
  }
}

function failure(lease: Lease, error: unknown, code?: string): Request {
  const attempt = toAttemptError(error);
  return {
    type: 'fail',
    taskId: lease.taskId,
    leaseId: lease.leaseId,
    error: attempt.message.slice(0, 100_000),
    category: attempt.category === 'agent-lost' ? 'transient' : attempt.category,
    retryable: attempt.retryable,
    code: code ?? attempt.code,
  };
}
