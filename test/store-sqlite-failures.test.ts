import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TroupeError } from '../src/core/errors.js';
import { SqliteStore } from '../src/engine/store/sqlite-store.js';
import type { Store } from '../src/engine/store/store.js';
import { actor, batch, event, outbox, snapshotOf } from './store-conformance.js';

let dir: string;
let path: string;
const opened: Store[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'troupe-sqlite-fail-'));
  path = join(dir, 'troupe.db');
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function openStore(options: Partial<ConstructorParameters<typeof SqliteStore>[0]> = {}): Promise<SqliteStore> {
  const store = new SqliteStore({ path, ...options });
  await store.open();
  opened.push(store);
  return store;
}

/** Awaits a promise that must reject with a TroupeError and returns that error. */
async function storeError(promise: Promise<unknown>): Promise<TroupeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TroupeError);
  return error as TroupeError;
}

function sqliteCode(error: TroupeError): unknown {
  return (error.cause as { code?: unknown } | undefined)?.code;
}

const firstBatch = batch({
  actors: [actor('a'), actor('b')],
  timersSet: [{ actorId: 'a', name: 'timeout', at: 5 }],
  outbox: [outbox('m1')],
  events: [event(1)],
});

/** A batch far larger than a few free pages: 2,000 actors with ~1 KB contexts. */
function hugeBatch() {
  return batch({
    actors: Array.from({ length: 2000 }, (_, i) => actor(`big-${i}`, { context: { pad: 'x'.repeat(1000) } })),
    events: [event(2)],
  });
}

describe('SqliteStore refuses files that are not its own', () => {
  it('a text file at the path: E_STORE naming the path, file untouched', async () => {
    const text = 'these are my notes, not a database\n'.repeat(20);
    await writeFile(path, text);
    const error = await storeError(new SqliteStore({ path }).open());
    expect(error.code).toBe('E_STORE');
    expect(error.message).toContain(path);
    expect(error.message).toContain('is not a SQLite database');
    expect(sqliteCode(error)).toBe('SQLITE_NOTADB');
    expect(await readFile(path, 'utf8')).toBe(text);
  });

  it('a SQLite database of someone else: E_STORE, nothing written to it', async () => {
    const foreign = new Database(path);
    foreign.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada');");
    foreign.close();
    const bytes = await readFile(path);

    const error = await storeError(new SqliteStore({ path }).open());
    expect(error.code).toBe('E_STORE');
    expect(error.message).toContain(path);
    expect(error.message).toContain('not a Troupe store');
    expect(error.message).toContain('users');
    // Not even switched to WAL mode: the file is byte for byte what it was.
    expect((await readFile(path)).equals(bytes)).toBe(true);
  });

  it('a foreign database that happens to have a meta table: E_STORE', async () => {
    const foreign = new Database(path);
    foreign.exec("CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ('owner', 'someone');");
    foreign.close();
    const error = await storeError(new SqliteStore({ path }).open());
    expect(error.code).toBe('E_STORE');
    expect(error.message).toContain('not a Troupe store');
  });

  it('a Troupe store with a schema version this code does not know: E_STORE', async () => {
    await (await openStore()).close();
    const db = new Database(path);
    db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    db.close();
    const error = await storeError(new SqliteStore({ path }).open());
    expect(error.code).toBe('E_STORE');
    expect(error.message).toContain(path);
    expect(error.message).toContain('schema version 99');
  });

  it('a Troupe store with a table missing: E_STORE naming it', async () => {
    await (await openStore()).close();
    const db = new Database(path);
    db.exec('DROP TABLE timers');
    db.close();
    const error = await storeError(new SqliteStore({ path }).open());
    expect(error.code).toBe('E_STORE');
    expect(error.message).toContain('timers');
  });

  it('a path whose parent is a file: E_STORE', async () => {
    await writeFile(join(dir, 'file'), 'x');
    const error = await storeError(new SqliteStore({ path: join(dir, 'file', 'troupe.db') }).open());
    expect(error.code).toBe('E_STORE');
    expect(error.message).toContain(join(dir, 'file', 'troupe.db'));
  });
});

