import { context as otelContext } from '@opentelemetry/api';
import { NonRetryableError, TroupeError } from '../../core/errors.js';
import type { TaskContext } from '../../core/machines/task-types.js';
import { findNonJson } from '../../core/json-value.js';
import type { AgentTransport, Offer, Revocation } from '../agent-transport.js';
import { contextFromTraceparent } from '../tracing/trace-context.js';
import { jsonSize } from '../validation.js';
import type { ContextPackage } from './context-package.js';
import { toAttemptError, type TaskHandler, type TaskHandlerContext } from './task-handler.js';
import type { TaskView } from './views.js';

/** The runtime services the in-process transport needs. */
export interface InProcessHost {
  taskContext(taskId: string): TaskContext | undefined;
  view(context: TaskContext, status: 'running'): TaskView;
  contextPackage(task: TaskContext): Promise<ContextPackage> | ContextPackage;
  send(taskId: string, event: { type: string } & Record<string, unknown>): void;
  sendAgentMessage(from: string, to: string, body: unknown): void;
  /** The trace context of the task's current attempt when the runtime traces (undefined otherwise). */
  traceparent?(taskId: string): string | undefined;
  maxResultBytes: number;
}

interface Running {
  abort: LazyAbort;
  agentId: string;
  taskId: string;
}

/**
 * Runs the handlers of agents registered in this process. An offer calls the handler at once
 * (the agent accepts by taking it); a revocation aborts its signal.
 */
export class InProcessAgents implements AgentTransport {
  private readonly handlers = new Map<string, TaskHandler>();
  private readonly running = new Map<string, Running>();

  constructor(private readonly host: InProcessHost) {}

  add(agentId: string, handler: TaskHandler): void {
    this.handlers.set(agentId, handler);
  }

  remove(agentId: string): void {
    this.handlers.delete(agentId);
  }

  offer(offer: Offer): void {
    const handler = this.handlers.get(offer.agentId);
    const task = this.host.taskContext(offer.taskId);
    if (!handler || !task || task.lease?.id !== offer.leaseId) return;
    const abort = new LazyAbort();
    this.running.set(offer.leaseId, { abort, agentId: offer.agentId, taskId: offer.taskId });
    void this.run(handler, task, offer, abort);
  }

  revoke(revocation: Revocation): void {
    const running = this.running.get(revocation.leaseId);
    if (!running) return;
    this.running.delete(revocation.leaseId);
    running.abort.abort(new TroupeError('E_CANCELLED', revocation.reason));
  }

  private async run(handler: TaskHandler, task: TaskContext, offer: Offer, abort: LazyAbort): Promise<void> {
    const { leaseId, taskId } = offer;
    const controls = new HandlerControls(this.host, offer, abort);
    try {
      // Awaiting only real promises: a synchronous package or result costs no extra turn.
      const built = this.host.contextPackage(task);
      const pkg = built instanceof Promise ? await built : built;
      const context = new HandlerContext(pkg, controls);
      // Handlers run under the attempt's trace context, so spans they make join the trace.
      const traceparent = this.host.traceparent?.(taskId) ?? task.spec.traceparent;
      const view = this.host.view(task, 'running');
      const returned =
        traceparent === undefined
          ? handler(view, context)
          : otelContext.with(contextFromTraceparent(traceparent), () => handler(view, context));
      const result = returned instanceof Promise ? ((await returned) as unknown) : returned;
      if (abort.aborted) return;
      const outcome = {
        result: result === undefined ? null : result,
        artifacts: controls.artifacts,
        quality: controls.score,
      };
      this.checkOutcome(outcome);
      this.host.send(taskId, {
        type: 'task.complete',
        leaseId,
        result: outcome.result,
        artifacts: outcome.artifacts,
        quality: outcome.quality,
      });
    } catch (error) {
      if (abort.aborted) return;
      this.host.send(taskId, { type: 'task.fail', leaseId, error: toAttemptError(error) });
    } finally {
      this.running.delete(leaseId);
    }
  }

