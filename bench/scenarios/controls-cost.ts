import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../../src/runtime.js';
import { MemoryStore } from '../../src/engine/store/memory-store.js';
import { SqliteStore } from '../../src/engine/store/sqlite-store.js';
import type { Figure, Scenario } from '../harness.js';
import { completions } from '../harness.js';

/** Rounds of the two configurations; CONTROLS_COST_ROUNDS sets more on a loaded machine. */
const ROUNDS = Number(process.env.CONTROLS_COST_ROUNDS ?? 7);
const TASKS = 20_000;
const AGENTS = 8;
const KEYS = 1_000;
const LIMITS = 100;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

type StoreKind = 'sqlite' | 'memory';

/**
 * One run of core-throughput's workload (20,000 no-op tasks, 8 in-process agents with 16 slots,
 * on the given store), with or without the controls active: 100 rate limits declared, each task spending
 * a unit of one of them, and each task under one of 1,000 concurrency keys. The limits are wide
 * enough never to hold work back: what is measured is what the dispatcher pays to check them.
 * Returns this process's CPU time per task, in µs.
 */
async function cpuPerTask(controls: boolean, kind: StoreKind): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  // SQLite NORMAL in a fresh file, the store users run; the memory store checks every write
  // deeply (it is for tests), which makes each extra actor write dearer than it is in production.
  const dir = kind === 'sqlite' ? mkdtempSync(join(tmpdir(), 'troupe-controls-')) : undefined;
  const before = process.cpuUsage();
  const runtime = createRuntime({ store: dir ? new SqliteStore({ path: join(dir, 'c.db') }) : new MemoryStore() });
  await runtime.start();
  if (controls) {
    for (let k = 0; k < LIMITS; k++) await runtime.controls.setRateLimit({ key: `api-${k}`, limit: 1e9, per: 1_000 });
  }
  const all = completions(runtime, TASKS);
  for (let i = 0; i < AGENTS; i++) await runtime.agents.register({ id: `a${i}`, capacity: 16, handler: () => null });
  const inputs = Array.from({ length: TASKS }, (_, i) =>
    controls
      ? {
          id: `t${i}`,
          type: 'noop',
          rateLimits: [{ key: `api-${i % LIMITS}` }],
          concurrency: { key: `tenant-${i % KEYS}`, max: 4 },
        }
      : { id: `t${i}`, type: 'noop' },
  );
  for (let i = 0; i < inputs.length; i += 1_000) await runtime.tasks.createMany(inputs.slice(i, i + 1_000));
  await all;
  await runtime.stop();
  const used = process.cpuUsage(before);
  if (dir) rmSync(dir, { recursive: true, force: true });
  return (used.user + used.system) / TASKS;
}

/** The interleaved rounds on one store, as figures named after it. */
async function measure(kind: StoreKind): Promise<Figure[]> {
  await cpuPerTask(false, kind); // warm-up: the JIT compiles the hot paths
  await cpuPerTask(true, kind);
  const none: number[] = [];
  const active: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [false, true] : [true, false];
    for (const controls of order) (controls ? active : none).push(await cpuPerTask(controls, kind));
  }
  const list = (values: number[]): string => values.map((v) => v.toFixed(1)).join(', ');
  const overhead = Math.round((median(active) / median(none) - 1) * 1000) / 10;
  const on = kind === 'sqlite' ? 'SQLite' : 'memory';
  return [
    {
      name: `${on}: CPU per task, no controls`,
      value: Math.round(median(none) * 10) / 10,
      unit: 'µs',
      note: `median of ${ROUNDS} rounds, interleaved: ${list(none)}`,
    },
    {
      name: `${on}: CPU per task, controls active`,
      value: Math.round(median(active) * 10) / 10,
      unit: 'µs',
      note: `${KEYS} concurrency keys, ${LIMITS} rate limits: ${list(active)}`,
    },
    {
      name: `${on}: controls overhead`,
      value: overhead,
      unit: '%',
      target: { op: '<=', value: 10 },
      // CPU time per task grows with the machine's load (caches, other processes): say what it was.
      note: `ratio of the medians of CPU per task; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    },
  ];
}

/**
 * What the production controls cost the dispatcher (issue 16's target: under 10% slower with
 * 1,000 concurrency keys and 100 rate limits active than with none). The two configurations run
 * interleaved in the same process, in an order that turns each round, measured in CPU time per
 * task (steadier than wall time on a shared machine); the cost is the ratio of the medians.
 */
export const controlsCost: Scenario = {
  name: 'controls-cost',
  description:
    'core-throughput with no controls and with 1,000 concurrency keys and 100 rate limits active: CPU per task and overhead',
  async run(): Promise<Figure[]> {
    return [...(await measure('sqlite')), ...(await measure('memory'))];
  },
};
