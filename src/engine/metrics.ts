import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventBus, TroupeEvent } from './event-bus.js';

const SETTLED = new Set(['task.completed', 'task.dead_lettered', 'task.cancelled', 'task.skipped']);

/**
 * Prometheus metrics derived from the committed event stream, in a registry of their own (so
 * several runtimes in one process never collide). Durations come from event times, that is from
 * the runtime's clock.
 *
 * @example
 * ```ts
 * const text = await runtime.metrics.text(); // Prometheus exposition format
 * ```
 */
export class RuntimeMetrics {
  readonly registry = new Registry();
  private readonly tasksCreated = new Counter({
    name: 'troupe_tasks_created_total',
    help: 'Tasks created',
    registers: [this.registry],
  });
  private readonly tasksSettled = new Counter({
    name: 'troupe_tasks_settled_total',
    help: 'Tasks settled, by final status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  private readonly attemptsFailed = new Counter({
    name: 'troupe_task_attempts_failed_total',
    help: 'Failed attempts, by error category',
    labelNames: ['category'] as const,
    registers: [this.registry],
  });
  private readonly queueWait = new Histogram({
    name: 'troupe_task_queue_wait_seconds',
    help: 'Time from queued to started',
    buckets: [0.001, 0.01, 0.1, 1, 10, 60, 600],
    registers: [this.registry],
  });
  private readonly runTime = new Histogram({
    name: 'troupe_task_run_seconds',
    help: 'Time from started to completed',
    buckets: [0.001, 0.01, 0.1, 1, 10, 60, 600, 3600],
    registers: [this.registry],
  });
  private readonly queued: Gauge;
  private readonly liveActors: Gauge;
  private readonly staleAgents = new Counter({
    name: 'troupe_agents_stale_total',
    help: 'Agents that went stale',
    registers: [this.registry],
  });
  private readonly phases = new Counter({
    name: 'troupe_phase_outcomes_total',
    help: 'Phase gate outcomes',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly controlEvents = new Counter({
    name: 'troupe_control_events_total',
    help: 'Production controls: dead letters redriven and discarded, rate limits run dry, breakers opened, half-open and closed, bulkheads full',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  constructor(bus: EventBus, probes: { queuedTasks: () => number; liveActors: () => number }) {
    // Gauges read the runtime when scraped instead of counting events, so they cannot drift.
    this.queued = new Gauge({
      name: 'troupe_tasks_queued',
      help: 'Tasks waiting for an agent',
      registers: [this.registry],
      collect() {
        this.set(probes.queuedTasks());
      },
    });
    this.liveActors = new Gauge({
      name: 'troupe_live_actors',
      help: 'Actors held in memory (not settled)',
      registers: [this.registry],
      collect() {
        this.set(probes.liveActors());
      },
    });
    bus.subscribe({}, (event) => this.observe(event));
  }

  /** The metrics in Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Durations come in the events themselves, so no per-task state is kept here. */
  private observe(e: TroupeEvent): void {
    switch (e.type) {
      case 'task.created':
        this.tasksCreated.inc();
        return;
      case 'task.started': {
        const waited = e.data.waitedMs;
        if (typeof waited === 'number') this.queueWait.observe(waited / 1000);
        return;
      }
      case 'agent.completed': {
        const ran = e.data.durationMs;
        if (typeof ran === 'number') this.runTime.observe(ran / 1000);
        return;
      }
      case 'task.failed':
      case 'task.timed_out':
        this.attemptsFailed.inc({
          category: String((e.data.error as { category?: string } | null)?.category ?? 'unknown'),
        });
        return;
      case 'agent.stale':
        this.staleAgents.inc();
        return;
      case 'task.redriven':
      case 'task.discarded':
      case 'ratelimit.exhausted':
      case 'ratelimit.reported':
      case 'breaker.opened':
      case 'breaker.half_open':
      case 'breaker.closed':
      case 'bulkhead.full':
        this.controlEvents.inc({ event: e.type });
        return;
      case 'phase.passed':
      case 'phase.rejected':
      case 'phase.failed':
        this.phases.inc({ outcome: e.type.slice('phase.'.length) });
        return;
      default:
        if (SETTLED.has(e.type)) this.tasksSettled.inc({ status: e.type.slice('task.'.length) });
    }
  }
}
