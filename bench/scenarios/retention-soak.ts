import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Figure, Scenario } from '../harness.js';
import { runSoak } from '../soak-workload.js';

/** 1,000,000 by default; `SOAK_TASKS=200000 npm run bench -- --only retention-soak` for a shorter run. */
const TASKS = Number(process.env.SOAK_TASKS ?? 1_000_000);
const EVERY = 100_000;
const MB = 1024 * 1024;

/**
 * Issue 18's soak: 1,000,000 no-op tasks on SQLite, the simulated clock moving one hour per
 * 10,000 tasks, retention of one day (so ~240,000 tasks' rows are kept once it bites, at
 * 240,000). Reports heap (after a GC), RSS, database size (file + WAL) and throughput per
 * 100,000 tasks, and checks every ticket finished within the day is whole.
 */
export const retentionSoak: Scenario = {
  name: 'retention-soak',
  description: `${TASKS.toLocaleString('en')} tasks on SQLite, 1 h of simulated clock per 10,000, retention 1 day: heap, RSS, db size, tasks/s per 100,000`,
  async run(): Promise<Figure[]> {
    const path = join(tmpdir(), `troupe-soak-${process.pid}.db`);
    try {
      const result = await runSoak({
        path,
        tasks: TASKS,
        tasksPerHour: 10_000,
        retentionMs: 86_400_000,
        reportEvery: Math.min(EVERY, TASKS),
        onCheckpoint: (c) =>
          process.stderr.write(
            `  ${String(c.tasks).padStart(9)} tasks  ${String(c.hours).padStart(4)} h  heap ${(c.heapBytes / MB).toFixed(1)} MB  rss ${(c.rssBytes / MB).toFixed(0)} MB  db ${(c.fileBytes / MB).toFixed(1)} MB  rows ${c.rows.settledActors}+${c.rows.liveActors} actors, ${c.rows.events} events  ${c.tasksPerSecond} tasks/s  swept ${c.sweptUnits}\n`,
          ),
      });
      const figures: Figure[] = [];
      for (const c of result.checkpoints) {
        const at = `${c.tasks / 1000}k`;
        figures.push(
          { name: `heap at ${at}`, value: Math.round((c.heapBytes / MB) * 10) / 10, unit: 'MB' },
          { name: `rss at ${at}`, value: Math.round(c.rssBytes / MB), unit: 'MB' },
          { name: `db at ${at}`, value: Math.round((c.fileBytes / MB) * 10) / 10, unit: 'MB' },
          { name: `tasks/s to ${at}`, value: c.tasksPerSecond, unit: 'tasks/s' },
        );
      }
      // Once retention bites (after a day: 240,000 tasks) the store should stop growing.
      const settled = result.checkpoints.filter((c) => c.tasks >= 300_000 || c.tasks === TASKS);
      const first = settled[0];
      const last = result.checkpoints[result.checkpoints.length - 1];
      if (first !== undefined && last !== undefined && first !== last) {
        figures.push(
          {
            name: `db growth ${first.tasks / 1000}k -> ${last.tasks / 1000}k`,
            value: Math.round((last.fileBytes / first.fileBytes) * 1000) / 1000,
            unit: 'x',
            target: { op: '<=', value: 1.1 },
          },
          {
            name: `heap growth ${first.tasks / 1000}k -> ${last.tasks / 1000}k`,
            value: Math.round((last.heapBytes / first.heapBytes) * 1000) / 1000,
            unit: 'x',
            target: { op: '<=', value: 1.2 },
          },
        );
      }
      figures.push(
        { name: 'tickets within retention, checked whole', value: result.ticketsKept, unit: 'tickets' },
        {
          name: 'of them missing an actor or event',
          value: result.ticketsIncomplete.length,
          unit: 'tickets',
          target: { op: '<=', value: 0 },
        },
        {
          name: 'tickets past retention still stored',
          value: result.ticketsOverdue.length,
          unit: 'tickets',
          target: { op: '<=', value: 0 },
        },
        {
          name: 'live ticket events lost',
          value: result.liveTicketEvents.atStart - result.liveTicketEvents.atEnd,
          unit: 'events',
          target: { op: '<=', value: 0 },
        },
      );
      return figures;
    } finally {
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    }
  },
};