  private checkOutcome(outcome: { result: unknown; artifacts: Record<string, unknown>; quality: number | null }): void {
    // A bare scalar with nothing else cannot be bad JSON nor anywhere near the size limit.
    const r = outcome.result;
    const scalar =
      r === null ||
      typeof r === 'boolean' ||
      (typeof r === 'number' && Number.isFinite(r)) ||
      (typeof r === 'string' && r.length < 1024);
    if (scalar && outcome.quality === null && isEmpty(outcome.artifacts)) return;
    const bad = findNonJson(outcome);
    if (bad) {
      throw new TroupeError(
        'E_NOT_SERIALIZABLE',
        `handler returned a value that is not plain JSON at ${bad.replace('$', 'result')}`,
      );
    }
    const size = jsonSize(outcome);
    if (size > this.host.maxResultBytes) {
      throw new NonRetryableError(`handler result is ${size} bytes, over the limit of ${this.host.maxResultBytes}`);
    }
  }
}

function isEmpty(record: Record<string, unknown>): boolean {
  for (const _ in record) return false;
  return true;
}

/** What a handler's controls act on: the attempt, its artifacts and score so far. */
class HandlerControls {
  readonly artifacts: Record<string, unknown> = {};
  score: number | null = null;

  constructor(
    readonly host: InProcessHost,
    readonly offer: Offer,
    readonly abort: LazyAbort,
  ) {}

  heartbeat(): void {
    if (!this.abort.aborted) this.host.send(this.offer.taskId, { type: 'task.heartbeat', leaseId: this.offer.leaseId });
  }

  progress(value: number | null, message?: string): void {
    if (!this.abort.aborted) {
      this.host.send(this.offer.taskId, {
        type: 'task.progress',
        leaseId: this.offer.leaseId,
        value,
        message: message ?? null,
      });
    }
  }

  #bound: BoundControls | undefined;

  /** The controls as functions a handler may pass around unbound; made on first use (most handlers use none). */
  get bound(): BoundControls {
    return (this.#bound ??= {
      heartbeat: () => this.heartbeat(),
      progress: (value, message) => this.progress(value, message),
      artifact: (name, value) => {
        this.artifacts[name] = value;
      },
      quality: (score) => {
        this.score = score;
      },
      message: (to, body) => this.host.sendAgentMessage(this.offer.agentId, to, body),
    });
  }
}

type BoundControls = Pick<TaskHandlerContext, 'heartbeat' | 'progress' | 'artifact' | 'quality' | 'message'>;

/**
 * The context a handler gets; its controls and signal are made when first read. A class rather than
 * an object literal: a literal with a getter is built on V8's slow path, property by property.
 */
class HandlerContext implements TaskHandlerContext {
  readonly ticket: ContextPackage['ticket'];
  readonly dependencies: ContextPackage['dependencies'];
  readonly artifacts: ContextPackage['artifacts'];
  readonly feedback: string | null;
  readonly round: number;
  readonly attempt: number;
  readonly validation: ContextPackage['validation'];
  readonly #controls: HandlerControls;

  constructor(pkg: ContextPackage, controls: HandlerControls) {
    this.#controls = controls;
    this.ticket = pkg.ticket;
    this.dependencies = pkg.dependencies;
    this.artifacts = pkg.artifacts;
    this.feedback = pkg.feedback;
    this.round = pkg.round;
    this.attempt = pkg.attempt;
    this.validation = pkg.validation;
  }

  get signal(): AbortSignal {
    return this.#controls.abort.signal;
  }

  get heartbeat(): BoundControls['heartbeat'] {
    return this.#controls.bound.heartbeat;
  }

  get progress(): BoundControls['progress'] {
    return this.#controls.bound.progress;
  }

  get artifact(): BoundControls['artifact'] {
    return this.#controls.bound.artifact;
  }

  get quality(): BoundControls['quality'] {
    return this.#controls.bound.quality;
  }

  get message(): BoundControls['message'] {
    return this.#controls.bound.message;
  }
}

/**
 * An abort signal made only when a handler looks at it: most handlers never do, and an
 * AbortController costs more than the rest of a no-op task's call.
 */
class LazyAbort {
  aborted = false;
  private reason: unknown;
  private controller: AbortController | undefined;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
