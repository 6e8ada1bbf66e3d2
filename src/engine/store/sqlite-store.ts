import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { TroupeError } from '../../core/errors.js';
import { SqliteRetention } from './sqlite-retention.js';
import { backupDatabase } from './sqlite-backup-copy.js';
import { idKindConflict, isEmptyBatch } from './store.js';
import { pageFromRows } from './actor-page.js';
import { latestVersion, pendingMigrations } from './schema-ladder.js';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';
import { actorRowValues, eventRowValues } from './store-rows.js';
import type {
  ActorPage,
  ActorPageQuery,
  ActorQuery,
  AuditEntry,
  AuditQuery,
  CommitBatch,
  EventQuery,
  ExpiredUnit,
  ExpiryQuery,
  StorageStats,
  SweepCounts,
  UnitRecord,
  Lease,
  LeaseTerm,
  OutboxEntry,
  Store,
  StoredActor,
  StoredEvent,
  StoredTimer,
} from './store.js';

type Db = Database.Database;
type Stmt = Database.Statement<unknown[]>;

/**
 * Options of `SqliteStore`: the file, and how hard each commit is pushed to disk.
 *
 * @example
 * ```ts
 * const store = new SqliteStore({ path: './data/troupe.db' });
 * ```
 */
export interface SqliteStoreOptions {
  /** The database file; its parent directory is created. `:memory:` works for throwaway use. */
  path: string;
  /**
   * `NORMAL` (default): in WAL mode a commit survives a crash of the process, but the last
   * commits may be lost if the machine loses power. `FULL`: every commit is synced to disk.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * A hard cap on events kept in all, the oldest pruned once ~10% over. Off by default: events are
   * kept with their owner and removed by the retention sweeper (docs/operations.md); a cap also
   * removes events of live work, so set one only as a guard against a runaway producer.
   */
  eventRetention?: number;
  /**
   * Open an existing store for reading only (inspection tools, tests). Every commit then fails
   * with `E_STORE`, because SQLite refuses the write, exactly as on a read-only file.
   */
  readonly?: boolean;
  /**
   * Hard cap on the database size in pages (`PRAGMA max_page_count`). A commit that would grow
   * the file past it fails with `E_STORE` (SQLITE_FULL), as on a full disk.
   */
  maxPageCount?: number;
  /** How long to wait for a lock held by another connection, in ms. Default 5000. */
  busyTimeoutMs?: number;
}

const APP = 'troupe';
/** Tables every version of the schema has; a file missing one is damaged, not old. */
const TABLES = ['meta', 'actors', 'timers', 'events', 'outbox'] as const;

/**
 * The upsert of one actor row; exported for `bench/scenarios/sqlite-throughput.ts`. The last
 * parameter is `created_at` (from `CommitBatch.created`, else the write's `updatedAt`): the first
 * write sets it, the update below never changes it. (Not `?9` twice: better-sqlite3 takes a numbered parameter
 * for a named one.)
 */
export const UPSERT_ACTOR_SQL = `INSERT INTO actors
  (id, kind, machine_id, version, state, context, settled, ticket_id, updated_at, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, machine_id = excluded.machine_id,
  version = excluded.version, state = excluded.state, context = excluded.context,
  settled = excluded.settled, ticket_id = excluded.ticket_id, updated_at = excluded.updated_at
  WHERE actors.kind = excluded.kind`;

const ACTOR_COLUMNS = `id, kind, machine_id AS machineId, version, state, context, settled,
  ticket_id AS ticketId, updated_at AS updatedAt`;
const EVENT_COLUMNS = `seq, type, at, ticket_id AS ticketId, task_id AS taskId,
  agent_id AS agentId, phase, data`;

const INSERT_EVENTS_SQL = 'INSERT INTO events (seq, type, at, ticket_id, task_id, agent_id, phase, data) VALUES';
const EVENT_ROW = '(?, ?, ?, ?, ?, ?, ?, ?)';
/** Event rows per multi-row INSERT: 256 parameters, far below SQLite's limit. */
const EVENTS_PER_INSERT = 32;

/** Rows come back with the JSON columns still as text; they are decoded in place. */
interface RawRow {
  [column: string]: unknown;
}

