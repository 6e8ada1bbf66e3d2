import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/engine/store/sqlite-store.js';
import { latestVersion } from '../src/engine/store/schema-ladder.js';
import { SQLITE_MIGRATIONS } from '../src/engine/store/sqlite-migrations.js';
import { actor, batch, describeStoreConformance, event } from './store-conformance.js';
import { describeLeaseConformance } from './lease-conformance.js';

for (const synchronous of ['NORMAL', 'FULL'] as const) {
  describeStoreConformance(
    `SqliteStore (synchronous=${synchronous})`,
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'troupe-sqlite-'));
      // A nested path, so that the store has to create the parent directory itself.
      const path = join(dir, 'nested', 'troupe.db');
      return {
        store: new SqliteStore({ path, synchronous }),
        reopen: async () => new SqliteStore({ path, synchronous }),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
    { persistent: true },
  );
}

describeLeaseConformance('SqliteStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-sqlite-'));
  return {
    store: new SqliteStore({ path: join(dir, 'troupe.db') }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('SqliteStore on disk', () => {
  let dir: string;
  let path: string;
  const stores: SqliteStore[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-sqlite-'));
    path = join(dir, 'a', 'b', 'troupe.db');
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function open(options: Partial<ConstructorParameters<typeof SqliteStore>[0]> = {}): Promise<SqliteStore> {
    const store = new SqliteStore({ path, ...options });
    await store.open();
    stores.push(store);
    return store;
  }

  /** The store's own connection; reached into only to check per-connection pragmas. */
  function connectionOf(store: SqliteStore): Database.Database {
    return (store as unknown as { db: Database.Database }).db;
  }

  it('is named after its path and creates the schema in WAL mode', async () => {
    const store = await open();
    expect(store.name).toBe(`sqlite:${path}`);
    await store.close();

    const db = new Database(path, { readonly: true });
    const objects = db
      .prepare("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
      .all();
    const meta = db.prepare('SELECT key, value FROM meta ORDER BY key').all();
    const journal = db.pragma('journal_mode', { simple: true });
    db.close();
    expect(objects).toEqual([
      { type: 'table', name: 'actors' },
      { type: 'index', name: 'actors_created' },
      { type: 'index', name: 'actors_expiry' },
      { type: 'index', name: 'actors_settled' },
      { type: 'index', name: 'actors_ticket' },
      { type: 'table', name: 'audit' },
      { type: 'index', name: 'audit_at' },
      { type: 'table', name: 'events' },
      { type: 'index', name: 'events_ownerless' },
      { type: 'index', name: 'events_task' },
      { type: 'index', name: 'events_ticket' },
      { type: 'table', name: 'lease_history' },
      { type: 'table', name: 'leases' },
      { type: 'table', name: 'meta' },
      { type: 'table', name: 'outbox' },
      { type: 'table', name: 'timers' },
    ]);
    expect(meta).toEqual([
      { key: 'app', value: 'troupe' },
      { key: 'schema_version', value: String(latestVersion(SQLITE_MIGRATIONS)) },
    ]);
    expect(journal).toBe('wal');
  });

  it('upgrades a version 2 store (before retention and audit) in place, keeping its rows', async () => {
    const first = await open();
    await first.commit(batch({ events: [event(1)], actors: [actor('old', { updatedAt: 7 })] }));
    await first.close();
    // What a version 2 file is: the same tables less the audit table, retention's indexes and
    // the creation order of actors (version 4).
    const db = new Database(path);
    db.exec(`DROP TABLE audit; DROP INDEX actors_expiry; DROP INDEX events_ownerless; DROP INDEX actors_created;
      ALTER TABLE actors DROP COLUMN created_at; UPDATE meta SET value = '2' WHERE key = 'schema_version'`);
    db.close();
    const upgraded = await open();
    expect((await upgraded.readEvents({})).map((e) => e.seq)).toEqual([1]);
    await upgraded.appendAudit([{ at: 1, actor: 'ops', action: 'config.reloaded', target: null, details: {} }]);
    expect((await upgraded.pageActors({ kinds: ['task'], order: 'oldest', limit: 5 })).items).toEqual([
      { actor: actor('old', { updatedAt: 7 }), createdAt: 7 },
    ]);
    await upgraded.close();
    const check = new Database(path, { readonly: true });
    expect(check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe('4');
    expect(
      check
        .prepare(
          "SELECT name FROM sqlite_master WHERE name IN ('audit', 'actors_expiry', 'events_ownerless', 'actors_created') ORDER BY name",
        )
        .pluck()
        .all(),
    ).toEqual(['actors_created', 'actors_expiry', 'audit', 'events_ownerless']);
    check.close();
  });

  it('applies the synchronous setting, NORMAL by default', async () => {
    expect(connectionOf(await open()).pragma('synchronous', { simple: true })).toBe(1);
    expect(connectionOf(await open({ synchronous: 'FULL' })).pragma('synchronous', { simple: true })).toBe(2);
  });

  it('prunes the oldest events once more than ~10% over the retention', async () => {
    const store = await open({ eventRetention: 10 });
    for (let seq = 1; seq <= 11; seq++) await store.commit(batch({ events: [event(seq)] }));
    expect(await store.readEvents({})).toHaveLength(11);

    await store.commit(batch({ events: [event(12)] }));
    expect((await store.readEvents({ order: 'oldest' })).map((e) => e.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(await store.lastEventSeq()).toBe(12);

    await store.commit(batch({ events: Array.from({ length: 25 }, (_, i) => event(13 + i)) }));
    expect((await store.readEvents({ order: 'oldest' })).map((e) => e.seq)).toEqual([
      28, 29, 30, 31, 32, 33, 34, 35, 36, 37,
    ]);
  });

  it('counts the events already on disk when it opens', async () => {
    const first = await open({ eventRetention: 10 });
    await first.commit(batch({ events: Array.from({ length: 11 }, (_, i) => event(i + 1)) }));
    await first.close();

    const second = await open({ eventRetention: 10 });
    expect(await second.readEvents({})).toHaveLength(11);
    await second.commit(batch({ events: [event(12)] }));
    expect((await second.readEvents({ order: 'oldest' })).map((e) => e.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('rejects a retention that is not a positive integer', () => {
    expect(() => new SqliteStore({ path, eventRetention: 0 })).toThrow(/eventRetention/);
    expect(() => new SqliteStore({ path, eventRetention: 1.5 })).toThrow(/eventRetention/);
  });

  it('lets a second connection read what the first committed (WAL readers)', async () => {
    const writer = await open();
    await writer.commit(batch({ events: [event(1)] }));
    const reader = await open();
    expect(await reader.lastEventSeq()).toBe(1);
    await writer.commit(batch({ events: [event(2)] }));
    expect(await reader.lastEventSeq()).toBe(2);
  });
});