describe('SqliteStore when a write fails', () => {
  it('commit before open or after close: E_STORE', async () => {
    const store = new SqliteStore({ path });
    expect((await storeError(store.commit(firstBatch))).code).toBe('E_STORE');
    await store.open();
    await store.close();
    expect((await storeError(store.commit(firstBatch))).code).toBe('E_STORE');
    expect((await storeError(store.getActor('a'))).code).toBe('E_STORE');
  });

  it("a value that is not JSON is the caller's error: E_NOT_SERIALIZABLE, and the store carries on", async () => {
    const store = await openStore();
    const error = await storeError(store.commit(batch({ actors: [actor('a', { context: { n: 1n } })] })));
    expect(error.code).toBe('E_NOT_SERIALIZABLE');
    expect(error.message).toContain('actor a');
    await store.commit(firstBatch);
    expect(await store.getActor('a')).toEqual(actor('a'));
  });

  it('a batch SQLite refuses (seq stored already, wrong field type) is rejected whole: E_INVALID_INPUT, the store carries on', async () => {
    const store = await openStore();
    await store.commit(firstBatch);
    const before = await snapshotOf(store);
    const duplicateSeq = batch({ actors: [actor('c')], outbox: [outbox('m9')], events: [event(2), event(1)] });
    expect((await storeError(store.commit(duplicateSeq))).code).toBe('E_INVALID_INPUT');
    const wrongType = batch({
      actors: [actor('c'), actor('d', { kind: {} as unknown as string })],
      events: [event(2)],
    });
    expect((await storeError(store.commit(wrongType))).code).toBe('E_INVALID_INPUT');
    expect(await snapshotOf(store)).toEqual(before);
    await store.commit(batch({ actors: [actor('c')], events: [event(2)] }));
    expect(await store.lastEventSeq()).toBe(2);
  });

  // Read-only, connection level. Tests run as root, and root writes through `chmod 444`, so a
  // chmod alone proves nothing here. Opening the connection with SQLite's own read-only flag
  // makes SQLite refuse the write with SQLITE_READONLY, the same error a non-root process gets on
  // a read-only file (the next test checks that real case in a child process).
  it('a read-only connection: E_STORE with the SQLite cause, then every commit is refused', async () => {
    const writer = await openStore();
    await writer.commit(firstBatch);
    const before = await snapshotOf(writer);
    await writer.close();

    const store = await openStore({ readonly: true });
    expect(await snapshotOf(store)).toEqual(before);
    const error = await storeError(store.commit(batch({ actors: [actor('c')], events: [event(2)] })));
    expect(error.code).toBe('E_STORE');
    expect(error.message).toContain(path);
    expect(sqliteCode(error)).toBe('SQLITE_READONLY');

    const again = await storeError(store.commit(batch({ actors: [actor('d')] })));
    expect(again.code).toBe('E_STORE');
    expect(again.cause).toBe(error);
    expect(await snapshotOf(store)).toEqual(before);
  });

  it('a read-only connection on a path with no store: E_STORE, no file created', async () => {
    const error = await storeError(new SqliteStore({ path, readonly: true }).open());
    expect(error.code).toBe('E_STORE');
    await expect(readFile(path)).rejects.toThrow();
  });

  // Read-only, file level, for real: the database file is chmod 444 and the store runs in a child
  // process as an unprivileged user (`nobody` when the tests run as root), so the kernel refuses
  // the write and SQLite reports SQLITE_READONLY. The directory stays writable, as it would be
  // when an operator makes just the file read-only.
  it('a database file chmod 444, written by an unprivileged process: E_STORE, then refused', async () => {
    const writer = await openStore();
    await writer.commit(firstBatch);
    const before = await snapshotOf(writer);
    await writer.close();
    await chmod(dir, 0o777);
    await chmod(path, 0o444);

    const script = `
      const { SqliteStore } = await import(${JSON.stringify(new URL('../src/engine/store/sqlite-store.ts', import.meta.url).href)});
      const store = new SqliteStore({ path: ${JSON.stringify(path)} });
      const row = (id) => ({ id, kind: 'task', machineId: 'm', version: 1, state: 's', context: {}, settled: false, ticketId: null, updatedAt: 1 });
      const batch = (id) => ({ actors: [row(id)], timersSet: [], timersCleared: [], events: [], outbox: [], outboxDelivered: [] });
      const result = {};
      const attempt = (p) => p.then(() => ({ ok: true }), (e) => ({ code: e.code, message: e.message, cause: e.cause?.code }));
      await store.open();
      result.first = await attempt(store.commit(batch('c')));
      result.second = await attempt(store.commit(batch('d')));
      result.liveIds = (await store.loadLive()).map((a) => a.id);
      await store.close();
      console.log(JSON.stringify(result));`;
    const asRoot = process.getuid?.() === 0;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url).pathname,
      encoding: 'utf8',
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    expect(child.stderr).toBe('');
    const result = JSON.parse(child.stdout) as Record<string, { code?: string; message?: string; cause?: string }>;
    expect(result['first']).toMatchObject({ code: 'E_STORE', cause: 'SQLITE_READONLY' });
    expect(result['first']?.message).toContain(path);
    expect(result['second']).toMatchObject({ code: 'E_STORE' });
    expect(result['liveIds']).toEqual(['a', 'b']);

    await chmod(path, 0o644);
    expect(await snapshotOf(await openStore())).toEqual(before);
  });

  // Full disk, for real: `max_page_count` caps the file a few dozen pages above the schema, and
  // SQLite itself fails the write with SQLITE_FULL when a batch needs more.
  it('a full disk (SQLITE_FULL): E_STORE with the cause, the batch is not there, the store refuses more', async () => {
    const store = await openStore({ maxPageCount: 40 });
    await store.commit(firstBatch);
    const before = await snapshotOf(store);

    const error = await storeError(store.commit(hugeBatch()));
    expect(error.code).toBe('E_STORE');
    expect(error.message).toContain(path);
    expect(sqliteCode(error)).toBe('SQLITE_FULL');
    expect(await snapshotOf(store)).toEqual(before);

    // Even a tiny batch that would fit is refused: the store has failed.
    const refused = await storeError(store.commit(batch({ outboxDelivered: ['m1'] })));
    expect(refused.code).toBe('E_STORE');
    expect(refused.cause).toBe(error);
    await store.close();

    // A new store on the same file carries on from exactly what was committed.
    const next = await openStore();
    expect(await snapshotOf(next)).toEqual(before);
    await next.commit(hugeBatch());
    expect(await next.getActor('big-1999')).toBeDefined();
  });
});
