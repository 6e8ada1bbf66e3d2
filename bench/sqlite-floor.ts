import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { ACTORS_TABLE_SQL } from '../src/engine/store/sqlite-migrations.js';

const BATCH = 500;

/** An actor-like row: a task's context as JSON, about 300 bytes. */
function contextJson(i: number): string {
  return JSON.stringify({
    taskId: `task-${i}`,
    ticketId: `ticket-${i % 50}`,
    attempt: i % 4,
    lease: `lease-${(i * 2654435761).toString(36)}`,
    capabilities: ['typescript', 'review'],
    input: {
      repo: 'acme/service',
      path: `src/modules/file-${i}.ts`,
      instructions: 'Refactor the handler and keep the tests green.',
    },
    deadline: 1_700_000_000_000 + i,
    retry: { backoffMs: 1000, max: 5 },
  });
}

/**
 * The floor for the SQLite store: raw better-sqlite3 inserts of actor-like rows into the same
 * actors table (same columns and indexes), 500 rows per transaction, WAL mode. The JSON is made
 * before the clock starts, so this is what SQLite alone costs; the store should come close.
 *
 * @example
 * ```ts
 * const { rowsPerSecond, bytesPerRow } = await measureSqliteFloor({ rows: 20_000, synchronous: 'NORMAL', dir: os.tmpdir() });
 * ```
 */
export async function measureSqliteFloor(opts: {
  rows: number;
  synchronous: 'NORMAL' | 'FULL';
  dir: string;
}): Promise<{ rowsPerSecond: number; bytesPerRow: number }> {
  mkdirSync(opts.dir, { recursive: true });
  const path = join(opts.dir, `sqlite-floor-${process.pid}-${Date.now()}.db`);
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous}`);
    db.exec(ACTORS_TABLE_SQL);
    const insert = db.prepare(
      'INSERT INTO actors (id, kind, machine_id, version, state, context, settled, ticket_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const ids = Array.from({ length: opts.rows }, (_, i) => `task-${String(i).padStart(8, '0')}`);
    const contexts = Array.from({ length: opts.rows }, (_, i) => contextJson(i));
    const insertBatch = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        insert.run(
          ids[i],
          'task',
          'troupe.task',
          1,
          '"running"',
          contexts[i],
          0,
          `ticket-${i % 50}`,
          1_700_000_000_000 + i,
        );
      }
    });

    const started = performance.now();
    for (let from = 0; from < opts.rows; from += BATCH) insertBatch(from, Math.min(from + BATCH, opts.rows));
    const seconds = (performance.now() - started) / 1000;
    db.close(); // checkpoints the WAL into the file
    return { rowsPerSecond: Math.round(opts.rows / seconds), bytesPerRow: Math.round(statSync(path).size / opts.rows) };
  } finally {
    if (db.open) db.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  }
}

// `tsx bench/sqlite-floor.ts [rows] [dir]` prints the floor for both synchronous settings.
// (By file name: inside the bench's bundle, import.meta.url is the bundle's own and would match.)
if (
  process.argv[1] !== undefined &&
  /sqlite-floor\.ts$/.test(process.argv[1]) &&
  import.meta.url === pathToFileURL(process.argv[1]).href
) {
  const rows = Number(process.argv[2] ?? 20_000);
  const dir = process.argv[3] ?? join((await import('node:os')).tmpdir(), 'troupe-bench');
  for (const synchronous of ['NORMAL', 'FULL'] as const) {
    const result = await measureSqliteFloor({ rows, synchronous, dir });
    console.log(
      `sqlite floor, ${rows} rows, synchronous=${synchronous}: ${result.rowsPerSecond} rows/s, ${result.bytesPerRow} bytes/row`,
    );
  }
}
