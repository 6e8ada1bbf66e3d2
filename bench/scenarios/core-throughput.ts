import { createRuntime, type RuntimeOptions } from '../../src/runtime.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../src/engine/store/memory-store.js';
import { SqliteStore } from '../../src/engine/store/sqlite-store.js';
import type { Figure, Scenario } from '../harness.js';
import { completions, percentile } from '../harness.js';

const TASKS = 20_000;
const AGENTS = 8;

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

/** One run: 20,000 no-op tasks created in chunks of 1,000, drained by 8 agents; tasks per second. */
export async function throughputRun(options: Omit<RuntimeOptions, 'store'> = {}): Promise<number> {
  const runtime = createRuntime({ ...options, store: new MemoryStore() });
  await runtime.start();
  const all = completions(runtime, TASKS);
  const t0 = performance.now();
  for (let i = 0; i < AGENTS; i++) {
    await runtime.agents.register({ id: `a${i}`, capacity: 16, handler: () => null });
  }
  const inputs = Array.from({ length: TASKS }, (_, i) => ({ id: `t${i}`, type: 'noop' }));
  for (let i = 0; i < inputs.length; i += 1_000) await runtime.tasks.createMany(inputs.slice(i, i + 1_000));
  await all;
  const seconds = (performance.now() - t0) / 1000;
  await runtime.stop();
  return Math.round(TASKS / seconds);
}

/** 20,000 no-op tasks through 8 in-process agents on the memory store. */
export const coreThroughput: Scenario = {
  name: 'core-throughput',
  description: '20k no-op tasks, 8 in-process agents, memory store: tasks/s, latency, heap per task',
  async run(): Promise<Figure[]> {
    const figures: Figure[] = [];
    // Throughput: create everything, then let 8 agents drain it. One run first to warm up (the
    // JIT compiles the hot path during it: it is the slowest by far, and a long-running engine
    // does not pay it again), then the median of 5: on this shared machine single runs of the
    // same code differ by half.
    const warmUp = await throughputRun();
    const runs: number[] = [];
    for (let run = 0; run < 5; run++) runs.push(await throughputRun());
    const sorted = [...runs].sort((a, b) => a - b);
    figures.push({
      name: 'throughput',
      value: sorted[2] as number,
      unit: 'tasks/s',
      target: { op: '>=', value: 20_000 },
      note: `median of 5: ${runs.join(', ')} (after a warm-up run: ${warmUp})`,
    });
    // Latency: one task in flight at a time, from the create call (validation, the commit that
    // queues it, dispatch, the commit that assigns it) to the handler being called.
    {
      const runtime = createRuntime({ store: new MemoryStore() });
      let calledAt = 0;
      await runtime.agents.register({
        id: 'solo',
        handler: () => {
          calledAt = performance.now();
          return null;
        },
      });
      const latencies: number[] = [];
      for (let i = 0; i < 2_000; i++) {
        const createdAt = performance.now();
        const t = await runtime.tasks.create({ id: `l${i}`, type: 'noop' });
        await runtime.tasks.wait(t.id);
        latencies.push(calledAt - createdAt);
      }
      latencies.sort((a, b) => a - b);
      figures.push({ name: 'create-to-handler p50', value: percentile(latencies, 50), unit: 'ms' });
      figures.push({
        name: 'create-to-handler p99',
        value: percentile(latencies, 99),
        unit: 'ms',
        target: { op: '<=', value: 1 },
      });
      await runtime.stop();
    }
    // Heap: pending tasks (no agent) and finished tasks, on SQLite (the targets: finished work
    // lives on disk) and on the memory store (for tests: it keeps every finished record whole).
    for (const on of ['SQLite', 'memory'] as const) {
      const dir = on === 'SQLite' ? mkdtempSync(join(tmpdir(), 'troupe-bench-heap-')) : undefined;
      const runtime = createRuntime({
        store: dir ? new SqliteStore({ path: join(dir, 'heap.db') }) : new MemoryStore(),
      });
      await runtime.start();
      const base = heapUsed();
      const inputs = Array.from({ length: TASKS }, (_, i) => ({ id: `p${i}`, type: 'noop' }));
      for (let i = 0; i < inputs.length; i += 1_000) await runtime.tasks.createMany(inputs.slice(i, i + 1_000));
      await runtime.idle();
      const pending = heapUsed();
      const target = (value: number) => (on === 'SQLite' ? { target: { op: '<=' as const, value } } : {});
      figures.push({
        name: `${on}: heap per pending task`,
        value: Math.round((pending - base) / TASKS),
        unit: 'bytes',
        ...target(4096),
      });
      const all = completions(runtime, TASKS);
      for (let i = 0; i < AGENTS; i++)
        await runtime.agents.register({ id: `h${i}`, capacity: 16, handler: () => null });
      await all;
      await runtime.idle();
      const finished = heapUsed();
      figures.push({
        name: `${on}: heap per finished task`,
        value: Math.round((finished - base) / TASKS),
        unit: 'bytes',
        ...target(1024),
        ...(on === 'memory' ? { note: 'the memory store keeps finished records whole' } : {}),
      });
      await runtime.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
    return figures;
  },
};
