import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { TroupeError } from './core/errors.js';
import { InProcessAgents } from './engine/api/in-process-agents.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './core/machines/retry-backoff.js';
import type { AgentContext } from './core/machines/agent-machine.js';
import type { TaskContext } from './core/machines/task-types.js';
import { AGENT_DEFAULTS, AgentApi } from './engine/api/agent-api.js';
import { SimulatedClock, SystemClock, type Clock } from './engine/clock.js';
import { buildContextPackage } from './engine/api/context-package.js';
import { LeaseApi } from './engine/api/lease-api.js';
import { MachineRegistry, type SnapshotMigration } from './engine/machine-registry.js';
import { RuntimeMetrics } from './engine/metrics.js';
import { DEFAULT_REJECT_COOLDOWN_MS } from './engine/reject-cooldown.js';
import { RuntimeCore, defaultLogger } from './engine/runtime-core.js';
import { MemoryStore } from './engine/store/memory-store.js';
import type { Store } from './engine/store/store.js';
import { EventApi } from './engine/api/event-api.js';
import { TaskApi } from './engine/api/task-api.js';
import { AuditApi } from './engine/api/audit-api.js';
import { RetentionSweeper } from './engine/retention/retention-sweeper.js';
import { registerRetentionMetrics } from './engine/retention/retention-metrics.js';
import type { RetentionOptions } from './engine/retention/retention-policy.js';
import { TicketApi } from './engine/api/ticket-api.js';
import { taskView } from './engine/api/views.js';
import { EventSpans, tracingEnabled, troupeTracer } from './engine/tracing/event-spans.js';
import { logDecisions } from './engine/decision-log.js';
import { PatternApi } from './features/patterns/run/pattern-api.js';
import type { CoordinationApi } from './features/coordination/coordination-api.js';
import { installCoordination } from './features/coordination/install.js';
import { installControls } from './engine/api/install-controls.js';
import type { ControlsApi } from './engine/api/controls-api.js';
import type { DeadLetterApi } from './engine/api/dead-letter-api.js';
import type { TaskCreateInput } from './engine/api/task-input.js';
import type { TicketCreateInput } from './engine/api/ticket-api.js';
import type { ScheduleApi } from './features/schedules/schedule-api.js';
import { installSchedules } from './features/schedules/install-schedules.js';

/**
 * Options of `createRuntime`: the store, the clock and the engine's limits and defaults.
 *
 * @example
 * ```ts
 * const runtime = createRuntime({ store: new SqliteStore({ path: 'troupe.db' }), retry: { maxAttempts: 5 } });
 * ```
 */
export interface RuntimeOptions {
  /** Where actors, timers and events are kept. Default: a `MemoryStore`. */
  store?: Store;
  /** Time source. Default: the system clock; pass a `SimulatedClock` in tests. */
  clock?: Clock;
  /** Source of randomness for backoff jitter and lease ids. Default `Math.random`. */
  random?: () => number;
  logger?: Logger;
  /** Events kept in memory per ticket (newest first). Default 10,000. */
  historyLimit?: number;
  /** Default retry policy for tasks that do not set their own. */
  retry?: Partial<RetryPolicy>;
  /** How often in-process agents beat. Default 30 s. */
  heartbeatIntervalMs?: number;
  /** Silence after which an agent is stale. Default 90 s. */
  staleAfterMs?: number;
  /** Largest task input or result accepted, in bytes of JSON. Default 1 MiB. */
  maxPayloadBytes?: number;
  /**
   * After an agent rejects an offered task, how long (ms on the runtime clock) that agent is not
   * offered the same task again; other capable agents may still take it at once. Stops one agent
   * that keeps declining from getting the task straight back in a tight loop. Kept in memory only
   * (a restart forgets it). `0` turns it off. Default 5,000.
   */
  rejectCooldownMs?: number;
  /**
   * How long finished work is kept, and the sweeper that removes it (docs/operations.md). Without
   * it nothing is removed on its own (`runtime.retention.sweep()` still removes what the default
   * policy would); `troupe serve` turns it on with the defaults (7 days, 30 for dead-lettered work).
   * Dead letters are kept under it too: `deadLetteredMs`, and `deadLetteredMaxCount` for a count.
   */
  retention?: RetentionOptions;
  /** Migrations for snapshots stored by older machine versions. */
  migrations?: Array<{ kind: string; fromVersion: number; migrate: SnapshotMigration }>;
  /**
   * The OpenTelemetry tracer for spans of tickets, phases, tasks, attempts and coordinators.
   * Default: `troupe` from the registered provider; with no SDK registered, tracing is off and
   * costs nothing per event (docs/operations.md, "Traces").
   */
  tracer?: Tracer;
  /**
   * `false`: Troupe makes no spans and looks up no trace context, even when an OpenTelemetry SDK
   * is registered (for an application that traces other things). Default true: Troupe traces
   * when an SDK is registered and costs nothing measurable when none is (`npm run bench -- --only tracing-cost`).
   */
  tracing?: boolean;
}

