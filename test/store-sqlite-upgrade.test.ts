import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock, TroupeError } from '../src/index.js';
import { latestVersion, pendingMigrations } from '../src/engine/store/schema-ladder.js';
import { SQLITE_MIGRATIONS } from '../src/engine/store/sqlite-migrations.js';
import { SqliteStore } from '../src/engine/store/sqlite-store.js';

/**
 * `fixtures/schema/store-v1.db` was written by the SQLite store of schema version 1 (the first
 * release) through a real runtime: a ticket of two phases run to the end, an agent, and a task
 * still waiting with its start timer. Opening it with today's store must upgrade it in place and
 * carry on from exactly what it held.
 */
const FIXTURE = join(import.meta.dirname, 'fixtures', 'schema', 'store-v1.db');
const silent = pino({ level: 'silent' });
/** The columns of the actors table at version 1; later versions add to them. */
const V1_ACTOR_COLUMNS = 'id, kind, machine_id, version, state, context, settled, ticket_id, updated_at';

describe('SQLite schema versions', () => {
  let dir: string;
  let path: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-upgrade-'));
    path = join(dir, 'troupe.db');
    await copyFile(FIXTURE, path);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const metaVersion = (file: string): string => {
    const db = new Database(file, { readonly: true });
    try {
      return String(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get());
    } finally {
      db.close();
    }
  };

  it('upgrades a version-1 file on open and keeps everything it held', async () => {
    expect(metaVersion(path)).toBe('1');
    const before = new Database(path, { readonly: true });
    const actorsBefore = before.prepare(`SELECT ${V1_ACTOR_COLUMNS} FROM actors ORDER BY id`).all();
    const eventsBefore = before.prepare('SELECT * FROM events ORDER BY seq').all();
    const timersBefore = before.prepare('SELECT * FROM timers ORDER BY actor_id, name').all();
    before.close();
    expect(actorsBefore.length).toBe(7);

    const store = new SqliteStore({ path });
    await store.open();
    await store.close();
    expect(metaVersion(path)).toBe(String(latestVersion(SQLITE_MIGRATIONS)));
    const after = new Database(path, { readonly: true });
    expect(after.prepare(`SELECT ${V1_ACTOR_COLUMNS} FROM actors ORDER BY id`).all()).toEqual(actorsBefore);
    // Version 4: each actor's creation time is its last write time, the best version 1 knew.
    expect(after.prepare('SELECT COUNT(*) FROM actors WHERE created_at <> updated_at').pluck().get()).toBe(0);
    expect(after.prepare('SELECT * FROM events ORDER BY seq').all()).toEqual(eventsBefore);
    expect(after.prepare('SELECT * FROM timers ORDER BY actor_id, name').all()).toEqual(timersBefore);
    expect(after.prepare('SELECT COUNT(*) FROM leases').pluck().get()).toBe(0);
    after.close();
  });

  it('a runtime resumes the upgraded file: the waiting task still runs, the finished ticket reads whole', async () => {
    const clock = new SimulatedClock(1_760_000_100_000);
    const runtime = createRuntime({ store: new SqliteStore({ path }), clock, logger: silent });
    const report = await runtime.start();
    expect(report.actors).toBeGreaterThanOrEqual(2);
    try {
      const ticket = await runtime.tickets.get('TK-1');
      expect(ticket?.status).toBe('completed');
      // Settled work of the old file is paged in creation order like new work.
      const store = runtime.store;
      const tasks = await store.pageActors({ kinds: ['task'], order: 'oldest', limit: 100 });
      expect(tasks.items.length).toBe((await store.listActors({ kind: 'task' })).length);
      expect(tasks.items.map((i) => i.createdAt)).toEqual(
        tasks.items.map((i) => i.actor.updatedAt).sort((a, b) => a - b),
      );
      await runtime.agents.register({
        id: 'deployer',
        capabilities: ['nobody-has-this'],
        capacity: 1,
        handler: async () => ({ ok: true }),
      });
      const done = await runtime.tasks.wait('waiting');
      expect(done.status).toBe('succeeded');
    } finally {
      await runtime.stop();
    }
  });

  it('a readonly open of an old file asks for one writable open and changes nothing', async () => {
    const bytes = await readFile(path);
    const store = new SqliteStore({ path, readonly: true });
    const error = await store.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TroupeError);
    expect((error as TroupeError).message).toMatch(/schema version 1 and must be upgraded/);
    expect(await readFile(path)).toEqual(bytes);
  });

  it('refuses a file from a newer Troupe with a clear message and leaves it untouched', async () => {
    const db = new Database(path);
    db.prepare("UPDATE meta SET value = '999' WHERE key = 'schema_version'").run();
    db.close();
    const bytes = await readFile(path);
    const error = await new SqliteStore({ path }).open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TroupeError);
    expect((error as TroupeError).code).toBe('E_STORE');
    expect((error as TroupeError).message).toMatch(/schema version 999, newer than this Troupe knows \(\d+\)/);
    expect(await readFile(path)).toEqual(bytes);
  });

  it('an upgrade that fails part-way leaves the file at its old version', async () => {
    // A table the next migration creates, made by hand: the upgrade fails on it and rolls back.
    const db = new Database(path);
    db.exec('CREATE TABLE leases (x INTEGER)');
    db.close();
    await expect(new SqliteStore({ path }).open()).rejects.toThrow(/leases/);
    expect(metaVersion(path)).toBe('1');
  });
});

describe('the migration ladder', () => {
  const ladder = [
    { version: 1, name: 'a', sql: '' },
    { version: 2, name: 'b', sql: '' },
  ];

  it('names what a database at each version still needs', () => {
    expect(pendingMigrations(ladder, 0, 'db').map((m) => m.name)).toEqual(['a', 'b']);
    expect(pendingMigrations(ladder, 1, 'db').map((m) => m.name)).toEqual(['b']);
    expect(pendingMigrations(ladder, 2, 'db')).toEqual([]);
  });

  it('refuses a newer database and a ladder with a gap', () => {
    expect(() => pendingMigrations(ladder, 3, 'db')).toThrow(/schema version 3, newer than this Troupe knows \(2\)/);
    expect(() => pendingMigrations([ladder[1]!], 0, 'db')).toThrow(/not consecutive/);
  });
});
