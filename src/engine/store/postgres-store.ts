import pg from 'pg';
import { TroupeError } from '../../core/errors.js';
import { idKindConflict, isEmptyBatch } from './store.js';
import { pageFromRows } from './actor-page.js';
import { pendingMigrations } from './schema-ladder.js';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js';
import {
  checkSchemaName,
  commitStatement,
  parseKindConflict,
  parseShardConflict,
  shardLastSeq,
  shardLoadStatements,
  CLUSTER_STATEMENTS,
  type ShardEndpoint,
  getActorsStatement,
  pageActorsStatement,
  getLeaseStatement,
  leaseHistoryStatement,
  releaseLeaseStatement,
  tryLeaseStatement,
  LAST_EVENT_SEQ,
  listActorsStatement,
  LOAD_LIVE,
  LOAD_OUTBOX,
  LOAD_TIMERS,
  migrationStatements,
  readEventsStatement,
  serialiseBatch,
  LIST_NODES,
  nodeHeartbeatStatement,
  type Fence,
  type NodeRow,
  type Statement,
} from './postgres-sql.js';
import { PostgresRetention } from './postgres-retention.js';
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
  Lease,
  LeaseTerm,
  OutboxEntry,
  StorageStats,
  Store,
  StoredActor,
  StoredEvent,
  StoredTimer,
  SweepCounts,
  UnitRecord,
} from './store.js';

/**
 * Options of `PostgresStore`: the database URL, the schema, and the pool.
 *
 * @example
 * ```ts
 * const store = new PostgresStore({ url: process.env.DATABASE_URL! });
 * ```
 */
export interface PostgresStoreOptions {
  /** A connection URL, e.g. `postgres://troupe:secret@db.internal:5432/troupe`. */
  url: string;
  /** The schema that holds Troupe's tables (created when missing). Default `troupe`. */
  schema?: string;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
  /** How long to wait for a connection, in ms. Default 10,000. */
  connectTimeoutMs?: number;
  /**
   * Fenced commits, for a node of a cluster: every commit writes only while `holder` still holds
   * the lease `lease` at `epoch` and it has not run out (checked by the database, in the commit's
   * own statement). A commit refused by the fence throws `E_STORE` and fails the store: the node
   * lost its lease and must not write again.
   */
  fence?: Fence;
  /**
   * A shard's writer, for a node of a sharded cluster (`troupe serve --shards N`): every row it
   * writes is of shard `index`, and an actor of another shard is never written (the commit is
   * refused, `E_STORE`); it restores only its shard's actors, timers and outbox, and numbers its
   * events in its own residue class of `count`. Reads (`getActor`, lists, events) see every shard.
   */
  shard?: { index: number; count: number };
}

type Row = Record<string, unknown>;

/** int8 columns (event seq, lease epochs) as numbers: every value Troupe writes is a safe integer. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** SQLSTATE classes that mean the batch itself was at fault (a constraint, a value refused). */
const BATCH_FAULT_CLASSES = new Set(['22', '23']);

/**
 * The store for a PostgreSQL database, through a pool of `pg` connections. Same contract and
 * conformance suite as the memory and SQLite stores.
 *
 * Durability: every connection runs with `synchronous_commit = on`, so a commit that resolved is
 * flushed to the server's WAL on disk (given the server runs with `fsync = on`, its default).
 * A commit is one statement, so one round trip and one transaction.
 *
 * Failures: a batch the database refuses for its content (a constraint, a value it cannot take)
 * throws `E_INVALID_INPUT` and the store carries on. Any other failure of a commit (the
 * connection lost, the server shutting down, the disk full) throws `E_STORE` and leaves the store
 * failed, since whether that commit took effect is not known; a new store carries on from what
 * the database holds. Schema migrations run on `open` (see `postgres-migrations.ts`).
 *
 * @example
 * ```ts
 * const store = new PostgresStore({ url: process.env.DATABASE_URL! });
 * const runtime = createRuntime({ store });
 * await runtime.start();
 * ```
 */
export class PostgresStore implements Store {
  readonly name: string;
  /** A commit is a round trip and the server's work: the runtime builds the next batch meanwhile. */
  readonly overlapsCommits = true;
  private readonly options: PostgresStoreOptions;
  private readonly schema: string;
  private pool: pg.Pool | undefined;
  private failure: TroupeError | undefined;
  private readonly retention = new PostgresRetention(() => this.requirePool());
  /** Event numbers go up by the shard count: each shard's writer keeps its own residue class. */
  readonly eventSeqStride: number;