/** Statements the commit path uses, prepared once per connection. */
interface WriteStatements {
  upsertActor: Stmt;
  insertActor: Stmt;
  updateActor: Stmt;
  setTimer: Stmt;
  clearTimer: Stmt;
  insertEvent: Stmt;
  insertEvents: Stmt;
  upsertOutbox: Stmt;
  deleteOutbox: Stmt;
  pruneEvents: Stmt;
}

/**
 * The embedded store: one SQLite file in WAL mode, one transaction per committed batch.
 * A write that fails at the disk (read-only file, full disk, I/O error) throws `E_STORE` and
 * leaves the store failed: it refuses every later commit, so nothing is ever reported as
 * committed that was not. Open a new store on the same file to carry on from what is on disk.
 * A batch that is itself at fault is rejected whole and the store carries on: a value that is
 * not JSON throws `E_NOT_SERIALIZABLE`, one SQLite refuses (an event `seq` stored already, a
 * field of the wrong type) throws `E_INVALID_INPUT`.
 *
 * @example
 * ```ts
 * const store = new SqliteStore({ path: '.troupe/troupe.db', synchronous: 'FULL' });
 * await store.open();
 * const runtime = createRuntime({ store });
 * ```
 */
export class SqliteStore implements Store {
  readonly name: string;
  private readonly path: string;
  private readonly synchronous: 'NORMAL' | 'FULL';
  private readonly eventRetention: number;
  private readonly pruneAbove: number;
  private readonly options: SqliteStoreOptions;
  private db: Db | undefined;
  private applyBatch: ((batch: CommitBatch, json: (string | null)[]) => number) | undefined;
  private readonly readStatements = new Map<string, Stmt>();
  private retention: SqliteRetention | undefined;
  private eventCount = 0;
  private failure: TroupeError | undefined;

