import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { addSweep, noSweep, type ExpiredUnit, type Store, type SweepCounts } from '../store/store.js';
import { appendToArchive } from './archive-file.js';
import { unitsOverCount, type DeadLetterSource } from './dead-letter-count.js';
import { resolveRetention, type RetentionOptions, type RetentionPolicy } from './retention-policy.js';

/** What one sweep removed, by kind of row, and what it took. */
export interface SweepReport {
  at: number;
  /** Finished units (tickets whole, free-standing actors) and their events, by age and by the dead-letter count. */
  units: SweepCounts;
  /** Of `units`, the units removed because more than `deadLetteredMaxCount` dead letters were kept. */
  overCount: number;
  /** Events of no ticket and no task, by age. */
  events: SweepCounts;
  /** Audit entries, by age. */
  audit: SweepCounts;
  /** Store transactions the sweep ran (each one small). */
  batches: number;
  /** True when the sweep stopped at `maxBatchesPerSweep` with more to do. */
  more: boolean;
  /** Archive files written to. */
  archived: string[];
  durationMs: number;
}

/** Lets the engine's own work run between two of the sweeper's transactions. */
const yieldToEngine = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Removes finished work past its age from the store, in small batches (docs/operations.md).
 *
 * One entry point, `sweep()`: run on the runtime clock every `intervalMs` when `schedule` is on,
 * or called by whatever decides who sweeps (the leader, once several nodes share one store:
 * every step is a short store transaction that re-checks the unit, so two sweepers at once
 * cost work but never lose live data). Sweeps never overlap within one runtime.
 *
 * @example
 * ```ts
 * const runtime = createRuntime({ store, retention: { finishedMs: 86_400_000, schedule: false } });
 * const report = await runtime.retention.sweep(); // report.units.units: tickets and tasks removed
 * ```
 */
