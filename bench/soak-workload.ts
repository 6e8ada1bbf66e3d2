import { existsSync, rmSync, statSync } from 'node:fs';
import { pino } from 'pino';
import { createRuntime } from '../src/runtime.js';
import { NonRetryableError } from '../src/core/errors.js';
import { SimulatedClock } from '../src/engine/clock.js';
import { SqliteStore } from '../src/engine/store/sqlite-store.js';
import type { StorageStats } from '../src/engine/store/store.js';

const HOUR = 3_600_000;

/**
 * The retention soak (issue 18): no-op tasks on SQLite through 8 in-process agents, the
 * simulated clock moved one hour per `tasksPerHour` tasks, retention of `retentionMs`. Each
 * simulated hour also runs a few tickets (2 phases x 3 tasks) and one task that dead-letters;
 * one ticket waits the whole run for a capability no agent has (live work, never pruned).
 * Shared by `npm run bench -- --only retention-soak` (1,000,000 tasks) and the test (fewer).
 */
export interface SoakOptions {
  path: string;
  tasks: number;
  tasksPerHour: number;
  retentionMs: number;
  /** A checkpoint (heap, RSS, file size, rows, throughput) every this many tasks. */
  reportEvery: number;
  ticketsPerHour?: number;
  onCheckpoint?: (c: SoakCheckpoint) => void;
}

export interface SoakCheckpoint {
  tasks: number;
  /** Simulated hours since the start. */
  hours: number;
  heapBytes: number;
  rssBytes: number;
  /** Database file plus its WAL. */
  fileBytes: number;
  rows: StorageStats;
  /** Free tasks per wall-clock second since the previous checkpoint. */
  tasksPerSecond: number;
  /** Units removed by retention so far. */
  sweptUnits: number;
}

export interface SoakResult {
  checkpoints: SoakCheckpoint[];
  /** Tickets that finished within the retention window at the end: each checked whole. */
  ticketsKept: number;
  /** Of those, tickets missing an actor or an event they had when they finished. */
  ticketsIncomplete: string[];
  /** Tickets past retention (and a sweep interval) still in the store. */
  ticketsOverdue: string[];
  /** The live ticket's events at its start, and how many of them are still there at the end. */
  liveTicketEvents: { atStart: number; atEnd: number; actors: number };
}

const gc = () => (globalThis as { gc?: () => void }).gc?.();

