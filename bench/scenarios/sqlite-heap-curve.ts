import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../../src/runtime.js';
import { SqliteStore } from '../../src/engine/store/sqlite-store.js';
import type { Figure, Scenario } from '../harness.js';
import { completions } from '../harness.js';

const TASKS = Number(process.env.HEAP_CURVE_TASKS ?? 200_000);
const STEP = TASKS / 10;
const AGENTS = 8;

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

/**
 * The heap over a long run on SQLite (finished tasks live on disk): 200,000 no-op tasks through
 * 8 in-process agents, in ten steps of 20,000, the heap after a full GC at the end of each. A
 * runtime that keeps something per finished task shows it as a slope; the target is the issue's
 * bound for a finished task (1 KB), the curve itself is in the notes.
 */
export const sqliteHeapCurve: Scenario = {
  name: 'sqlite-heap-curve',
  description: '200k no-op tasks on SQLite NORMAL, 8 in-process agents: heap after each 20k (the curve) and its slope',
  async run(): Promise<Figure[]> {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-curve-'));
    const runtime = createRuntime({ store: new SqliteStore({ path: join(dir, 'curve.db') }), tracing: false });
    await runtime.start();
    for (let i = 0; i < AGENTS; i++) await runtime.agents.register({ id: `a${i}`, capacity: 16, handler: () => null });
    const base = heapUsed();
    const curve: number[] = [];
    for (let done = 0; done < TASKS; done += STEP) {
      const finished = completions(runtime, STEP);
      for (let i = done; i < done + STEP; i += 1_000) {
        const chunk = Array.from({ length: Math.min(1_000, done + STEP - i) }, (_, k) => ({
          id: `c${i + k}`,
          type: 'noop',
        }));
        await runtime.tasks.createMany(chunk);
      }
      await finished;
      await runtime.idle();
      curve.push(heapUsed() - base);
    }
    await runtime.stop();
    rmSync(dir, { recursive: true, force: true });
    const first = curve[0] ?? 0;
    const last = curve.at(-1) ?? 0;
    const kib = (bytes: number) => `${Math.round(bytes / 1024)}`;
    return [
      {
        name: `SQLite heap growth per finished task ${STEP / 1000}k→${TASKS / 1000}k`,
        value: Math.round((last - first) / (TASKS - STEP)),
        unit: 'bytes',
        target: { op: '<=', value: 1024 },
        note: `heap above the idle runtime after each ${STEP / 1000}k (KiB): ${curve.map(kib).join(', ')}`,
      },
      {
        name: `SQLite heap after ${TASKS / 1000}k finished tasks`,
        value: Math.round(last / 1024),
        unit: 'KiB',
        note: 'above the idle runtime, after a full GC',
      },
    ];
  },
};
