import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { TroupeError } from '../src/core/errors.js';
import { PostgresStore } from '../src/engine/store/postgres-store.js';
import { POSTGRES_MIGRATIONS } from '../src/engine/store/postgres-migrations.js';
import { latestVersion } from '../src/engine/store/schema-ladder.js';
import { actor, batch, describeStoreConformance, event } from './store-conformance.js';
import { usePostgresServer } from './support/postgres-server.js';
import { describeLeaseConformance } from './lease-conformance.js';

const server = usePostgresServer();

describeStoreConformance(
  'PostgresStore',
  async () => {
    const url = await server().createDatabase();
    return {
      store: new PostgresStore({ url }),
      reopen: async () => new PostgresStore({ url }),
    };
  },
  { persistent: true },
);

describeLeaseConformance(
  'PostgresStore',
  async () => ({ store: new PostgresStore({ url: await server().createDatabase() }) }),
  { clock: 'database' },
);

describe('PostgresStore on a real server', () => {
  const stores: PostgresStore[] = [];
  const clients: pg.Client[] = [];

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const client of clients.splice(0)) await client.end();
  });

  async function open(url: string, schema?: string): Promise<PostgresStore> {
    const store = new PostgresStore({ url, ...(schema ? { schema } : {}) });
    stores.push(store);
    await store.open();
    return store;
  }

  async function sql(url: string): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    clients.push(client);
    return client;
  }

  it('creates its tables in its own schema at the latest version, and names itself without a password', async () => {
    const url = await server().createDatabase();
    const store = await open(url.replace('troupe_test@', 'troupe_test:secret@'));
    expect(store.name).toMatch(/^postgres:postgres:\/\/troupe_test:\*\*\*@127\.0\.0\.1:\d+\/t_/);
    const client = await sql(url);
    const tables = await client.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'troupe' ORDER BY 1",
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual([
      'actors',
      'audit',
      'cluster',
      'events',
      'lease_history',
      'leases',
      'nodes',
      'outbox',
      'schema_migrations',
      'shard_endpoints',
      'timers',
    ]);
    const versions = await client.query('SELECT version, name FROM troupe.schema_migrations ORDER BY version');
    expect(versions.rows).toEqual(POSTGRES_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
  });

  it('runs each connection with synchronous_commit on, whatever the server default', async () => {
    const url = await server().createDatabase();
    const client = await sql(url);
    await client.query(`ALTER DATABASE ${url.slice(url.lastIndexOf('/') + 1)} SET synchronous_commit = off`);
    const store = await open(url);
    const pool = (store as unknown as { pool: pg.Pool }).pool;
    expect((await pool.query('SHOW synchronous_commit')).rows[0]).toEqual({ synchronous_commit: 'on' });
  });

  it('two schemas in one database are two stores', async () => {
    const url = await server().createDatabase();
    const a = await open(url, 'team_a');
    const b = await open(url, 'team_b');
    await a.commit(batch({ actors: [actor('x')] }));
    expect(await b.getActor('x')).toBeUndefined();
    expect(await a.getActor('x')).toEqual(actor('x'));
    expect(b.name).toMatch(/#team_b$/);
  });

  it('nodes opening one new database at once migrate it once', async () => {
    const url = await server().createDatabase();
    await Promise.all([open(url), open(url), open(url)]);
    const client = await sql(url);
    expect((await client.query('SELECT count(*)::int AS n FROM troupe.schema_migrations')).rows[0].n).toBe(
      POSTGRES_MIGRATIONS.length,
    );
  });

  it('refuses a database written by a newer Troupe, naming both versions, and changes nothing', async () => {
    const url = await server().createDatabase();
    (await open(url)).close();
    const client = await sql(url);
    const next = latestVersion(POSTGRES_MIGRATIONS) + 1;
    await client.query("INSERT INTO troupe.schema_migrations (version, name) VALUES ($1, 'from-the-future')", [next]);
    const error = await open(url).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TroupeError);
    expect((error as TroupeError).code).toBe('E_STORE');
    expect((error as TroupeError).message).toContain(
      `schema version ${next}, newer than this Troupe knows (${next - 1})`,
    );
  });

  it("leaves alone a schema that holds somebody else's tables", async () => {
    const url = await server().createDatabase();
    const client = await sql(url);
    await client.query('CREATE SCHEMA troupe; CREATE TABLE troupe.invoices (id int)');
    await expect(open(url)).rejects.toThrow(/not a Troupe store \(invoices\)/);
    const tables = await client.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'troupe'");
    expect(tables.rows).toEqual([{ table_name: 'invoices' }]);
  });

  it('a batch the database refuses is E_INVALID_INPUT and the store carries on', async () => {
    const url = await server().createDatabase();
    const store = await open(url);
    await store.commit(batch({ events: [event(1)] }));
    const error = await store.commit(batch({ actors: [actor('a')], events: [event(1)] })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as TroupeError).code).toBe('E_INVALID_INPUT');
    // A NUL character in an id: PostgreSQL text cannot hold it.
    const nul = await store.commit(batch({ actors: [actor('bad\u0000id')] })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((nul as TroupeError).code).toBe('E_INVALID_INPUT');
    await store.commit(batch({ actors: [actor('b')], events: [event(2)] }));
    expect((await store.listActors({})).map((a) => a.id)).toEqual(['b']);
  });

  it('a commit whose connection is killed fails the store with E_STORE, and a new store carries on', async () => {
    const url = await server().createDatabase();
    const store = await open(url);
    await store.commit(batch({ actors: [actor('a')] }));
    const admin = await sql(server().url());
    // Hold the row's lock so the next commit waits, then end that commit's connection.
    const blocker = await sql(url);
    await blocker.query('BEGIN');
    await blocker.query("SELECT * FROM troupe.actors WHERE id = 'a' FOR UPDATE");
    const pending = store.commit(batch({ actors: [actor('a', { state: 'next' })] })).then(
      () => undefined,
      (e: unknown) => e,
    );
    for (let i = 0; i < 100; i++) {
      const waiting = await admin.query(
        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO actors%'",
      );
      if (waiting.rows.length > 0) {
        await admin.query('SELECT pg_terminate_backend($1)', [waiting.rows[0].pid]);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const error = (await pending) as TroupeError;
    expect(error.code).toBe('E_STORE');
    await blocker.query('ROLLBACK');
    await expect(store.commit(batch({ actors: [actor('c')] }))).rejects.toThrow(/failed earlier/);
    const next = await open(url);
    expect(await next.getActor('a')).toEqual(actor('a'));
    await next.commit(batch({ actors: [actor('c')] }));
    expect((await next.listActors({})).map((a) => a.id)).toEqual(['a', 'c']);
  });

  it('a fenced store writes while its lease is held at its epoch, and never after another node took it', async () => {
    const url = await server().createDatabase();
    const registry = await open(url);
    const term = await registry.tryLease('troupe.writer', 'node-a', 150, 0);
    expect(term?.epoch).toBe(1);
    const fenced = new PostgresStore({ url, fence: { lease: 'troupe.writer', holder: 'node-a', epoch: 1 } });
    stores.push(fenced);
    await fenced.open();
    await fenced.commit(
      batch({ actors: [actor('a')], events: [event(1)], timersSet: [{ actorId: 'a', name: 't', at: 1 }] }),
    );
    expect(await registry.getActor('a')).toEqual(actor('a'));

    // The lease runs out; node-b takes it (epoch 2). node-a's next commit writes nothing.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await registry.tryLease('troupe.writer', 'node-b', 60_000, 0)).toMatchObject({ epoch: 2 });
    const error = (await fenced
      .commit(
        batch({
          actors: [actor('a', { state: 'stale write' }), actor('b')],
          events: [event(2)],
          outboxDelivered: ['x'],
          timersCleared: [{ actorId: 'a', name: 't' }],
        }),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as TroupeError;
    expect(error.code).toBe('E_STORE');
    expect(error.message).toMatch(/fenced: lease troupe.writer is no longer held by node-a at epoch 1/);
    expect(await registry.getActor('a')).toEqual(actor('a'));
    expect(await registry.getActor('b')).toBeUndefined();
    expect(await registry.lastEventSeq()).toBe(1);
    expect(await registry.loadTimers()).toEqual([{ actorId: 'a', name: 't', at: 1 }]);
    // Failed for good, as after any failed commit.
    await expect(fenced.commit(batch({ actors: [actor('c')] }))).rejects.toThrow(/failed earlier/);

    const next = new PostgresStore({ url, fence: { lease: 'troupe.writer', holder: 'node-b', epoch: 2 } });
    stores.push(next);
    await next.open();
    await next.commit(batch({ actors: [actor('b')], events: [event(2)] }));
    expect(await registry.getActor('b')).toEqual(actor('b'));
  });

  it('a takeover waits for a fenced commit in flight, and the commit after it is refused', async () => {
    const url = await server().createDatabase();
    const registry = await open(url);
    await registry.tryLease('troupe.writer', 'node-a', 60_000, 0);
    const fenced = new PostgresStore({ url, fence: { lease: 'troupe.writer', holder: 'node-a', epoch: 1 } });
    stores.push(fenced);
    await fenced.open();
    // Hold node-a's commit inside the database (an actor row locked by another transaction).
    await registry.commit(batch({ actors: [actor('a')] }));
    const blocker = await sql(url);
    await blocker.query('BEGIN');
    await blocker.query("SELECT * FROM troupe.actors WHERE id = 'a' FOR UPDATE");
    const inFlight = fenced.commit(batch({ actors: [actor('a', { state: 'from a' })] }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // A takeover by force (as after expiry): it must wait for node-a's share lock.
    const admin = await sql(url);
    const takeover = admin.query(
      "UPDATE troupe.leases SET holder = 'node-b', epoch = epoch + 1 WHERE name = 'troupe.writer'",
    );
    let tookOver = false;
    void takeover.then(() => (tookOver = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(tookOver).toBe(false);
    await blocker.query('COMMIT');
    await inFlight;
    await takeover;
    expect((await registry.getActor('a'))?.state).toBe('from a');
    await expect(fenced.commit(batch({ actors: [actor('a', { state: 'late' })] }))).rejects.toThrow(/fenced/);
    expect((await registry.getActor('a'))?.state).toBe('from a');
  });

  it('upgrades a database written by the first schema version and keeps what it held', async () => {
    const url = await server().createDatabase();
    // What the store of schema version 1 wrote: its migration, its version row, its rows.
    const client = await sql(url);
    const first = POSTGRES_MIGRATIONS[0]!;
    await client.query('CREATE SCHEMA troupe');
    await client.query('SET search_path TO troupe');
    await client.query(first.sql);
    await client.query(
      'CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    await client.query("INSERT INTO schema_migrations (version, name) VALUES (1, 'initial')");
    await client.query(
      "INSERT INTO actors VALUES ('t1', 'task', 'troupe.task', 1, '\"queued\"', '{\"id\":\"t1\"}', false, null, 5)",
    );
    await client.query("INSERT INTO events VALUES (1, 'task.created', 5, null, 't1', null, null, '{}')");
    await client.query("INSERT INTO timers VALUES ('t1', 'start', 60005)");

    const store = await open(url);
    const versions = await client.query('SELECT version FROM troupe.schema_migrations ORDER BY version');
    expect(versions.rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
    expect(latestVersion(POSTGRES_MIGRATIONS)).toBeGreaterThan(1);
    expect(await store.getActor('t1')).toEqual(
      actor('t1', { state: 'queued', context: { id: 't1' }, ticketId: null, updatedAt: 5 }),
    );
    expect(await store.readEvents({})).toEqual([event(1, { at: 5, ticketId: null, taskId: 't1', data: {} })]);
    expect(await store.loadTimers()).toEqual([{ actorId: 't1', name: 'start', at: 60005 }]);
    expect(await store.listNodes()).toEqual([]);
    // Version 4: the old row's creation time is its last write time; new rows page after it.
    await store.commit(batch({ actors: [actor('t2', { ticketId: null, updatedAt: 7 })] }));
    const page = await store.pageActors({ kinds: ['task'], order: 'oldest', limit: 10 });
    expect(page.items.map((i) => [i.actor.id, i.createdAt])).toEqual([
      ['t1', 5],
      ['t2', 7],
    ]);
  });
});