/** What `start()` found in the store. */
export interface RecoveryReport {
  actors: number;
  timers: number;
  /** In-process agents of the previous process, now marked lost (their tasks requeue). */
  lostAgents: number;
}

/**
 * The Troupe runtime: tickets, phases, tasks and agents as durable actors.
 *
 * @example
 * ```ts
 * import { createRuntime } from 'troupe';
 *
 * const runtime = createRuntime();
 * await runtime.agents.register({ id: 'a1', capabilities: ['code'], handler: async (task) => ({ done: task.type }) });
 * const task = await runtime.tasks.create({ type: 'hello', requires: ['code'] });
 * console.log((await runtime.tasks.wait(task.id)).result); // { done: 'hello' }
 * await runtime.stop();
 * ```
 */
export class Runtime {
  readonly tasks: TaskApi;
  readonly tickets: TicketApi;
  readonly agents: AgentApi;
  /** Reports from remote agents about their leases. */
  readonly leases: LeaseApi;
  readonly events: EventApi;
  /** Splits, joins, sync points, merges, routing, dependency guards, sagas, locks, barriers (`docs/coordination.md`). */
  readonly coordination: CoordinationApi;
  /** YAML patterns compiled to statecharts, run as coordinator actors (`docs/patterns.md`). */
  readonly patterns: PatternApi;
  /** Prometheus metrics derived from the event stream. */
  readonly metrics: RuntimeMetrics;
  /**
   * Removes finished work past its age (`sweep()`: the one entry point a leader calls; on the
   * runtime clock every `intervalMs` when scheduled); `update()` changes the policy live.
   */
  readonly retention: RetentionSweeper;
  /** Who did what, when: `record()` from edges that act for a named token, `read()` for operators. */
  readonly audit: AuditApi;
  /** Rate limits, circuit breakers, bulkheads (`docs/controls.md`). */
  readonly controls: ControlsApi;
  /** The dead-letter queue: list, redrive, discard (`docs/controls.md`). */
  readonly deadLetters: DeadLetterApi;
  /** Cron schedules that create tasks, tickets or pattern runs, durable across restarts (`docs/controls.md`). */
  readonly schedules: ScheduleApi;
  readonly clock: Clock;
  readonly store: Store;
  readonly logger: Logger;
  /** @internal */
  readonly core: RuntimeCore;
  private starting: Promise<RecoveryReport> | null = null;
  private spans: EventSpans | null = null;
  private stopped = false;
  private storeOpen = false;

  constructor(options: RuntimeOptions = {}) {
    this.clock = options.clock ?? new SystemClock();
    this.store = options.store ?? new MemoryStore();
    this.logger = options.logger ?? defaultLogger();
    const machines = new MachineRegistry();
    for (const m of options.migrations ?? []) machines.addMigration(m.kind, m.fromVersion, m.migrate);
    // Frozen: every task that sets no policy of its own holds this very object.
    const retry: RetryPolicy = Object.freeze({
      maxAttempts: options.retry?.maxAttempts ?? DEFAULT_RETRY_POLICY.maxAttempts,
      backoff: Object.freeze({ ...DEFAULT_RETRY_POLICY.backoff, ...options.retry?.backoff }),
    });
    this.core = new RuntimeCore({
      store: this.store,
      clock: this.clock,
      random: options.random ?? Math.random,
      logger: this.logger,
      historyLimit: options.historyLimit ?? 10_000,
      retry,
      machines,
      rejectCooldownMs: options.rejectCooldownMs ?? DEFAULT_REJECT_COOLDOWN_MS,
    });
    const maxPayloadBytes = options.maxPayloadBytes ?? 1024 * 1024;
    const ready = () => this.ensureStarted();
    const core = this.core;
    const inProcess = new InProcessAgents({
      taskContext: (id) => core.host.getLive(id)?.snapshot.context as TaskContext | undefined,
      view: (context) => taskView({ leased: 'running' }, context),
      contextPackage: (task) => buildContextPackage(task, core.host, this.store),
      send: (taskId, event) => {
        if (!core.host.failed) core.host.send(taskId, event);
      },
      sendAgentMessage: (from, to, body) => void this.events.message(from, to, body),
      traceparent: (taskId) => this.spans?.traceparentFor(taskId),
      maxResultBytes: maxPayloadBytes,
    });
    this.tasks = new TaskApi(this.core, ready, maxPayloadBytes);
    this.tickets = new TicketApi(this.core, this.tasks, ready);
    this.agents = new AgentApi(
      this.core,
      ready,
      {
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? AGENT_DEFAULTS.heartbeatIntervalMs,
        staleAfterMs: options.staleAfterMs ?? AGENT_DEFAULTS.staleAfterMs,
      },
      inProcess,
    );
    this.leases = new LeaseApi(this.core, maxPayloadBytes);
    this.events = new EventApi(this.core, ready);
    this.coordination = installCoordination(this.core, { ready, retry, maxPayloadBytes });
    const installed = installControls(this.core, { ready, maxPayloadBytes });
    this.controls = installed.controls;
    this.deadLetters = installed.deadLetters;
    this.patterns = new PatternApi({
      core: this.core,
      coordination: this.coordination,
      tickets: this.tickets,
      events: this.events,
      start: () => this.start(),
    });
    this.schedules = installSchedules(this.core, {
      ready,
      maxPayloadBytes,
      // Each run gets the id made from the schedule and the fire time (E_DUPLICATE_ID if it exists).
      launchers: {
        task: (runId, spec) => this.tasks.create({ ...(spec as unknown as TaskCreateInput), id: runId }),
        ticket: (runId, spec) => this.tickets.create({ ...(spec as unknown as TicketCreateInput), id: runId }),
        pattern: (runId, pattern, inputs) => this.patterns.apply({ pattern, inputs, runId }),
      },
      checkPattern: (pattern, inputs) => void this.patterns.compile(pattern, inputs),
    });
    this.metrics = new RuntimeMetrics(this.core.bus, {
      queuedTasks: () => this.core.dispatcher.queuedCount(),
      liveActors: () => this.core.host.liveCount(),
    });
    this.retention = new RetentionSweeper(
      this.store,
      this.clock,
      this.logger,
      options.retention ?? { schedule: false },
    );
    // A swept ticket's in-memory history goes with its rows.
    this.retention.onUnitsSwept((units) =>
      this.core.bus.forget(units.filter((u) => u.kind === 'ticket').map((u) => u.id)),
    );
    // Dead letters are kept by retention's policy: the count limit reads the index, a swept unit leaves it.
    this.retention.useDeadLetters(() => this.deadLetters.list());
    this.retention.onUnitsSwept((units) => this.deadLetters.forgetUnits(units));
    registerRetentionMetrics(this.metrics.registry, this.store, this.retention, () => this.storeOpen);
    this.audit = new AuditApi(this.store, this.clock, ready);
    logDecisions(this.core.bus, this.logger);
    const tracer = options.tracer ?? troupeTracer();
    if (options.tracing !== false && tracingEnabled(tracer)) {
      const spans = new EventSpans(tracer);
      this.core.bus.subscribe({}, (event) => spans.handle(event));
      this.spans = spans;
    }
    if (this.clock instanceof SimulatedClock) this.clock.onSettle(() => this.idle());
  }