  constructor(options: PostgresStoreOptions) {
    this.options = options;
    this.schema = checkSchemaName(options.schema ?? 'troupe');
    this.name = `postgres:${redactUrl(options.url)}${this.schema === 'troupe' ? '' : `#${this.schema}`}${options.shard ? ` shard ${options.shard.index}/${options.shard.count}` : ''}`;
    this.eventSeqStride = options.shard?.count ?? 1;
  }

  async open(): Promise<void> {
    if (this.pool !== undefined) return;
    const pool = new pg.Pool({
      connectionString: this.options.url,
      max: this.options.poolSize ?? 10,
      connectionTimeoutMillis: this.options.connectTimeoutMs ?? 10_000,
      // Set on every connection of the pool, whatever the server's defaults.
      options: `-c search_path=${this.schema} -c synchronous_commit=on`,
      types,
    });
    // An idle connection that breaks emits here; without a listener it would end the process.
    pool.on('error', () => undefined);
    try {
      await this.migrate(pool);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw this.toStoreError('cannot be opened', error);
    }
    this.pool = pool;
    this.failure = undefined;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  async commit(batch: CommitBatch): Promise<void> {
    if (this.failure !== undefined) {
      throw new TroupeError('E_STORE', `${this.name}: the store failed earlier and accepts no more commits`, {
        cause: this.failure,
      });
    }
    const pool = this.requirePool();
    if (isEmptyBatch(batch)) return;
    // Serialise everything first: a value that is not plain JSON throws before any write.
    const statement = commitStatement(batch, serialiseBatch(batch), this.options.fence, this.options.shard?.index);
    let ok: unknown;
    try {
      ok = (await pool.query<{ ok: number }>(statement)).rows[0]?.ok;
    } catch (error) {
      const code = sqlState(error);
      const conflict = error instanceof Error ? parseKindConflict(error.message) : undefined;
      if (conflict !== undefined) throw idKindConflict(conflict.id, conflict.held, conflict.written, this.name);
      const wrongShard = error instanceof Error ? parseShardConflict(error.message) : undefined;
      if (wrongShard !== undefined) {
        this.failure = new TroupeError(
          'E_STORE',
          `${this.name}: actor ${wrongShard.id} belongs to shard ${wrongShard.shard}, whose writer is another; nothing of the batch was written`,
          { details: { wrongShard: true, ...wrongShard } },
        );
        throw this.failure;
      }
      if (code !== undefined && BATCH_FAULT_CLASSES.has(code.slice(0, 2))) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new TroupeError(
          'E_INVALID_INPUT',
          `${this.name}: rejected a batch, nothing of it was written: ${reason}`,
          {
            cause: error,
            details: { sqlState: code },
          },
        );
      }
      this.failure = this.toStoreError('failed to commit a batch', error);
      throw this.failure;
    }
    if (ok === 0) {
      const fence = this.options.fence;
      this.failure = new TroupeError(
        'E_STORE',
        `${this.name}: fenced: lease ${fence?.lease} is no longer held by ${fence?.holder} at epoch ${fence?.epoch}; nothing of the batch was written`,
        { details: { fenced: true, ...fence } },
      );
      throw this.failure;
    }
  }

  /** Records this node's heartbeat in the cluster's `nodes` table. */
  async heartbeat(node: {
    id: string;
    url: string | null;
    pid: number;
    role: string;
    epoch: number | null;
  }): Promise<void> {
    await this.read(nodeHeartbeatStatement(node));
  }

  /** The nodes of the cluster with their last heartbeat, on the database's clock. */
  async listNodes(): Promise<NodeRow[]> {
    return (await this.read(LIST_NODES)) as unknown as NodeRow[];
  }

  async getActor(id: string): Promise<StoredActor | undefined> {
    return (await this.getActors([id])).get(id);
  }

  async getActors(ids: readonly string[]): Promise<Map<string, StoredActor>> {
    const found = new Map<string, StoredActor>();
    if (ids.length === 0) return found;
    for (const row of await this.read(getActorsStatement(ids))) found.set(row['id'] as string, decodeActor(row));
    return found;
  }

  async listActors(query: ActorQuery): Promise<StoredActor[]> {
    return (await this.read(listActorsStatement(query))).map(decodeActor);
  }

  async pageActors(query: ActorPageQuery): Promise<ActorPage> {
    const rows = await this.read(pageActorsStatement(query));
    return pageFromRows(
      rows.map((row) => {
        const createdAt = row['createdAt'] as number;
        delete row['createdAt'];
        return { createdAt, actor: decodeActor(row) };
      }),
      query.limit,
    );
  }

