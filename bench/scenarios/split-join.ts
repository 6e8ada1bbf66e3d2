import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../../src/runtime.js';
import { MemoryStore } from '../../src/engine/store/memory-store.js';
import { SqliteStore } from '../../src/engine/store/sqlite-store.js';
import type { Figure, Scenario } from '../harness.js';

const AGENTS = 8;

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

interface Measure {
  ms: number;
  peakHeapBytes: number;
  /** Heap still in use once the join is ready and garbage is collected (the stored work). */
  retainedHeapBytes: number;
}

/**
 * One n-way split of an already finished source into no-op children, joined with `all`;
 * measures from the split call to the `coordination.join.ready` event, and the heap's peak
 * above what the idle runtime used before the split.
 */
type StoreKind = 'sqlite' | 'memory';

async function splitAndJoin(n: number, kind: StoreKind): Promise<Measure> {
  // SQLite with its defaults (WAL, synchronous NORMAL): the store a user runs.
  const dir = kind === 'sqlite' ? mkdtempSync(join(tmpdir(), 'troupe-split-')) : undefined;
  const store = dir ? new SqliteStore({ path: join(dir, 'split.db') }) : new MemoryStore();
  try {
    return await splitAndJoinOn(n, store);
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

async function splitAndJoinOn(n: number, store: SqliteStore | MemoryStore): Promise<Measure> {
  const runtime = createRuntime({ store, tracing: false });
  await runtime.start();
  for (let i = 0; i < AGENTS; i++) await runtime.agents.register({ id: `a${i}`, capacity: 2_000, handler: () => null });
  await runtime.tasks.create({ id: 'source', type: 'noop' });
  await runtime.tasks.wait('source');
  const targets = Array.from({ length: n }, () => ({ type: 'noop' }));
  let readyAt = 0;
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  runtime.events.subscribe({ types: ['coordination.join.ready'] }, () => {
    readyAt = performance.now();
    resolveReady();
  });
  const base = heapUsed();
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 1);
  const t0 = performance.now();
  const split = await runtime.coordination.split({ id: 'split', sourceTaskId: 'source', targets });
  await runtime.coordination.join({ id: 'join', sources: { split: split.id } });
  await ready;
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  clearInterval(sampler);
  await runtime.idle();
  const retained = heapUsed() - base;
  await runtime.stop();
  return { ms: readyAt - t0, peakHeapBytes: peak - base, retainedHeapBytes: retained };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Runs `runs` times and keeps the median of each figure (one slow run on a busy machine is noise). */
async function measure(n: number, runs: number, kind: StoreKind): Promise<Measure> {
  const all: Measure[] = [];
  for (let i = 0; i < runs; i++) all.push(await splitAndJoin(n, kind));
  return {
    ms: median(all.map((m) => m.ms)),
    peakHeapBytes: median(all.map((m) => m.peakHeapBytes)),
    retainedHeapBytes: median(all.map((m) => m.retainedHeapBytes)),
  };
}

function figuresFor(kind: StoreKind, small: Measure, large: Measure): Figure[] {
  const perChild = (bytes: number, n: number) => Math.round(bytes / n);
  const on = kind === 'sqlite' ? 'SQLite' : 'memory';
  return [
    { name: `${on} 1k split→join-ready`, value: Math.round(small.ms), unit: 'ms', target: { op: '<=', value: 50 } },
    { name: `${on} 10k split→join-ready`, value: Math.round(large.ms), unit: 'ms', target: { op: '<=', value: 500 } },
    { name: `${on} 1k peak heap per child`, value: perChild(small.peakHeapBytes, 1_000), unit: 'bytes' },
    { name: `${on} 10k peak heap per child`, value: perChild(large.peakHeapBytes, 10_000), unit: 'bytes' },
    {
      name: `${on} 10k retained heap per child`,
      value: perChild(large.retainedHeapBytes, 10_000),
      unit: 'bytes',
      note: kind === 'sqlite' ? 'settled children live on disk' : 'the memory store keeps every child',
    },
  ];
}

/**
 * n-way split and join on SQLite (the durable store, first) and on the memory store, with
 * in-process no-op agents.
 */
export const splitJoin: Scenario = {
  name: 'split-join',
  description:
    '1,000- and 10,000-way split then join (all), SQLite NORMAL then memory, 8 no-op agents: split to join-ready, heap (median of 3)',
  async run(): Promise<Figure[]> {
    const figures: Figure[] = [];
    for (const kind of ['sqlite', 'memory'] as const) {
      await splitAndJoin(1_000, kind); // warm-up: compile the hot paths before measuring
      const small = await measure(1_000, 3, kind);
      const large = await measure(10_000, 3, kind);
      figures.push(...figuresFor(kind, small, large));
    }
    return figures;
  },
};