export class RetentionSweeper {
  private current: RetentionPolicy;
  private handle: unknown;
  private running: Promise<SweepReport> | undefined;
  private stopped = false;
  /** Totals since the runtime started, for metrics. */
  readonly totals = { sweeps: 0, units: noSweep(), events: noSweep(), audit: noSweep() };
  private readonly listeners = new Set<(report: SweepReport) => void>();
  private readonly unitListeners = new Set<(units: readonly ExpiredUnit[]) => void | Promise<void>>();
  private deadLetters: DeadLetterSource | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: RetentionOptions,
  ) {
    this.current = resolveRetention(options);
  }

  /** The policy in force. */
  get policy(): RetentionPolicy {
    return this.current;
  }

  /** Replaces the policy (a configuration reload); a sweep in progress finishes under the old one. */
  update(options: RetentionOptions): RetentionPolicy {
    const next = resolveRetention(options);
    const reschedule = next.intervalMs !== this.current.intervalMs || next.schedule !== this.current.schedule;
    this.current = next;
    if (reschedule && this.handle !== undefined) {
      this.clock.clear(this.handle);
      this.handle = undefined;
      this.start();
    }
    return next;
  }

  /** Starts sweeping on the clock (when the policy schedules it). */
  start(): void {
    if (this.stopped || this.handle !== undefined || !this.current.schedule) return;
    this.handle = this.clock.schedule(this.current.intervalMs, () => {
      this.handle = undefined;
      void this.sweep()
        .catch((error: unknown) => this.logger.error({ err: error }, 'retention sweep failed'))
        .finally(() => this.start());
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.handle !== undefined) this.clock.clear(this.handle);
    this.handle = undefined;
  }

  /** Resolves when no sweep is running. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /** @internal Where the count limit (`deadLetteredMaxCount`) reads the dead letters in force: the runtime's index. */
  useDeadLetters(source: DeadLetterSource): void {
    this.deadLetters = source;
  }

  /** Called after each sweep with its report. */
  onSweep(listener: (report: SweepReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called with each batch of units handed to the store for deletion (a unit that changed meanwhile is among them but stays). */
  onUnitsSwept(listener: (units: readonly ExpiredUnit[]) => void | Promise<void>): () => void {
    this.unitListeners.add(listener);
    return () => this.unitListeners.delete(listener);
  }

  /** Runs one sweep now (or joins the one running) and reports what it removed. */
  sweep(): Promise<SweepReport> {
    if (this.running === undefined) {
      this.running = this.run().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async run(): Promise<SweepReport> {
    const policy = this.current;
    const started = performance.now();
    const now = this.clock.now();
    const report: SweepReport = {
      at: now,
      units: noSweep(),
      overCount: 0,
      events: noSweep(),
      audit: noSweep(),
      batches: 0,
      more: false,
      archived: [],
      durationMs: 0,
    };
    const query = {
      before: now - policy.finishedMs,
      longBefore: now - policy.deadLetteredMs,
      longStates: policy.longStates,
      limit: policy.batchSize,
    };
    const budget = () => report.batches < policy.maxBatchesPerSweep && !this.stopped;
    // Units first (each with its events), then loose events, then the audit log.
    while (budget()) {
      const units = await this.store.findExpired(query);
      if (units.length === 0) break;
      await this.removeUnits(units, policy, now, report);
      if (units.length < query.limit) break;
    }
    // Then the oldest dead letters past the count limit, young as they may be.
    const maxCount = policy.deadLetteredMaxCount;
    while (maxCount !== undefined && this.deadLetters !== undefined && budget()) {
      const units = await unitsOverCount(this.store, await this.deadLetters(), maxCount, policy.batchSize);
      if (units.length === 0) break;
      const removed = await this.removeUnits(units, policy, now, report);
      report.overCount += removed;
      // Units that changed since they were read stay; they are looked at again next sweep.
      if (removed < units.length) break;
    }
    const pruneEvents = { before: now - policy.eventsMs, limit: policy.batchSize * 10 };
    while (budget()) {
      const counts = await this.store.pruneEvents(pruneEvents);
      addSweep(report.events, counts);
      report.batches += 1;
      await yieldToEngine();
      if (counts.events < pruneEvents.limit) break;
    }
    const pruneAudit = { before: now - policy.auditMs, limit: policy.batchSize * 10 };
    while (budget()) {
      const counts = await this.store.pruneAudit(pruneAudit);
      addSweep(report.audit, counts);
      report.batches += 1;
      if (counts.auditEntries < pruneAudit.limit) break;
      await yieldToEngine();
    }
    report.more = report.batches >= policy.maxBatchesPerSweep;
    report.durationMs = performance.now() - started;
    this.totals.sweeps += 1;
    addSweep(this.totals.units, report.units);
    addSweep(this.totals.events, report.events);
    addSweep(this.totals.audit, report.audit);
    const removed = report.units.units + report.events.events + report.audit.auditEntries;
    if (removed > 0) {
      this.logger.info(
        {
          units: report.units.units,
          actors: report.units.actors,
          events: report.units.events + report.events.events,
          audit: report.audit.auditEntries,
          bytes: report.units.bytes + report.events.bytes + report.audit.bytes,
          more: report.more,
          ms: Math.round(report.durationMs),
        },
        'retention sweep',
      );
    }
    for (const listener of this.listeners) listener(report);
    return report;
  }

  /** One batch: archived (when on), deleted in one store transaction, told to the listeners. */
  private async removeUnits(
    units: readonly ExpiredUnit[],
    policy: RetentionPolicy,
    now: number,
    report: SweepReport,
  ): Promise<number> {
    if (policy.archive !== false) {
      const records = [];
      for (const unit of units) records.push(await this.store.readUnit(unit));
      const file = await appendToArchive(policy.archive.dir, now, records);
      if (!report.archived.includes(file)) report.archived.push(file);
    }
    const counts = await this.store.deleteUnits(units);
    addSweep(report.units, counts);
    for (const listener of this.unitListeners) await listener(units);
    report.batches += 1;
    await yieldToEngine();
    return counts.units;
  }
}
