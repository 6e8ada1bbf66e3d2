import {
  context as otelContext,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { TroupeEvent } from '../event-bus.js';
import { contextFromTraceparent, traceparentOf } from './trace-context.js';

/**
 * OpenTelemetry spans made from the committed event stream, so tracing never changes what the
 * engine does and sees exactly what observers see:
 *
 *   ticket <title>          ticket.created … ticket.completed|failed|cancelled
 *     phase <name>          phase.opened … phase.passed|failed|cancelled  (gate verdicts as span events)
 *       task <type>         task.created … task.completed|dead_lettered|cancelled|skipped
 *         attempt <n>       task.assigned … task.completed|failed|timed_out|… (agent, error category)
 *   coordinator <kind>      coordination.<kind>.created … its decision
 *
 * A task created with a W3C `traceparent` (HTTP `traceparent` header, `trace` on the task)
 * starts its span under it, so a client's trace continues through the engine to the agent.
 * Span times are the events' times (the runtime clock, so a simulated clock gives exact spans).
 * Spans open when the process stops are not ended: their actors carry on after a restart, and
 * the spans from then on start anew.
 */

const TASK_END = new Set(['task.completed', 'task.dead_lettered', 'task.cancelled', 'task.skipped']);
const ATTEMPT_END = new Set([
  'task.completed',
  'task.failed',
  'task.timed_out',
  'task.dead_lettered',
  'task.cancelled',
  'task.rejected',
]);
const TICKET_END = new Set(['ticket.completed', 'ticket.failed', 'ticket.cancelled']);
const PHASE_END = new Set(['phase.passed', 'phase.failed', 'phase.cancelled']);
const COORDINATOR_END =
  /^coordination\.([a-z_]+)\.(completed|failed|released|broken|compensated|compensation_failed|decided|resolved)$/;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export class EventSpans {
  private readonly tickets = new Map<string, Span>();
  private readonly phases = new Map<string, Span>();
  private readonly tasks = new Map<string, Span>();
  /** `task.created` of ticket tasks whose phase has not opened yet. */
  private readonly created = new Map<string, TroupeEvent>();
  private readonly attempts = new Map<string, Span>();
  private readonly coordinators = new Map<string, Span>();

  constructor(private readonly tracer: Tracer) {}

  /** How many spans are open now (for tests and the metrics). */
  get open(): number {
    return this.tickets.size + this.phases.size + this.tasks.size + this.attempts.size + this.coordinators.size;
  }

  /**
   * The `traceparent` an agent continues for this task: its current attempt's span, else the
   * task's; undefined when the task has no open span here.
   */
  traceparentFor(taskId: string): string | undefined {
    const span = this.attempts.get(taskId) ?? this.tasks.get(taskId);
    return span ? traceparentOf(span.spanContext()) : undefined;
  }

  handle(event: TroupeEvent): void {
    const type = event.type;
    if (type.startsWith('task.')) this.task(event);
    else if (type.startsWith('phase.')) this.phase(event);
    else if (type.startsWith('ticket.')) this.ticket(event);
    else if (type.startsWith('coordination.')) this.coordinator(event);
  }

  private start(
    name: string,
    at: number,
    parent: Context,
    attributes: Record<string, string | number | boolean>,
  ): Span {
    return this.tracer.startSpan(name, { startTime: at, attributes }, parent);
  }

  private parentOf(span: Span | undefined): Context {
    return span ? trace.setSpan(otelContext.active(), span) : otelContext.active();
  }

  private ticket(e: TroupeEvent): void {
    const id = e.ticketId;
    if (!id) return;
    if (e.type === 'ticket.created') {
      const parent = contextFromTraceparent(str(e.data['traceparent']));
      this.tickets.set(
        id,
        this.start(`ticket ${str(e.data['title']) ?? id}`, e.at, parent, { 'troupe.ticket.id': id }),
      );
      return;
    }
    const span = this.tickets.get(id);
    if (!span) return;
    if (TICKET_END.has(e.type)) {
      if (e.type !== 'ticket.completed')
        span.setStatus({ code: SpanStatusCode.ERROR, message: str(e.data['reason']) ?? e.type });
      span.end(e.at);
      this.tickets.delete(id);
    } else span.addEvent(e.type, e.at);
  }

  private phase(e: TroupeEvent): void {
    if (!e.ticketId || !e.phase) return;
    const key = `${e.ticketId}\u0000${e.phase}`;
    const open = this.phases.get(key);
    if (e.type === 'phase.opened' && open) {
      // A new round of the same phase (after a rejected gate): one span for the phase's life.
      open.addEvent('phase.opened', { 'troupe.round': Number(e.data['round'] ?? 0) }, e.at);
      return;
    }
    if (e.type === 'phase.opened') {
      const span = this.start(`phase ${e.phase}`, e.at, this.parentOf(this.tickets.get(e.ticketId)), {
        'troupe.ticket.id': e.ticketId,
        'troupe.phase': e.phase,
        'troupe.round': Number(e.data['round'] ?? 1),
      });
      this.phases.set(key, span);
      return;
    }
    const span = this.phases.get(key);
    if (!span) return;
    if (e.type === 'phase.rejected' || e.type === 'phase.passed') {
      // A gate's verdict: the reasons and feedback of the round, as the gate decided them.
      span.addEvent(
        e.type === 'phase.passed' ? 'gate.passed' : 'gate.rejected',
        { 'troupe.gate.verdict': JSON.stringify(e.data) },
        e.at,
      );
    }
    if (PHASE_END.has(e.type)) {
      if (e.type !== 'phase.passed') span.setStatus({ code: SpanStatusCode.ERROR, message: e.type });
      span.end(e.at);
      this.phases.delete(key);
    } else if (e.type !== 'phase.rejected') span.addEvent(e.type, e.at);
  }

  private task(e: TroupeEvent): void {
    const id = e.taskId;
    if (!id) return;
    if (e.type === 'task.created') {
      // A ticket's tasks are made before their phase opens: their span starts (at this event's
      // time) once the phase's span exists, so that it nests under it.
      if (e.ticketId && e.phase && !this.phases.has(`${e.ticketId}\u0000${e.phase}`)) this.created.set(id, e);
      else this.startTask(e);
      return;
    }
    const created = this.created.get(id);
    if (
      created &&
      (e.type !== 'task.queued' ||
        !e.ticketId ||
        !e.phase ||
        this.phases.has(`${e.ticketId}\u0000${e.phase}`) ||
        TASK_END.has(e.type))
    ) {
      this.created.delete(id);
      this.startTask(created);
    }
    const task = this.tasks.get(id);
    if (e.type === 'task.assigned') {
      const attempt = Number(e.data['attempt'] ?? 0);
      this.attempts.get(id)?.end(e.at);
      // A task reworked after it settled has no span of its own any more: its new attempt nests under its phase.
      const parent = task ?? (e.ticketId && e.phase ? this.phases.get(`${e.ticketId}\u0000${e.phase}`) : undefined);
      this.attempts.set(
        id,
        this.start(`attempt ${attempt}`, e.at, this.parentOf(parent), {
          'troupe.task.id': id,
          'troupe.attempt': attempt,
          'troupe.agent.id': e.agentId ?? '',
        }),
      );
      return;
    }
    const attempt = this.attempts.get(id);
    if (attempt && ATTEMPT_END.has(e.type)) {
      const error = e.data['error'] as { category?: string; code?: string; message?: string } | undefined;
      if (error) {
        attempt.setAttribute('troupe.error.category', error.category ?? 'unknown');
        attempt.setAttribute('troupe.error.code', error.code ?? '');
      }
      if (e.type !== 'task.completed')
        attempt.setStatus({ code: SpanStatusCode.ERROR, message: error?.message ?? e.type });
      attempt.end(e.at);
      this.attempts.delete(id);
    } else if (attempt && e.type === 'task.started') attempt.addEvent('running', e.at);
    if (!task) return;
    if (TASK_END.has(e.type)) {
      if (e.type !== 'task.completed') task.setStatus({ code: SpanStatusCode.ERROR, message: e.type });
      task.end(e.at);
      this.tasks.delete(id);
    } else if (!ATTEMPT_END.has(e.type) && e.type !== 'task.started') task.addEvent(e.type, e.at);
  }

  private startTask(e: TroupeEvent): void {
    const id = e.taskId!;
    const traceparent = str(e.data['traceparent']);
    const phase = e.ticketId && e.phase ? this.phases.get(`${e.ticketId}\u0000${e.phase}`) : undefined;
    const parent = traceparent
      ? contextFromTraceparent(traceparent)
      : this.parentOf(phase ?? (e.ticketId ? this.tickets.get(e.ticketId) : undefined));
    const attributes: Record<string, string | number> = {
      'troupe.task.id': id,
      'troupe.task.type': str(e.data['type']) ?? '',
    };
    if (e.ticketId) attributes['troupe.ticket.id'] = e.ticketId;
    if (e.phase) attributes['troupe.phase'] = e.phase;
    this.tasks.set(id, this.start(`task ${str(e.data['type']) ?? id}`, e.at, parent, attributes));
  }

  private coordinator(e: TroupeEvent): void {
    const id = str(e.data['id']) ?? str(e.data['coordinatorId']);
    if (!id) return;
    const created = /^coordination\.([a-z_]+)\.created$/.exec(e.type);
    if (created) {
      const parent = this.parentOf(e.ticketId ? this.tickets.get(e.ticketId) : undefined);
      this.coordinators.set(
        id,
        this.start(`coordinator ${created[1]}`, e.at, parent, {
          'troupe.coordinator.id': id,
          'troupe.coordinator.kind': created[1] ?? '',
        }),
      );
      return;
    }
    const span = this.coordinators.get(id);
    if (!span) return;
    const end = COORDINATOR_END.exec(e.type);
    if (end) {
      if (end[2] === 'failed' || end[2] === 'broken' || end[2] === 'compensation_failed')
        span.setStatus({ code: SpanStatusCode.ERROR, message: e.type });
      span.end(e.at);
      this.coordinators.delete(id);
    } else span.addEvent(e.type, e.at);
  }
}

/**
 * Whether an OpenTelemetry SDK is registered: without one the API hands out spans that record
 * nothing, and the runtime does not subscribe at all (tracing then costs one probe at start).
 */
export function tracingEnabled(tracer: Tracer): boolean {
  const probe = tracer.startSpan('troupe.probe');
  const recording = probe.isRecording();
  probe.end();
  return recording;
}

/** The tracer the runtime uses: `troupe` from the globally registered provider. */
export function troupeTracer(): Tracer {
  return trace.getTracer('troupe');
}