  async loadLive(): Promise<StoredActor[]> {
    return (await this.read(this.scoped()?.live ?? LOAD_LIVE)).map(decodeActor);
  }

  async loadTimers(): Promise<StoredTimer[]> {
    return (await this.read(this.scoped()?.timers ?? LOAD_TIMERS)) as unknown as StoredTimer[];
  }

  async loadOutbox(): Promise<OutboxEntry[]> {
    return (await this.read(this.scoped()?.outbox ?? LOAD_OUTBOX)).map((row) => {
      row['payload'] = parseJson(row['payload']);
      return row as unknown as OutboxEntry;
    });
  }

  async readEvents(query: EventQuery): Promise<StoredEvent[]> {
    if (query.types !== undefined && query.types.length === 0) return [];
    return (await this.read(readEventsStatement(query))).map((row) => {
      row['data'] = parseJson(row['data']);
      return row as unknown as StoredEvent;
    });
  }

  async lastEventSeq(): Promise<number> {
    const [row] = await this.read(LAST_EVENT_SEQ);
    const last = typeof row?.['seq'] === 'number' ? row['seq'] : 0;
    const shard = this.options.shard;
    return shard === undefined ? last : shardLastSeq(last, shard.index, shard.count);
  }

  private scoped(): ReturnType<typeof shardLoadStatements> | undefined {
    return this.options.shard === undefined ? undefined : shardLoadStatements(this.options.shard.index);
  }

  /**
   * The cluster's shard count: set to `requested` if no count is stored yet, else the stored one
   * (a count, once set, stays: rows are placed by it). Undefined when none is stored nor asked.
   */
  async clusterShards(requested?: number): Promise<number | undefined> {
    if (requested !== undefined) await this.read(CLUSTER_STATEMENTS.setShards(requested));
    const [row] = await this.read(CLUSTER_STATEMENTS.getShards);
    return row === undefined ? undefined : Number(row['value']);
  }

  /** Every lease whose name starts with `prefix` (the shards' leases: one read for all of them). */
  async leasesNamed(prefix: string): Promise<Lease[]> {
    return (await this.read(CLUSTER_STATEMENTS.leasesNamed(prefix))) as unknown as Lease[];
  }

  /** Where each held shard's writer serves now (one row per shard, the latest writer's). */
  async shardEndpoints(): Promise<ShardEndpoint[]> {
    return (await this.read(CLUSTER_STATEMENTS.endpoints)) as unknown as ShardEndpoint[];
  }

  /** Records where a shard's writer serves, at its epoch (an older epoch never overwrites a newer one). */
  async setShardEndpoint(endpoint: Omit<ShardEndpoint, 'updatedAt'>): Promise<void> {
    await this.read(CLUSTER_STATEMENTS.setEndpoint(endpoint));
  }

  /** Removes a shard's endpoint if it is still this holder's (the writer gave the shard back). */
  async removeShardEndpoint(shard: number, holder: string): Promise<void> {
    await this.read(CLUSTER_STATEMENTS.removeEndpoint(shard, holder));
  }

  /** The shard of each stored actor among `ids` (absent ids are left out). */
  async actorShards(ids: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    if (ids.length === 0) return found;
    for (const row of await this.read(CLUSTER_STATEMENTS.actorShards(ids)))
      found.set(row['id'] as string, row['shard'] as number);
    return found;
  }

  /** On the database's clock: `now` is not used, so that the nodes' clocks do not matter. */
  async tryLease(name: string, holder: string, ttlMs: number, _now?: number): Promise<Lease | undefined> {
    const [row] = await this.read(tryLeaseStatement(name, holder, ttlMs));
    return row as unknown as Lease | undefined;
  }

  async releaseLease(name: string, holder: string, epoch: number): Promise<void> {
    await this.read(releaseLeaseStatement(name, holder, epoch));
  }

  async getLease(name: string): Promise<Lease | undefined> {
    const [row] = await this.read(getLeaseStatement(name));
    return row as unknown as Lease | undefined;
  }

  async leaseHistory(name: string): Promise<LeaseTerm[]> {
    return (await this.read(leaseHistoryStatement(name))) as unknown as LeaseTerm[];
  }

  async findExpired(query: ExpiryQuery): Promise<ExpiredUnit[]> {
    return this.guarded('failed to read', () => this.retention.findExpired(query));
  }

  async readUnit(unit: Pick<ExpiredUnit, 'kind' | 'id'>): Promise<UnitRecord> {
    return this.guarded('failed to read', () => this.retention.readUnit(unit));
  }

