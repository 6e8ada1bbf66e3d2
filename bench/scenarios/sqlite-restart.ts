import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../../src/runtime.js';
import { SqliteStore } from '../../src/engine/store/sqlite-store.js';
import type { Figure, Scenario } from '../harness.js';

const QUEUED = 9_000;
const WAITING = 1_000;
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

/**
 * Restart with 10,000 unfinished tasks in a SQLite file (9,000 queued, every 10th with a start
 * deadline, so 900 durable timers; 1,000 waiting on queued ones): how long `start()` takes to
 * open the file, restore every actor, re-arm the timers and rebuild the indexes, and how long
 * until the first restored task reaches an agent registered right after. The correctness of
 * this restart is tested in `test/durability-restart.test.ts`.
 */
export const sqliteRestart: Scenario = {
  name: 'sqlite-restart',
  description: 'restart with 10k unfinished tasks in SQLite: start() time, first dispatch after it',
  async run(): Promise<Figure[]> {
    const dir = join(tmpdir(), `troupe-bench-restart-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'troupe.db');
    try {
      const seed = createRuntime({ store: new SqliteStore({ path }) });
      const queued = Array.from({ length: QUEUED }, (_, i) => ({
        id: `q-${i}`,
        type: 'work',
        input: { n: i },
        ...(i % 10 === 0 ? { timeouts: { start: 24 * 3_600_000 } } : {}),
      }));
      for (let i = 0; i < QUEUED; i += 1_000) await seed.tasks.createMany(queued.slice(i, i + 1_000));
      await seed.tasks.createMany(
        Array.from({ length: WAITING }, (_, i) => ({ id: `w-${i}`, type: 'work', dependsOn: [`q-${i % 10}`] })),
      );
      await seed.stop();

      const starts: number[] = [];
      const firsts: number[] = [];
      let restored = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const t0 = performance.now();
        const runtime = createRuntime({ store: new SqliteStore({ path }) });
        const report = await runtime.start();
        const started = performance.now();
        restored = report.actors;
        let first = 0;
        // A handler that never finishes: the store is left as it was for the next round.
        const reached = new Promise<void>((resolve) => {
          void runtime.agents.register({
            id: `probe-${round}`,
            handler: () => {
              if (first === 0) first = performance.now();
              resolve();
              return new Promise(() => {});
            },
          });
        });
        await reached;
        starts.push(started - t0);
        firsts.push(first - t0);
        await runtime.stop();
      }
      return [
        {
          name: 'restart (start) with 10k unfinished',
          value: Math.round(median(starts)),
          unit: 'ms',
          target: { op: '<=', value: 1_000 },
          note: `median of ${ROUNDS}: ${starts.map((s) => s.toFixed(0)).join(', ')}; ${restored} actors`,
        },
        {
          name: 'restart to first dispatch',
          value: Math.round(median(firsts)),
          unit: 'ms',
          note: `median of ${ROUNDS}: ${firsts.map((s) => s.toFixed(0)).join(', ')}`,
        },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
