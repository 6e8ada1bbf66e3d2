import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createRuntime } from '../../src/runtime.js';
import { MemoryStore } from '../../src/engine/store/memory-store.js';
import { SqliteStore, UPSERT_ACTOR_SQL } from '../../src/engine/store/sqlite-store.js';
import { DelegatingStore } from '../../src/engine/store/delegating-store.js';
import type { CommitBatch, Store } from '../../src/engine/store/store.js';
import { actorRowValues, eventRowValues } from '../../src/engine/store/store-rows.js';
import type { Figure, Scenario } from '../harness.js';
import { completions, percentile } from '../harness.js';
import { measureSqliteFloor } from '../sqlite-floor.js';

/** The workload of `core-throughput`: 20,000 no-op tasks through 8 in-process agents. */
const TASKS = 20_000;
const AGENTS = 8;
const LATENCY_TASKS = 2_000;
/** Each configuration runs this many times, interleaved; the median is reported. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

type Mode = 'memory' | 'NORMAL' | 'FULL';

/** Bytes this process passed to write(2) so far (Linux), or undefined elsewhere. */
function bytesWritten(): number | undefined {
  if (!existsSync('/proc/self/io')) return undefined;
  const match = /^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  return match ? Number(match[1]) : undefined;
}

/** Collects garbage between measurements (the bench runs with --expose-gc), so one run's heap does not bill the next. */
function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function sizeOf(path: string): number {
  return ['', '-wal'].reduce((sum, suffix) => sum + (existsSync(path + suffix) ? statSync(path + suffix).size : 0), 0);
}

function removeDb(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
}

/** Passes everything through, keeping each committed batch (by reference) for the floor. */
class RecordingStore extends DelegatingStore {
  readonly batches: CommitBatch[] = [];
  override async commit(batch: CommitBatch) {
    await this.inner.commit(batch);
    this.batches.push(batch);
  }
}

function storeFor(mode: Mode, path: string): Store {
  return mode === 'memory' ? new MemoryStore() : new SqliteStore({ path, synchronous: mode });
}

interface ThroughputRun {
  tasksPerSecond: number;
  /** write(2) bytes during the run. */
  written: number | undefined;
  /** Database file plus WAL at the end of the run. */
  fileBytes: number;
  batches: CommitBatch[];
}

/** Registers 8 agents, creates 20,000 tasks in chunks of 1,000, waits for every completion. */
async function throughput(mode: Mode, path: string, record: boolean): Promise<ThroughputRun> {
  removeDb(path);
  collect();
  const inner = storeFor(mode, path);
  const store = record ? new RecordingStore(inner) : inner;
  const runtime = createRuntime({ store });
  await runtime.start();
  const all = completions(runtime, TASKS);
  const writtenBefore = bytesWritten();
  const t0 = performance.now();
  for (let i = 0; i < AGENTS; i++) await runtime.agents.register({ id: `a${i}`, capacity: 16, handler: () => null });
  const inputs = Array.from({ length: TASKS }, (_, i) => ({ id: `t${i}`, type: 'noop' }));
  for (let i = 0; i < inputs.length; i += 1_000) await runtime.tasks.createMany(inputs.slice(i, i + 1_000));
  await all;
  const seconds = (performance.now() - t0) / 1000;
  const writtenAfter = bytesWritten();
  const fileBytes = mode === 'memory' ? 0 : sizeOf(path);
  await runtime.stop();
  removeDb(path);
  return {
    tasksPerSecond: Math.round(TASKS / seconds),
    written: writtenBefore === undefined || writtenAfter === undefined ? undefined : writtenAfter - writtenBefore,
    fileBytes,
    batches: store instanceof RecordingStore ? store.batches : [],
  };
}