  async deleteUnits(units: readonly ExpiredUnit[]): Promise<SweepCounts> {
    return this.guarded('failed to delete', () => this.retention.deleteUnits(units));
  }

  async pruneEvents(query: { before: number; limit: number }): Promise<SweepCounts> {
    return this.guarded('failed to prune events', () => this.retention.pruneEvents(query.before, query.limit));
  }

  async importUnits(units: readonly UnitRecord[]): Promise<{ actors: number; events: number }> {
    return this.guarded('failed to import', () => this.retention.importUnits(units));
  }

  async appendAudit(entries: ReadonlyArray<Omit<AuditEntry, 'seq'>>): Promise<AuditEntry[]> {
    return this.guarded('failed to write the audit log', () => this.retention.appendAudit(entries));
  }

  async readAudit(query: AuditQuery): Promise<AuditEntry[]> {
    return this.guarded('failed to read', () => this.retention.readAudit(query));
  }

  async pruneAudit(query: { before: number; limit: number }): Promise<SweepCounts> {
    return this.guarded('failed to prune the audit log', () => this.retention.pruneAudit(query.before, query.limit));
  }

  async storageStats(): Promise<StorageStats> {
    return this.guarded('failed to read', () => this.retention.storageStats());
  }

  /** Retention and audit calls: database failures become `E_STORE` (or `E_INVALID_INPUT` for a refused value) without failing the store. */
  private async guarded<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof TroupeError) throw error;
      const code = sqlState(error);
      if (code !== undefined && BATCH_FAULT_CLASSES.has(code.slice(0, 2))) {
        throw new TroupeError(
          'E_INVALID_INPUT',
          `${this.name}: rejected a write, nothing of it was written: ${(error as Error).message}`,
          { cause: error },
        );
      }
      throw this.toStoreError(what, error);
    }
  }

  /** The pool, for the other PostgreSQL parts of a node (leases, nodes); throws when closed. */
  protected requirePool(): pg.Pool {
    if (this.pool === undefined) throw new TroupeError('E_STORE', `${this.name}: the store is not open`);
    return this.pool;
  }

  /** Runs a read; database failures become `E_STORE` but do not fail the store. */
  protected async read(statement: Statement): Promise<Row[]> {
    const pool = this.requirePool();
    try {
      return (await pool.query<Row>(statement)).rows;
    } catch (error) {
      throw this.toStoreError('failed to read', error);
    }
  }

  /**
   * Brings the schema to the latest version in one transaction, under an advisory lock so that
   * nodes starting together migrate once. A schema that holds tables but no migrations table is
   * someone else's, and is left alone.
   */
  private async migrate(pool: pg.Pool): Promise<void> {
    const sql = migrationStatements(this.schema);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(sql.lock);
      const tables = (await client.query<{ name: string }>(sql.tables)).rows.map((r) => r.name);
      if (tables.length > 0 && !tables.includes('schema_migrations')) {
        throw new TroupeError(
          'E_STORE',
          `${this.name}: schema ${this.schema} holds tables that are not a Troupe store (${tables.sort().join(', ')})`,
        );
      }
      await client.query(sql.createSchema);
      await client.query(sql.createMigrations);
      const current = Number((await client.query<{ version: number }>(sql.currentVersion)).rows[0]?.version ?? 0);
      const pending = pendingMigrations(POSTGRES_MIGRATIONS, current, `PostgreSQL store ${this.name}`);
      await client.query(sql.setPath);
      for (const migration of pending) {
        await client.query(migration.sql);
        await client.query(sql.recordVersion, [migration.version, migration.name]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  protected toStoreError(what: string, error: unknown): TroupeError {
    if (error instanceof TroupeError) return error;
    const code = sqlState(error);
    const message = error instanceof Error ? error.message : String(error);
    return new TroupeError('E_STORE', `${this.name} ${what}: ${message}${code ? ` (SQLSTATE ${code})` : ''}`, {
      cause: error,
      details: { store: this.name, ...(code ? { sqlState: code } : {}) },
    });
  }
}

/** The SQLSTATE of a server error; undefined for network and client errors. */
function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * A connection URL without its password, for names and logs.
 *
 * @example
 * ```ts
 * redactUrl('postgres://troupe:secret@db:5432/troupe'); // 'postgres://troupe:***@db:5432/troupe'
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable url)';
  }
}

function parseJson(text: unknown): unknown {
  return typeof text === 'string' ? JSON.parse(text) : undefined;
}

function decodeActor(row: Row): StoredActor {
  row['state'] = parseJson(row['state']);
  row['context'] = parseJson(row['context']);
  return row as unknown as StoredActor;
}