function fileBytes(path: string): number {
  return ['', '-wal'].reduce((sum, s) => sum + (existsSync(path + s) ? statSync(path + s).size : 0), 0);
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  for (const suffix of ['', '-wal', '-shm']) rmSync(options.path + suffix, { force: true });
  const clock = new SimulatedClock(Date.UTC(2026, 0, 1));
  const start = clock.now();
  const interval = Math.max(60_000, Math.floor(options.retentionMs / 144));
  const store = new SqliteStore({ path: options.path });
  const runtime = createRuntime({
    store,
    clock,
    logger: pino({ level: 'silent' }),
    // Beats 4 times per simulated hour: the clock jumps an hour at a time.
    heartbeatIntervalMs: HOUR / 4,
    staleAfterMs: HOUR,
    retention: {
      finishedMs: options.retentionMs,
      deadLetteredMs: 2 * options.retentionMs,
      intervalMs: interval,
      batchSize: 250,
      maxBatchesPerSweep: 200,
    },
  });
  await runtime.start();
  let done = 0;
  runtime.events.subscribe({ types: ['task.completed', 'task.dead_lettered'] }, () => void (done += 1));
  for (let i = 0; i < 8; i++) {
    await runtime.agents.register({
      id: `a${i}`,
      capacity: 16,
      capabilities: ['work'],
      handler: (task) => {
        if (task.type === 'doomed') throw new NonRetryableError('doomed by design');
        return null;
      },
    });
  }
  const live = await runtime.tickets.create({
    id: 'live-ticket',
    title: 'waits for a human',
    phases: [{ name: 'wait', tasks: [{ id: 'live-task', type: 'review', requires: ['human'] }] }],
  });
  await runtime.idle();
  const liveAtStart = (await store.readEvents({ ticketId: live.id })).length;

  const finished = new Map<string, { at: number; actors: number; events: number }>();
  const checkpoints: SoakCheckpoint[] = [];
  let created = 0;
  let expected = 0;
  let windowStart = performance.now();
  let windowTasks = 0;
  let ticketSeq = 0;
  const ticketsPerHour = options.ticketsPerHour ?? 5;
  const waitFor = async (count: number) => {
    while (done < count) await new Promise((resolve) => setImmediate(resolve));
  };
  while (created < options.tasks) {
    const chunk = Math.min(1_000, options.tasks - created, options.tasksPerHour - (created % options.tasksPerHour));
    const inputs = Array.from({ length: chunk }, (_, i) => ({
      id: `t${created + i}`,
      type: 'noop',
      requires: ['work'],
    }));
    expected += chunk;
    await runtime.tasks.createMany(inputs);
    await waitFor(expected);
    created += chunk;
    windowTasks += chunk;
    if (created % options.tasksPerHour === 0) {
      // The hour's tickets and its one dead-lettered task, then the clock moves on.
      const tickets = [];
      for (let k = 0; k < ticketsPerHour; k++) {
        const id = `ticket-${ticketSeq++}`;
        tickets.push(
          runtime.tickets.create({
            id,
            title: id,
            phases: ['one', 'two'].map((name) => ({
              name,
              tasks: [0, 1, 2].map((n) => ({ id: `${id}-${name}-${n}`, type: 'noop', requires: ['work'] })),
            })),
          }),
        );
      }
      expected += 1;
      await runtime.tasks.create({ id: `doomed-${created}`, type: 'doomed', requires: ['work'] });
      for (const t of await Promise.all(tickets)) {
        expected += 6;
        await runtime.tickets.wait(t.id);
      }
      await waitFor(expected);
      await runtime.idle();
      for (const t of tickets) {
        const unit = await store.readUnit({ kind: 'ticket', id: (await t).id });
        finished.set(unit.id, { at: clock.now(), actors: unit.actors.length, events: unit.events.length });
      }
      await clock.advance(HOUR);
    }
    if (created % options.reportEvery === 0) {
      const seconds = (performance.now() - windowStart) / 1000;
      gc();
      const memory = process.memoryUsage();
      const stats = await store.storageStats();
      const checkpoint: SoakCheckpoint = {
        tasks: created,
        hours: (clock.now() - start) / HOUR,
        heapBytes: memory.heapUsed,
        rssBytes: memory.rss,
        fileBytes: fileBytes(options.path),
        rows: stats,
        tasksPerSecond: Math.round(windowTasks / seconds),
        sweptUnits: runtime.retention.totals.units.units,
      };
      checkpoints.push(checkpoint);
      options.onCheckpoint?.(checkpoint);
      windowStart = performance.now();
      windowTasks = 0;
    }
  }
  await runtime.idle();

  // Every ticket within its retention is there whole; every one past it (and a sweep) is gone.
  const now = clock.now();
  const ticketsIncomplete: string[] = [];
  const ticketsOverdue: string[] = [];
  let ticketsKept = 0;
  for (const [id, seen] of finished) {
    const unit = await store.readUnit({ kind: 'ticket', id });
    // A unit's age runs from its newest write, a little before `seen.at`.
    if (seen.at > now - options.retentionMs) {
      ticketsKept += 1;
      if (
        unit.actors.length !== seen.actors ||
        unit.events.length !== seen.events ||
        unit.actors.some((a) => !a.settled)
      )
        ticketsIncomplete.push(id);
    } else if (seen.at < now - options.retentionMs - 2 * interval && unit.actors.length > 0) {
      ticketsOverdue.push(id);
    }
  }
  const liveUnit = await store.readUnit({ kind: 'ticket', id: live.id });
  await runtime.stop();
  return {
    checkpoints,
    ticketsKept,
    ticketsIncomplete,
    ticketsOverdue,
    liveTicketEvents: { atStart: liveAtStart, atEnd: liveUnit.events.length, actors: liveUnit.actors.length },
  };
}