/** One task in flight at a time: from the create call to the handler being called. */
async function latency(mode: Mode, path: string): Promise<{ p50: number; p99: number }> {
  removeDb(path);
  collect();
  const runtime = createRuntime({ store: storeFor(mode, path) });
  let calledAt = 0;
  await runtime.agents.register({
    id: 'solo',
    handler: () => {
      calledAt = performance.now();
      return null;
    },
  });
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_TASKS; i++) {
    const createdAt = performance.now();
    const t = await runtime.tasks.create({ id: `l${i}`, type: 'noop' });
    await runtime.tasks.wait(t.id);
    latencies.push(calledAt - createdAt);
  }
  await runtime.stop();
  removeDb(path);
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** The JSON and row counts of what the store committed, made before any clock starts. */
function prepareReplay(batches: CommitBatch[]) {
  let rows = 0;
  let bytes = 0;
  const prepared = batches.map((b) => {
    const actors = b.actors.map((a) => {
      const state = JSON.stringify(a.state) ?? null;
      const context = JSON.stringify(a.context) ?? null;
      bytes += a.id.length + (state?.length ?? 0) + (context?.length ?? 0) + 40;
      return actorRowValues(a, state, context, a.settled ? 1 : 0, a.updatedAt);
    });
    const events = b.events.map((e) => {
      const data = JSON.stringify(e.data);
      bytes += data.length + e.type.length + (e.taskId?.length ?? 0) + (e.agentId?.length ?? 0) + 24;
      return eventRowValues(e, data);
    });
    rows += actors.length + events.length + b.timersSet.length + b.timersCleared.length;
    return { actors, events, timersSet: b.timersSet, timersCleared: b.timersCleared };
  });
  return { prepared, rows, bytes };
}

/**
 * The floor: raw better-sqlite3 writes of exactly the rows the store committed in the NORMAL run,
 * batch for batch, one transaction each, same schema and statements, JSON made beforehand.
 */