  /**
   * The W3C `traceparent` an agent continues for a task: the engine's span of its current
   * attempt when tracing is on, else the one the task was submitted with; undefined for none.
   */
  traceparentFor(taskId: string): string | undefined {
    const fromSpans = this.spans?.traceparentFor(taskId);
    if (fromSpans !== undefined) return fromSpans;
    const live = this.core.host.getLive(taskId)?.snapshot.context as TaskContext | undefined;
    return live?.spec?.traceparent;
  }

  /**
   * Opens the store and restores every unfinished actor and timer (timers already due fire at
   * once). Called by the first API call if you do not call it yourself.
   */
  start(): Promise<RecoveryReport> {
    if (!this.starting) this.starting = this.recover();
    return this.starting;
  }

  /** Resolves once every message sent so far has been processed and committed. */
  async idle(): Promise<void> {
    await this.start();
    await this.core.host.idle();
    // A schedule's fire launches its run after the fire commits: that work is part of idle too.
    await this.schedules.launches();
    await this.core.host.idle();
    await this.retention.idle();
  }

  /** Stops timers and heartbeats and closes the store. Work in flight stays stored for the next start. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.starting) {
      await this.starting.catch(() => undefined);
      await this.core.host.idle().catch(() => undefined);
    }
    this.retention.stop();
    await this.retention.idle();
    this.agents.stopAll();
    await this.coordination.stopLeaders();
    this.core.stop();
    this.storeOpen = false;
    await this.store.close();
  }

  private async ensureStarted(): Promise<void> {
    if (this.stopped) throw new TroupeError('E_RUNTIME_STOPPED', 'the runtime is stopped');
    await this.start();
    const failure = this.core.host.failed;
    if (failure) throw failure;
  }

  private async recover(): Promise<RecoveryReport> {
    await this.store.open();
    this.storeOpen = true;
    const restored = await this.core.host.recover();
    await this.core.rebuildIndexes();
    let lostAgents = 0;
    for (const actor of [...this.core.host.liveActors()]) {
      if (actor.kind !== 'agent') continue;
      if ((actor.snapshot.context as AgentContext).transport !== 'in-process') continue;
      // An in-process agent of the previous process cannot still be running: its work goes back.
      this.core.host.send(actor.id, { type: 'agent.lost', reason: 'the process that ran it restarted' });
      lostAgents += 1;
    }
    await this.core.host.idle();
    const report = { ...restored, lostAgents };
    this.retention.start();
    if (restored.actors > 0 || restored.timers > 0) {
      this.logger.info({ store: this.store.name, ...report }, 'recovered unfinished work');
    }
    return report;
  }
}

/**
 * Creates a runtime. Nothing runs until the first call (or `start()`).
 *
 * @example
 * ```ts
 * const runtime = createRuntime({ clock: new SimulatedClock(0) });
 * ```
 */
export function createRuntime(options: RuntimeOptions = {}): Runtime {
  return new Runtime(options);
}