  constructor(options: SqliteStoreOptions) {
    const retention = options.eventRetention ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isInteger(retention) || retention < 1) {
      throw new TroupeError('E_INVALID_INPUT', `eventRetention must be a positive integer, got ${retention}`);
    }
    this.options = options;
    this.path = options.path;
    this.name = `sqlite:${options.path}`;
    this.synchronous = options.synchronous ?? 'NORMAL';
    this.eventRetention = retention;
    this.pruneAbove = Math.floor(retention * 1.1);
  }

  async open(): Promise<void> {
    if (this.db !== undefined) return;
    let db: Db | undefined;
    try {
      if (this.path !== ':memory:' && this.options.readonly !== true) {
        mkdirSync(dirname(this.path), { recursive: true });
      }
      db = new Database(this.path, {
        readonly: this.options.readonly === true,
        timeout: this.options.busyTimeoutMs ?? 5000,
      });
      // Check before anything is written: a foreign file must be left exactly as it was.
      const found = this.schemaVersion(db);
      // Throws before anything is written when the file is newer than this code.
      const pending = pendingMigrations(SQLITE_MIGRATIONS, found, `SQLite store at ${this.path}`);
      if (this.options.readonly !== true) db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.synchronous}`);
      if (pending.length > 0) {
        if (this.options.readonly === true) {
          this.fail(
            found === 0
              ? 'holds no Troupe store to read'
              : `has schema version ${found} and must be upgraded: open it once writable`,
          );
        }
        const upgrading = db;
        // Check again under the write lock, in case another process upgraded it meanwhile.
        upgrading.transaction(() => this.migrate(upgrading)).immediate();
      }
      if (this.options.maxPageCount !== undefined)
        db.pragma(`max_page_count = ${Math.floor(this.options.maxPageCount)}`);
      this.eventCount = (db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number | undefined) ?? 0;
      this.prepareWrites(db);
      this.retention = new SqliteRetention(db);
    } catch (error) {
      db?.close();
      throw this.toStoreError('cannot be opened', error);
    }
    this.db = db;
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    this.applyBatch = undefined;
    this.retention = undefined;
    this.readStatements.clear();
    db?.close();
  }

  async commit(batch: CommitBatch): Promise<void> {
    if (this.failure !== undefined) {
      throw new TroupeError('E_STORE', `${this.name}: the store failed earlier and accepts no more commits`, {
        cause: this.failure,
      });
    }
    const apply = this.applyBatch;
    if (apply === undefined) throw this.notOpen();
    if (isEmptyBatch(batch)) return;
    // Serialise everything first: a value that is not plain JSON throws before any write.
    const json = serialiseBatch(batch);
    try {
      this.eventCount = apply(batch, json);
    } catch (error) {
      if (error instanceof TroupeError && error.code === 'E_ID_KIND_CONFLICT') throw error;
      // The transaction was rolled back. A constraint or a value SQLite cannot bind is the
      // batch's fault, and the store is fine; anything else is the disk's, and the store fails.
      if (error instanceof Database.SqliteError && !error.code.startsWith('SQLITE_CONSTRAINT')) {
        this.failure = this.toStoreError('failed to commit a batch', error);
        throw this.failure;
      }
      const reason = error instanceof Error ? error.message : String(error);
      throw new TroupeError('E_INVALID_INPUT', `${this.name}: rejected a batch, nothing of it was written: ${reason}`, {
        cause: error,
      });
    }
  }

  async getActor(id: string): Promise<StoredActor | undefined> {
    return this.guard(() => {
      const row = this.read('actor', () => `SELECT ${ACTOR_COLUMNS} FROM actors WHERE id = ?`).get(id);
      return row === undefined ? undefined : decodeActor(row as RawRow);
    });
  }

  async getActors(ids: readonly string[]): Promise<Map<string, StoredActor>> {
    return this.guard(() => {
      const stmt = this.read('actor', () => `SELECT ${ACTOR_COLUMNS} FROM actors WHERE id = ?`);
      const found = new Map<string, StoredActor>();
      for (const id of ids) {
        if (found.has(id)) continue;
        const row = stmt.get(id);
        if (row !== undefined) found.set(id, decodeActor(row as RawRow));
      }
      return found;
    });
  }

  async listActors(query: ActorQuery): Promise<StoredActor[]> {
    const where = new Conditions();
    where.add('kind = ?', query.kind);
    where.add('ticket_id = ?', query.ticketId);
    where.add('settled = ?', query.settled === undefined ? undefined : Number(query.settled));
    // The state column holds the state value as JSON: a flat state is a JSON string.
    where.add('state = ?', query.state === undefined ? undefined : JSON.stringify(query.state));
    where.add('id > ?', query.afterId);
    const sql = `SELECT ${ACTOR_COLUMNS} FROM actors ${where.sql()} ORDER BY id LIMIT ?`;
    return this.guard(() =>
      this.read(sql, () => sql)
        .all(...where.params, query.limit ?? -1)
        .map((row) => decodeActor(row as RawRow)),
    );
  }

  async pageActors(query: ActorPageQuery): Promise<ActorPage> {
    const { sql, params } = actorPageSql(query);
    return this.guard(() => {
      const rows = this.read(sql, () => sql).all(...params) as RawRow[];
      return pageFromRows(
        rows.map((row) => ({ createdAt: row['createdAt'] as number, actor: decodeActor(withoutCreatedAt(row)) })),
        query.limit,
      );
    });
  }

  async loadLive(): Promise<StoredActor[]> {
    const sql = `SELECT ${ACTOR_COLUMNS} FROM actors WHERE settled = 0 ORDER BY id`;
    return this.guard(() =>
      this.read('live', () => sql)
        .all()
        .map((row) => decodeActor(row as RawRow)),
    );
  }

  async loadTimers(): Promise<StoredTimer[]> {
    const sql = 'SELECT actor_id AS actorId, name, at FROM timers';
    return this.guard(() => this.read('timers', () => sql).all() as StoredTimer[]);
  }

  async loadOutbox(): Promise<OutboxEntry[]> {
    const sql = 'SELECT id, target, kind, payload, created_at AS createdAt FROM outbox ORDER BY rowid';
    return this.guard(() =>
      this.read('outbox', () => sql)
        .all()
        .map((row) => {
          const entry = row as RawRow;
          entry['payload'] = parseJson(entry['payload']);
          return entry as unknown as OutboxEntry;
        }),
    );
  }

  async readEvents(query: EventQuery): Promise<StoredEvent[]> {
    const where = new Conditions();
    where.add('ticket_id = ?', query.ticketId);
    where.add('task_id = ?', query.taskId);
    where.add('agent_id = ?', query.agentId);
    where.add('type IN (SELECT value FROM json_each(?))', query.types && JSON.stringify(query.types));
    where.add('seq > ?', query.afterSeq);
    const order = query.order === 'oldest' ? 'ASC' : 'DESC';
    const sql = `SELECT ${EVENT_COLUMNS} FROM events ${where.sql()} ORDER BY seq ${order} LIMIT ?`;
    return this.guard(() =>
      this.read(sql, () => sql)
        .all(...where.params, query.limit ?? -1)
        .map((row) => {
          const event = row as RawRow;
          event['data'] = parseJson(event['data']);
          return event as unknown as StoredEvent;
        }),
    );
  }

  async tryLease(name: string, holder: string, ttlMs: number, now: number): Promise<Lease | undefined> {
    const db = this.db;
    if (db === undefined) throw this.notOpen();
    return this.guard(() =>
      db
        .transaction(() => {
          // Free, expired or already ours; the epoch grows only when the holder changes.
          const lease = this.read(
            'tryLease',
            () => `INSERT INTO leases (name, holder, epoch, acquired_at, expires_at)
          VALUES (@name, @holder, 1, @now, @now + @ttl)
          ON CONFLICT (name) DO UPDATE SET
            epoch = CASE WHEN leases.holder = excluded.holder THEN leases.epoch ELSE leases.epoch + 1 END,
            acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END,
            holder = excluded.holder, expires_at = excluded.expires_at
          WHERE leases.holder = excluded.holder OR leases.expires_at <= excluded.acquired_at
          RETURNING name, holder, epoch, acquired_at AS acquiredAt, expires_at AS expiresAt`,
          ).get({ name, holder, now, ttl: ttlMs }) as Lease | undefined;
          if (lease !== undefined) {
            this.read(
              'leaseTerm',
              () =>
                'INSERT INTO lease_history (name, epoch, holder, acquired_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
            ).run(name, lease.epoch, lease.holder, lease.acquiredAt);
          }
          return lease;
        })
        .immediate(),
    );
  }

  async releaseLease(name: string, holder: string, epoch: number): Promise<void> {
    this.guard(() =>
      this.read(
        'releaseLease',
        () => 'UPDATE leases SET expires_at = -1e308 WHERE name = ? AND holder = ? AND epoch = ?',
      ).run(name, holder, epoch),
    );
  }

  async getLease(name: string): Promise<Lease | undefined> {
    return this.guard(
      () =>
        this.read(
          'getLease',
          () =>
            'SELECT name, holder, epoch, acquired_at AS acquiredAt, expires_at AS expiresAt FROM leases WHERE name = ?',
        ).get(name) as Lease | undefined,
    );
  }

  async leaseHistory(name: string): Promise<LeaseTerm[]> {
    return this.guard(
      () =>
        this.read(
          'leaseHistory',
          () => 'SELECT epoch, holder, acquired_at AS acquiredAt FROM lease_history WHERE name = ? ORDER BY epoch',
        ).all(name) as LeaseTerm[],
    );
  }

  async lastEventSeq(): Promise<number> {
    const seq = this.guard(() =>
      this.read('lastSeq', () => 'SELECT MAX(seq) FROM events')
        .pluck()
        .get(),
    );
    return typeof seq === 'number' ? seq : 0;
  }
  async findExpired(query: ExpiryQuery): Promise<ExpiredUnit[]> {
    return this.guard(() => this.retained().findExpired(query));
  }

  async readUnit(unit: Pick<ExpiredUnit, 'kind' | 'id'>): Promise<UnitRecord> {
    return this.guard(() => this.retained().readUnit(unit));
  }

  async deleteUnits(units: readonly ExpiredUnit[]): Promise<SweepCounts> {
    return this.write(() => this.retained().deleteUnits(units));
  }

  async pruneEvents(query: { before: number; limit: number }): Promise<SweepCounts> {
    return this.write(() => this.retained().pruneEvents(query.before, query.limit));
  }

  async importUnits(units: readonly UnitRecord[]): Promise<{ actors: number; events: number }> {
    return this.write(() => this.retained().importUnits(units));
  }

  async appendAudit(entries: ReadonlyArray<Omit<AuditEntry, 'seq'>>): Promise<AuditEntry[]> {
    return this.write(() => this.retained().appendAudit(entries));
  }

  async readAudit(query: AuditQuery): Promise<AuditEntry[]> {
    return this.guard(() => this.retained().readAudit(query));
  }

  async pruneAudit(query: { before: number; limit: number }): Promise<SweepCounts> {
    return this.write(() => this.retained().pruneAudit(query.before, query.limit));
  }

  async storageStats(): Promise<StorageStats> {
    return this.guard(() => this.retained().storageStats());
  }

  /**
   * A consistent copy of the live database in `file`, taken with SQLite's online backup API
   * while the store keeps committing: pages are copied `pagesPerStep` at a time (default 1,000,
   * ~4 MB) with the event loop free between steps, and writes made meanwhile through this
   * connection are carried into the copy by SQLite. The copy is a complete store, ready for
   * `troupe restore` or to be opened as it is.
   */
  async backup(file: string, options: { pagesPerStep?: number } = {}): Promise<{ totalPages: number }> {
    const db = this.db;
    if (db === undefined) throw this.notOpen();
    return backupDatabase(db, file, options.pagesPerStep ?? 1_000, this.path);
  }

  private retained(): SqliteRetention {
    const retention = this.retention;
    if (retention === undefined) throw this.notOpen();
    return retention;
  }

  /** A write outside `commit` (retention, import, audit): the same rules for what fails the store. */
  private write<T>(run: () => T): T {
    if (this.failure !== undefined) {
      throw new TroupeError('E_STORE', `${this.name}: the store failed earlier and accepts no more writes`, {
        cause: this.failure,
      });
    }
    try {
      return run();
    } catch (error) {
      if (error instanceof Database.SqliteError && !error.code.startsWith('SQLITE_CONSTRAINT')) {
        this.failure = this.toStoreError('failed to write', error);
        throw this.failure;
      }
      if (error instanceof TroupeError) throw error;
      throw new TroupeError(
        'E_INVALID_INPUT',
        `${this.name}: rejected a write, nothing of it was written: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  /**
   * The file's schema version: 0 when it holds no tables yet. Throws when it holds someone
   * else's database or a damaged Troupe store.
   */
  private schemaVersion(db: Db): number {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .pluck()
      .all() as string[];
    if (tables.length === 0) return 0;
    if (!tables.includes('meta')) {
      return this.fail(`holds a SQLite database that is not a Troupe store (tables: ${tables.join(', ')})`);
    }
    const meta = new Map(
      (db.prepare('SELECT key, value FROM meta').raw().all() as [unknown, unknown][]).map(([k, v]) => [
        String(k),
        String(v),
      ]),
    );
    if (meta.get('app') !== APP) {
      return this.fail(`holds a SQLite database that is not a Troupe store (its meta table names no Troupe app)`);
    }
    const version = Number(meta.get('schema_version') ?? NaN);
    if (!Number.isInteger(version) || version < 1) {
      return this.fail(
        `has store schema version ${meta.get('schema_version') ?? '(none)'}, which is not a version number`,
      );
    }
    const missing = TABLES.filter((t) => !tables.includes(t));
    if (missing.length > 0) return this.fail(`is a Troupe store missing table(s): ${missing.join(', ')}`);
    return version;
  }

  /** Applies the migrations the file lacks; runs inside the caller's write transaction. */
  private migrate(db: Db): void {
    const from = this.schemaVersion(db);
    const pending = pendingMigrations(SQLITE_MIGRATIONS, from, `SQLite store at ${this.path}`);
    for (const migration of pending) db.exec(migration.sql);
    if (pending.length > 0) {
      db.prepare(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      ).run(String(latestVersion(SQLITE_MIGRATIONS)));
    }
  }

  private prepareWrites(db: Db): void {
    const write: WriteStatements = {
      upsertActor: db.prepare(UPSERT_ACTOR_SQL),
      // OR IGNORE: an id that exists already is left to the upsert below it, which knows its kind.
      insertActor: db.prepare(`INSERT OR IGNORE INTO actors
        (id, kind, machine_id, version, state, context, settled, ticket_id, updated_at, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      updateActor: db.prepare(`UPDATE actors SET machine_id = ?, version = ?, state = ?, context = ?,
        settled = ?, ticket_id = ?, updated_at = ? WHERE id = ? AND kind = ?`),
      setTimer: db.prepare(
        'INSERT INTO timers (actor_id, name, at) VALUES (?, ?, ?) ON CONFLICT (actor_id, name) DO UPDATE SET at = excluded.at',
      ),
      clearTimer: db.prepare('DELETE FROM timers WHERE actor_id = ? AND name = ?'),
      insertEvent: db.prepare(`${INSERT_EVENTS_SQL} ${EVENT_ROW}`),
      insertEvents: db.prepare(`${INSERT_EVENTS_SQL} ${Array(EVENTS_PER_INSERT).fill(EVENT_ROW).join(', ')}`),
      upsertOutbox: db.prepare(`INSERT INTO outbox (id, target, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET target = excluded.target, kind = excluded.kind,
        payload = excluded.payload, created_at = excluded.created_at`),
      deleteOutbox: db.prepare('DELETE FROM outbox WHERE id = ?'),
      pruneEvents: db.prepare(
        'DELETE FROM events WHERE seq < (SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?)',
      ),
    };
    // The order of the steps matches MemoryStore: clear timers before setting them, add outbox
    // entries before removing delivered ones. Returns the number of events kept afterwards.
    this.applyBatch = db.transaction((batch: CommitBatch, json: (string | null)[]): number => {
      let j = 0;
      const created = batch.created;
      for (const a of batch.actors) {
        const state = json[j++];
        const context = json[j++];
        const settled = a.settled ? 1 : 0;
        const ticketId = a.ticketId ?? null;
        const row = actorRowValues(a, state, context, settled, created?.get(a.id) ?? a.updatedAt);
        // A plain INSERT for an actor this batch spawned and a plain UPDATE for the others cost
        // a quarter less than the upsert (which tries the insert first, then updates); the
        // upsert is what either falls back to when its guess was wrong.
        const done =
          created?.has(a.id) === true
            ? write.insertActor.run(row).changes === 1
            : write.updateActor.run(
                a.machineId,
                a.version,
                state,
                context,
                settled,
                ticketId,
                a.updatedAt,
                a.id,
                a.kind,
              ).changes === 1;
        if (done) continue;
        // The upsert leaves a row of another kind alone: an id keeps its first kind (rolls back the batch).
        if (write.upsertActor.run(row).changes === 0) throw this.kindConflict(a.id, a.kind);
      }
      for (const t of batch.timersCleared) write.clearTimer.run(t.actorId, t.name);
      for (const t of batch.timersSet) write.setTimer.run(t.actorId, t.name, t.at);
      for (const o of batch.outbox) write.upsertOutbox.run(o.id, o.target, o.kind, json[j++], o.createdAt);
      for (const id of batch.outboxDelivered) write.deleteOutbox.run(id);
      // Events go in EVENTS_PER_INSERT rows per statement (a third less than a statement per
      // row), the rest one by one.
      const events = batch.events;
      let e = 0;
      for (; e + EVENTS_PER_INSERT <= events.length; e += EVENTS_PER_INSERT) {
        const values: unknown[] = [];
        for (let k = e; k < e + EVENTS_PER_INSERT; k++)
          values.push(...eventRowValues(events[k] as StoredEvent, json[j++]));
        write.insertEvents.run(values);
      }
      for (; e < events.length; e++) {
        write.insertEvent.run(eventRowValues(events[e] as StoredEvent, json[j++]));
      }
      let count = this.eventCount + batch.events.length;
      if (count > this.pruneAbove) count -= write.pruneEvents.run(this.eventRetention - 1).changes;
      return count;
    });
  }

  /** The refusal of a write across kinds, naming the kind the id holds (read inside the transaction). */
  private kindConflict(id: string, written: string): TroupeError {
    const held = this.read('actorKind', () => 'SELECT kind FROM actors WHERE id = ?')
      .pluck()
      .get(id);
    return idKindConflict(id, String(held), written, this.name);
  }

  /** Reads turn SQLite failures into `E_STORE` too, but do not fail the store. */
  private guard<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      if (error instanceof Database.SqliteError) throw this.toStoreError('failed to read', error);
      throw error;
    }
  }

  private read(key: string, sql: () => string): Stmt {
    const db = this.db;
    if (db === undefined) throw this.notOpen();
    let stmt = this.readStatements.get(key);
    if (stmt === undefined) {
      stmt = db.prepare(sql());
      this.readStatements.set(key, stmt);
    }
    return stmt;
  }

  private notOpen(): TroupeError {
    return new TroupeError('E_STORE', `${this.name}: the store is not open`);
  }

  private fail(problem: string): never {
    throw new TroupeError('E_STORE', `SQLite store at ${this.path} ${problem}`);
  }

  private toStoreError(what: string, error: unknown): TroupeError {
    if (error instanceof TroupeError) return error;
    const code = error instanceof Database.SqliteError ? error.code : undefined;
    const message = error instanceof Error ? error.message : String(error);
    const problem = code === 'SQLITE_NOTADB' ? 'is not a SQLite database' : what;
    return new TroupeError(
      'E_STORE',
      `SQLite store at ${this.path} ${problem}: ${message}${code ? ` (${code})` : ''}`,
      {
        cause: error,
        details: { path: this.path, ...(code ? { sqliteCode: code } : {}) },
      },
    );
  }
}

/** State and context per actor, then one payload per outbox entry, then data per event. */
function serialiseBatch(batch: CommitBatch): (string | null)[] {
  const json: (string | null)[] = [];
  for (const a of batch.actors) {
    json.push(toJson(a.state, 'the state of actor', a.id), toJson(a.context, 'the context of actor', a.id));
  }
  for (const o of batch.outbox) json.push(toJson(o.payload, 'the payload of outbox entry', o.id));
  for (const e of batch.events) json.push(toJson(e.data, 'the data of event', e.seq));
  return json;
}

function toJson(value: unknown, what: string, owner: string | number): string | null {
  try {
    // `undefined` is kept as SQL NULL and read back as `undefined`.
    return JSON.stringify(value) ?? null;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TroupeError('E_NOT_SERIALIZABLE', `${what} ${owner} is not plain JSON: ${reason}`, { cause: error });
  }
}

function parseJson(text: unknown): unknown {
  return typeof text === 'string' ? JSON.parse(text) : undefined;
}

function decodeActor(row: RawRow): StoredActor {
  row['state'] = parseJson(row['state']);
  row['context'] = parseJson(row['context']);
  row['settled'] = row['settled'] === 1;
  return row as unknown as StoredActor;
}

/** A row without the `createdAt` column that `pageActors` reads beside the actor's own. */
function withoutCreatedAt(row: RawRow): RawRow {
  delete row['createdAt'];
  return row;
}

/**
 * The query of `pageActors`: one page and one more row (to know whether another page follows),
 * from the key on, in creation order. With one kind the `actors_created` index gives the order.
 */
function actorPageSql(query: ActorPageQuery): { sql: string; params: unknown[] } {
  const where = new Conditions();
  if (query.kinds.length === 1) where.add('kind = ?', query.kinds[0]);
  else where.add('kind IN (SELECT value FROM json_each(?))', JSON.stringify(query.kinds));
  where.add('ticket_id = ?', query.ticketId);
  where.add('settled = ?', query.settled === undefined ? undefined : Number(query.settled));
  const newest = query.order === 'newest';
  if (query.after !== undefined) {
    where.add(`(created_at, id) ${newest ? '<' : '>'} (?, ?)`, query.after.createdAt);
    where.params.push(query.after.id);
  }
  const direction = newest ? 'DESC' : 'ASC';
  const sql = `SELECT ${ACTOR_COLUMNS}, created_at AS createdAt FROM actors ${where.sql()} ORDER BY created_at ${direction}, id ${direction} LIMIT ?`;
  return { sql, params: [...where.params, Math.max(0, Math.floor(query.limit)) + 1] };
}

/** The WHERE clause of a query, built from the filters that are present. */
class Conditions {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];

  add(sql: string, value: unknown): void {
    if (value === undefined) return;
    this.parts.push(sql);
    this.params.push(value);
  }

  sql(): string {
    return this.parts.length === 0 ? '' : `WHERE ${this.parts.join(' AND ')}`;
  }
}