async function replayFloor(
  replay: ReturnType<typeof prepareReplay>,
  synchronous: 'NORMAL' | 'FULL',
  path: string,
): Promise<number> {
  removeDb(path);
  // The store creates its schema; the replay then writes through a bare connection.
  const store = new SqliteStore({ path });
  await store.open();
  await store.close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  const upsert = db.prepare(UPSERT_ACTOR_SQL);
  const insertEvent = db.prepare(
    'INSERT INTO events (seq, type, at, ticket_id, task_id, agent_id, phase, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const setTimer = db.prepare(
    'INSERT INTO timers (actor_id, name, at) VALUES (?, ?, ?) ON CONFLICT (actor_id, name) DO UPDATE SET at = excluded.at',
  );
  const clearTimer = db.prepare('DELETE FROM timers WHERE actor_id = ? AND name = ?');
  const apply = db.transaction((b: (typeof replay.prepared)[number]) => {
    for (const a of b.actors) upsert.run(a);
    for (const t of b.timersCleared) clearTimer.run(t.actorId, t.name);
    for (const t of b.timersSet) setTimer.run(t.actorId, t.name, t.at);
    for (const e of b.events) insertEvent.run(e);
  });
  const t0 = performance.now();
  for (const b of replay.prepared) apply(b);
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  removeDb(path);
  return seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

/**
 * The durable figures beside the memory ones: the same 20,000 no-op tasks through 8 agents on
 * the memory store, on SQLite with synchronous=NORMAL and with FULL (interleaved, median of
 * BENCH_ROUNDS runs, default 3), the create-to-handler latency, the bytes written per task, and
 * the floor: raw better-sqlite3 writing the very rows the store committed.
 */
export const sqliteThroughput: Scenario = {
  name: 'sqlite-throughput',
  description: '20k no-op tasks, 8 agents: memory vs SQLite NORMAL/FULL, latency, bytes/task, raw SQLite floor',
  async run(): Promise<Figure[]> {
    const dir = join(tmpdir(), `troupe-bench-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const path = (name: string) => join(dir, `${name}.db`);
    const rates: Record<Mode, number[]> = { memory: [], NORMAL: [], FULL: [] };
    const written: Record<'NORMAL' | 'FULL', number[]> = { NORMAL: [], FULL: [] };
    const fileBytes: Record<'NORMAL' | 'FULL', number[]> = { NORMAL: [], FULL: [] };
    let recorded: CommitBatch[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        for (const mode of ['memory', 'NORMAL', 'FULL'] as const) {
          const run = await throughput(mode, path(`tp-${mode}`), mode === 'NORMAL' && round === 0);
          rates[mode].push(run.tasksPerSecond);
          if (mode !== 'memory') {
            if (run.written !== undefined) written[mode].push(run.written / TASKS);
            fileBytes[mode].push(run.fileBytes / TASKS);
          }
          if (run.batches.length > 0) recorded = run.batches;
        }
      }
      const memoryLatency = await latency('memory', path('lat-memory'));
      const normalLatency = await latency('NORMAL', path('lat-normal'));
      const fullLatency = await latency('FULL', path('lat-full'));

      const replay = prepareReplay(recorded);
      recorded = [];
      const floorNormal = await replayFloor(replay, 'NORMAL', path('floor-normal'));
      const floorFull = await replayFloor(replay, 'FULL', path('floor-full'));
      const synthetic = await measureSqliteFloor({ rows: TASKS, synchronous: 'NORMAL', dir });

      const memory = median(rates.memory);
      const normal = median(rates.NORMAL);
      const full = median(rates.FULL);
      const runs = `median of ${ROUNDS}: `;
      const figures: Figure[] = [
        { name: 'memory throughput', value: memory, unit: 'tasks/s', note: `${runs}${rates.memory.join(', ')}` },
        {
          name: 'NORMAL throughput',
          value: normal,
          unit: 'tasks/s',
          target: { op: '>=', value: 10_000 },
          note: `${runs}${rates.NORMAL.join(', ')}`,
        },
        {
          name: 'NORMAL / memory',
          value: Math.round((normal / memory) * 100) / 100,
          unit: 'ratio',
          target: { op: '>=', value: 0.5 },
        },
        { name: 'FULL throughput', value: full, unit: 'tasks/s', note: `${runs}${rates.FULL.join(', ')}` },
        {
          name: 'memory create-to-handler p99',
          value: memoryLatency.p99,
          unit: 'ms',
          note: `p50 ${memoryLatency.p50.toFixed(3)}`,
        },
        {
          name: 'NORMAL create-to-handler p99',
          value: normalLatency.p99,
          unit: 'ms',
          note: `p50 ${normalLatency.p50.toFixed(3)}`,
        },
        {
          name: 'FULL create-to-handler p99',
          value: fullLatency.p99,
          unit: 'ms',
          note: `p50 ${fullLatency.p50.toFixed(3)}`,
        },
        {
          name: 'NORMAL bytes written per task',
          value: Math.round(median(written.NORMAL)),
          unit: 'bytes',
          note: 'write(2) bytes of the process during the run / tasks',
        },
        {
          name: 'FULL bytes written per task',
          value: Math.round(median(written.FULL)),
          unit: 'bytes',
          note: 'write(2) bytes / tasks',
        },
        {
          name: 'file + WAL per task',
          value: Math.round(median(fileBytes.NORMAL)),
          unit: 'bytes',
          note: 'after the run, 100k events kept',
        },
        {
          name: 'bytes committed per task',
          value: Math.round(replay.bytes / TASKS),
          unit: 'bytes',
          note: `JSON and keys of ${replay.rows} rows in ${replay.prepared.length} batches`,
        },
        {
          name: 'floor NORMAL (raw, same rows)',
          value: Math.round(TASKS / floorNormal),
          unit: 'tasks/s',
          note: `${Math.round(replay.rows / floorNormal)} rows/s; the store's own rows and batches`,
        },
        {
          name: 'floor FULL (raw, same rows)',
          value: Math.round(TASKS / floorFull),
          unit: 'tasks/s',
          note: `${Math.round(replay.rows / floorFull)} rows/s`,
        },
        {
          name: 'floor NORMAL (synthetic rows)',
          value: synthetic.rowsPerSecond,
          unit: 'rows/s',
          note: 'bench/sqlite-floor.ts, 500 rows/tx',
        },
      ];
      return figures.filter((f) => Number.isFinite(f.value));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
