import { TroupeError } from '../../core/errors.js';
import { idKindConflict, type ActorPageQuery, type ActorQuery, type CommitBatch, type EventQuery } from './store.js';
import { actorRowValues } from './store-rows.js';

/**
 * The PostgreSQL store's statements, built by pure functions from what is asked (the way
 * pg-boss keeps its `plans` apart from the code that runs them): every statement here can be
 * read and tested without a database, and `postgres-store.ts` only runs them.
 */

/** One statement with its parameters; `name` makes the driver prepare it once per connection. */
export interface Statement {
  readonly name?: string;
  readonly text: string;
  readonly values: unknown[];
}

/** Milliseconds since the epoch on the database's clock: one clock for every node. */
const DB_NOW_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::float8`;

const ACTOR_COLUMNS = `id, kind, machine_id AS "machineId", version, state, context, settled,
  ticket_id AS "ticketId", updated_at AS "updatedAt"`;
const EVENT_COLUMNS = `seq, type, at, ticket_id AS "ticketId", task_id AS "taskId",
  agent_id AS "agentId", phase, data`;

/** A schema name safe to write into SQL unquoted. */
export function checkSchemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new TroupeError(
      'E_INVALID_INPUT',
      `schema must be a lower-case SQL identifier (a-z, 0-9, _), got ${JSON.stringify(schema)}`,
    );
  }
  return schema;
}

/**
 * JSON text of every value of a batch, in the order `commitStatement` reads it: state and
 * context per actor, then one payload per outbox entry, then data per event. A value that is not
 * plain JSON throws `E_NOT_SERIALIZABLE` here, before anything reaches the database.
 */
export function serialiseBatch(batch: CommitBatch): (string | null)[] {
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

/**
 * The whole batch as one statement: a data-modifying CTE per part that is present, so a commit
 * is one round trip and one transaction (a single statement is atomic on its own). The parts of
 * one statement all see the same snapshot and their order is not defined, so none may touch a
 * row another part touches: the batch is reduced to its net effect first (the last write of an
 * actor wins; a timer cleared and set again is only set; an outbox entry added and delivered in
 * one batch is only deleted), which is what applying the parts in the contract's order gives.
 */
/**
 * The text a commit's statement fails with when it would write an actor under an id another kind
 * holds: `troupe:E_ID_KIND_CONFLICT:<id>/<written kind>/<held kind>` (see `parseKindConflict`).
 */
export const KIND_CONFLICT_MARKER = 'troupe:E_ID_KIND_CONFLICT:';

/**
 * The text a commit's statement fails with when it would write an actor that another shard's
 * writer owns: `troupe:E_WRONG_SHARD:<id>/<owning shard>` (see `parseShardConflict`).
 */
export const SHARD_CONFLICT_MARKER = 'troupe:E_WRONG_SHARD:';

/**
 * The id and owning shard of a commit refused because the actor is another shard's; undefined
 * for any other error.
 *
 * @example
 * ```ts
 * parseShardConflict('invalid input syntax for type integer: "troupe:E_WRONG_SHARD:t1/3"'); // { id: 't1', shard: 3 }
 * ```
 */
export function parseShardConflict(message: string): { id: string; shard: number } | undefined {
  const at = message.indexOf(SHARD_CONFLICT_MARKER);
  if (at < 0) return undefined;
  const rest = message.slice(at + SHARD_CONFLICT_MARKER.length).replace(/"$/, '');
  const slash = rest.lastIndexOf('/');
  return { id: rest.slice(0, slash), shard: Number(rest.slice(slash + 1)) };
}

/**
 * The id and kinds of a commit refused because an id is another kind's, from the database's
 * error message; undefined for any other error.
 *
 * @example
 * ```ts
 * const conflict = parseKindConflict('invalid input syntax for type integer: "troupe:E_ID_KIND_CONFLICT:t1/agent/task"');
 * // { id: 't1', written: 'agent', held: 'task' }
 * ```
 */
export function parseKindConflict(message: string): { id: string; written: string; held: string } | undefined {
  const at = message.indexOf(KIND_CONFLICT_MARKER);
  if (at < 0) return undefined;
  const rest = message.slice(at + KIND_CONFLICT_MARKER.length).replace(/"$/, '');
  const held = rest.slice(rest.lastIndexOf('/') + 1);
  const before = rest.slice(0, rest.lastIndexOf('/'));
  return { id: before.slice(0, before.lastIndexOf('/')), written: before.slice(before.lastIndexOf('/') + 1), held };
}

export function commitStatement(
  batch: CommitBatch,
  json: readonly (string | null)[],
  fence?: Fence,
  shard = 0,
): Statement {
  const values: unknown[] = [];
  const param = (value: unknown, type: string): string => {
    // Text arrays travel as one JSON array: the driver's text[] literal escapes every element
    // with two regular expressions, which cost ~90 us per task of CPU (JSON text is full of
    // quotes), where JSON.stringify escapes natively and PostgreSQL unpacks it in C.
    if (type === 'text[]') {
      values.push(JSON.stringify(value));
      return `ARRAY(SELECT json_array_elements_text($${values.length}::json))`;
    }
    values.push(value);
    return `$${values.length}::${type}`;
  };
  const parts: string[] = [];
  let j = 0;
  let conflictCheck = '';
  // Every row this commit writes is of its writer's shard (0 for a single writer); a parameter,
  // so that the statement's text (and its prepared plan) is the same for every shard.
  const shardParam = () => param(shard, 'int4');
  // Fenced: every part writes only if the lease is still ours at our epoch and has not run out.
  // FOR SHARE holds a takeover (an UPDATE of the lease row) until this commit is done, and a
  // takeover that committed first makes the row fail the check: never both.
  let guard = '';
  if (fence !== undefined) {
    parts.push(`f AS (SELECT 1 AS ok FROM leases WHERE name = ${param(fence.lease, 'text')} AND holder = ${param(fence.holder, 'text')}
  AND epoch = ${param(fence.epoch, 'int8')} AND expires_at > ${DB_NOW_MS} FOR SHARE)`);
    guard = ' WHERE EXISTS (SELECT 1 FROM f)';
  }

  if (batch.actors.length > 0) {
    // Last write per id wins; a row may be touched once per statement.
    const last = new Map<string, number>();
    batch.actors.forEach((a, i) => {
      // One batch writing an id as two kinds is refused here: only its last write reaches the database.
      const earlier = last.get(a.id);
      const held = earlier === undefined ? undefined : batch.actors[earlier]?.kind;
      if (held !== undefined && held !== a.kind) throw idKindConflict(a.id, held, a.kind, 'postgres');
      last.set(a.id, i);
    });
    const cols: unknown[][] = [[], [], [], [], [], [], [], [], [], []];
    batch.actors.forEach((a, i) => {
      const state = json[j++];
      const context = json[j++];
      if (last.get(a.id) !== i) return;
      const row = actorRowValues(a, state, context, a.settled, batch.created?.get(a.id) ?? a.updatedAt);
      row.forEach((v, c) => cols[c]?.push(v));
    });
    const types = [
      'text[]',
      'text[]',
      'text[]',
      'int4[]',
      'text[]',
      'text[]',
      'bool[]',
      'text[]',
      'float8[]',
      'float8[]',
    ];
    // The first write sets created_at; the update below never changes it.
    parts.push(`a AS (INSERT INTO actors (id, kind, machine_id, version, state, context, settled, ticket_id, updated_at, created_at, shard)
  SELECT *, ${shardParam()} FROM unnest(${cols.map((c, i) => param(c, types[i] ?? 'text[]')).join(', ')})${guard}
  ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, machine_id = EXCLUDED.machine_id,
  version = EXCLUDED.version, state = EXCLUDED.state, context = EXCLUDED.context,
  settled = EXCLUDED.settled, ticket_id = EXCLUDED.ticket_id, updated_at = EXCLUDED.updated_at
  WHERE actors.kind = EXCLUDED.kind AND actors.shard = EXCLUDED.shard
  RETURNING id)`);
    // An id keeps its first kind: a row the upsert left alone (another kind holds the id) makes
    // the statement fail, so nothing of the batch is written, whichever node wrote the row.
    // PostgreSQL has no RAISE outside PL/pgSQL: a cast of the marker text to int fails with it.
    const ids = param(cols[0], 'text[]');
    // A row of the same kind that the upsert left alone is another shard's: one writer per actor.
    conflictCheck = `(SELECT (CASE WHEN h.kind = w.kind THEN '${SHARD_CONFLICT_MARKER}' || w.id || '/' || h.shard
  ELSE '${KIND_CONFLICT_MARKER}' || w.id || '/' || w.kind || '/' || coalesce(h.kind, '?') END)::int
  FROM unnest(${ids}, ${param(cols[1], 'text[]')}) AS w(id, kind) LEFT JOIN actors h ON h.id = w.id
  WHERE NOT EXISTS (SELECT 1 FROM a WHERE a.id = w.id)${guard.replace(' WHERE', ' AND')} LIMIT 1)`;
  }

  // Timers: clears apply before sets, so a timer that is set again is only set.
  const timerKey = (actorId: string, name: string) => JSON.stringify([actorId, name]);
  const timersSet = new Map<string, { actorId: string; name: string; at: number }>();
  for (const t of batch.timersSet) timersSet.set(timerKey(t.actorId, t.name), t);
  const cleared = new Map<string, { actorId: string; name: string }>();
  for (const t of batch.timersCleared) {
    const key = timerKey(t.actorId, t.name);
    if (!timersSet.has(key)) cleared.set(key, t);
  }
  if (cleared.size > 0) {
    const list = [...cleared.values()];
    parts.push(`tc AS (DELETE FROM timers t USING unnest(${param(
      list.map((t) => t.actorId),
      'text[]',
    )}, ${param(
      list.map((t) => t.name),
      'text[]',
    )}) AS c(actor_id, name)
  WHERE t.actor_id = c.actor_id AND t.name = c.name${guard.replace(' WHERE', ' AND')})`);
  }
  if (timersSet.size > 0) {
    const list = [...timersSet.values()];
    parts.push(`ts AS (INSERT INTO timers (actor_id, name, at, shard)
  SELECT *, ${shardParam()} FROM unnest(${param(
    list.map((t) => t.actorId),
    'text[]',
  )}, ${param(
    list.map((t) => t.name),
    'text[]',
  )}, ${param(
    list.map((t) => t.at),
    'float8[]',
  )})${guard}
  ON CONFLICT (actor_id, name) DO UPDATE SET at = EXCLUDED.at)`);
  }

  // Outbox: additions apply before deliveries, so an entry added and delivered is only deleted.
  const delivered = new Set(batch.outboxDelivered);
  const added = new Map<
    string,
    { id: string; target: string; kind: string; payload: string | null; createdAt: number }
  >();
  for (const o of batch.outbox) {
    const payload = json[j++] ?? null;
    if (delivered.has(o.id)) continue;
    added.delete(o.id); // keep insertion order of the last addition
    added.set(o.id, { id: o.id, target: o.target, kind: o.kind, payload, createdAt: o.createdAt });
  }
  if (added.size > 0) {
    const list = [...added.values()];
    parts.push(`oa AS (INSERT INTO outbox (id, target, kind, payload, created_at, shard)
  SELECT id, target, kind, payload, created_at, ${shardParam()} FROM unnest(${param(
    list.map((o) => o.id),
    'text[]',
  )}, ${param(
    list.map((o) => o.target),
    'text[]',
  )}, ${param(
    list.map((o) => o.kind),
    'text[]',
  )}, ${param(
    list.map((o) => o.payload),
    'text[]',
  )}, ${param(
    list.map((o) => o.createdAt),
    'float8[]',
  )}) WITH ORDINALITY AS o(id, target, kind, payload, created_at, n)${guard}
  ORDER BY n
  ON CONFLICT (id) DO UPDATE SET target = EXCLUDED.target, kind = EXCLUDED.kind,
  payload = EXCLUDED.payload, created_at = EXCLUDED.created_at)`);
  }
  if (delivered.size > 0) {
    parts.push(
      `od AS (DELETE FROM outbox WHERE id = ANY(${param([...delivered], 'text[]')})${guard.replace(' WHERE', ' AND')})`,
    );
  }

  if (batch.events.length > 0) {
    const e = batch.events;
    const data = e.map(() => json[j++] ?? null);
    parts.push(`e AS (INSERT INTO events (seq, type, at, ticket_id, task_id, agent_id, phase, data)
  SELECT * FROM unnest(${param(
    e.map((x) => x.seq),
    'int8[]',
  )}, ${param(
    e.map((x) => x.type),
    'text[]',
  )}, ${param(
    e.map((x) => x.at),
    'float8[]',
  )}, ${param(
    e.map((x) => x.ticketId ?? null),
    'text[]',
  )}, ${param(
    e.map((x) => x.taskId ?? null),
    'text[]',
  )}, ${param(
    e.map((x) => x.agentId ?? null),
    'text[]',
  )}, ${param(
    e.map((x) => x.phase ?? null),
    'text[]',
  )}, ${param(data, 'text[]')})${guard})`);
  }

  const check = conflictCheck === '' ? '' : `, ${conflictCheck} AS conflict`;
  const result = fence === undefined ? `SELECT 1 AS ok${check}` : `SELECT count(*)::int AS ok${check} FROM f`;
  const text = parts.length === 0 ? 'SELECT 1 AS ok' : `WITH ${parts.join(',\n')}\n${result}`;
  // The text depends only on which parts are present: prepared once per shape and connection.
  const shape = parts.map((p) => p.slice(0, p.indexOf(' '))).join('_');
  return { name: `troupe_commit_${shape || 'none'}`, text, values };
}

/** The lease a fenced store writes under (see `PostgresStoreOptions.fence`). */
export interface Fence {
  lease: string;
  holder: string;
  epoch: number;
}

/** The WHERE clause of a query, built from the filters that are present. */
class Conditions {
  readonly values: unknown[] = [];
  private readonly parts: string[] = [];

  add(sql: (param: string) => string, value: unknown): void {
    if (value === undefined) return;
    this.values.push(value);
    this.parts.push(sql(`$${this.values.length}`));
  }

  /** A parameter outside the WHERE clause (e.g. a limit). */
  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  sql(): string {
    return this.parts.length === 0 ? '' : `WHERE ${this.parts.join(' AND ')}`;
  }
}

export function getActorsStatement(ids: readonly string[]): Statement {
  return {
    name: 'troupe_get_actors',
    text: `SELECT ${ACTOR_COLUMNS} FROM actors WHERE id = ANY($1::text[])`,
    values: [[...new Set(ids)]],
  };
}

export function listActorsStatement(query: ActorQuery): Statement {
  const where = new Conditions();
  where.add((p) => `kind = ${p}`, query.kind);
  where.add((p) => `ticket_id = ${p}`, query.ticketId);
  where.add((p) => `settled = ${p}::bool`, query.settled);
  // The state column holds the state value as JSON text: a flat state is a JSON string.
  where.add((p) => `state = ${p}`, query.state === undefined ? undefined : JSON.stringify(query.state));
  where.add((p) => `id > ${p}`, query.afterId);
  const limit = where.param(query.limit ?? null);
  return {
    text: `SELECT ${ACTOR_COLUMNS} FROM actors ${where.sql()} ORDER BY id LIMIT ${limit}::int8`,
    values: where.values,
  };
}

/**
 * One page of actors and one more row (to know whether another page follows), from the key on,
 * in creation order. With one kind the `actors_created` index gives the order.
 */
export function pageActorsStatement(query: ActorPageQuery): Statement {
  const where = new Conditions();
  if (query.kinds.length === 1) where.add((p) => `kind = ${p}`, query.kinds[0]);
  else where.add((p) => `kind = ANY(${p}::text[])`, [...query.kinds]);
  where.add((p) => `ticket_id = ${p}`, query.ticketId);
  where.add((p) => `settled = ${p}::bool`, query.settled);
  const newest = query.order === 'newest';
  if (query.after !== undefined) {
    const at = where.param(query.after.createdAt);
    where.add((p) => `(created_at, id) ${newest ? '<' : '>'} (${at}::float8, ${p}::text)`, query.after.id);
  }
  const direction = newest ? 'DESC' : 'ASC';
  const limit = where.param(Math.max(0, Math.floor(query.limit)) + 1);
  return {
    text: `SELECT ${ACTOR_COLUMNS}, created_at AS "createdAt" FROM actors ${where.sql()} ORDER BY created_at ${direction}, id ${direction} LIMIT ${limit}::int8`,
    values: where.values,
  };
}

export const LOAD_LIVE: Statement = {
  name: 'troupe_live',
  text: `SELECT ${ACTOR_COLUMNS} FROM actors WHERE NOT settled ORDER BY id`,
  values: [],
};
export const LOAD_TIMERS: Statement = {
  name: 'troupe_timers',
  text: 'SELECT actor_id AS "actorId", name, at FROM timers',
  values: [],
};
export const LOAD_OUTBOX: Statement = {
  name: 'troupe_outbox',
  text: 'SELECT id, target, kind, payload, created_at AS "createdAt" FROM outbox ORDER BY pos',
  values: [],
};

/** What a shard's writer restores: the live actors, timers and outbox of its shard only. */
export function shardLoadStatements(shard: number): { live: Statement; timers: Statement; outbox: Statement } {
  return {
    live: {
      name: 'troupe_shard_live',
      text: `SELECT ${ACTOR_COLUMNS} FROM actors WHERE NOT settled AND shard = $1 ORDER BY id`,
      values: [shard],
    },
    timers: {
      name: 'troupe_shard_timers',
      text: 'SELECT actor_id AS "actorId", name, at FROM timers WHERE shard = $1',
      values: [shard],
    },
    outbox: {
      name: 'troupe_shard_outbox',
      text: 'SELECT id, target, kind, payload, created_at AS "createdAt" FROM outbox WHERE shard = $1 ORDER BY pos',
      values: [shard],
    },
  };
}

/**
 * The last event number of a shard's writer of `count`: each shard numbers its events in its own
 * residue class (seq = shard + 1 modulo count), so writers never take the same number, and it
 * starts past every event in the table. With one shard, the table's last number.
 */
export function shardLastSeq(tableMax: number, shard: number, count: number): number {
  const residue = (shard + 1) % count;
  return tableMax - ((((tableMax - residue) % count) + count) % count);
}
export const LAST_EVENT_SEQ: Statement = {
  name: 'troupe_last_seq',
  text: 'SELECT max(seq) AS seq FROM events',
  values: [],
};

export function readEventsStatement(query: EventQuery): Statement {
  const where = new Conditions();
  where.add((p) => `ticket_id = ${p}`, query.ticketId);
  where.add((p) => `task_id = ${p}`, query.taskId);
  where.add((p) => `agent_id = ${p}`, query.agentId);
  where.add((p) => `type = ANY(${p}::text[])`, query.types);
  where.add((p) => `seq > ${p}`, query.afterSeq);
  const order = query.order === 'oldest' ? 'ASC' : 'DESC';
  const limit = where.param(query.limit ?? null);
  return {
    text: `SELECT ${EVENT_COLUMNS} FROM events ${where.sql()} ORDER BY seq ${order} LIMIT ${limit}::int8`,
    values: where.values,
  };
}

/**
 * Takes or renews a lease in one statement, on the database's clock: free, expired or already
 * the holder's; the epoch grows only when the holder changes, and each new term is recorded.
 */
export function tryLeaseStatement(name: string, holder: string, ttlMs: number): Statement {
  return {
    name: 'troupe_try_lease',
    text: `WITH up AS (
  INSERT INTO leases (name, holder, epoch, acquired_at, expires_at)
  VALUES ($1, $2, 1, ${DB_NOW_MS}, ${DB_NOW_MS} + $3::float8)
  ON CONFLICT (name) DO UPDATE SET
    epoch = CASE WHEN leases.holder = EXCLUDED.holder THEN leases.epoch ELSE leases.epoch + 1 END,
    acquired_at = CASE WHEN leases.holder = EXCLUDED.holder THEN leases.acquired_at ELSE EXCLUDED.acquired_at END,
    holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
  WHERE leases.holder = EXCLUDED.holder OR leases.expires_at <= EXCLUDED.acquired_at
  RETURNING name, holder, epoch, acquired_at, expires_at
), term AS (
  INSERT INTO lease_history (name, epoch, holder, acquired_at)
  SELECT name, epoch, holder, acquired_at FROM up ON CONFLICT DO NOTHING
)
SELECT name, holder, epoch, acquired_at AS "acquiredAt", expires_at AS "expiresAt" FROM up`,
    values: [name, holder, ttlMs],
  };
}

export function releaseLeaseStatement(name: string, holder: string, epoch: number): Statement {
  return {
    name: 'troupe_release_lease',
    text: `UPDATE leases SET expires_at = '-Infinity' WHERE name = $1 AND holder = $2 AND epoch = $3`,
    values: [name, holder, epoch],
  };
}

export function getLeaseStatement(name: string): Statement {
  return {
    name: 'troupe_get_lease',
    text: `SELECT name, holder, epoch, acquired_at AS "acquiredAt", expires_at AS "expiresAt" FROM leases WHERE name = $1`,
    values: [name],
  };
}

export function leaseHistoryStatement(name: string): Statement {
  return {
    name: 'troupe_lease_history',
    text: `SELECT epoch, holder, acquired_at AS "acquiredAt" FROM lease_history WHERE name = $1 ORDER BY epoch`,
    values: [name],
  };
}

/** A node of a cluster, as `troupe nodes` lists it. */
export interface NodeRow {
  id: string;
  url: string | null;
  pid: number | null;
  role: string;
  startedAt: number;
  heartbeatAt: number;
  epoch: number | null;
  /** The database clock when read, to tell the age of the heartbeat without the reader's clock. */
  now: number;
}

/** Records a node's heartbeat (and role, url, epoch), creating its row on the first beat. */
export function nodeHeartbeatStatement(node: {
  id: string;
  url: string | null;
  pid: number;
  role: string;
  epoch: number | null;
}): Statement {
  return {
    name: 'troupe_node_heartbeat',
    text: `INSERT INTO nodes (id, url, pid, role, started_at, heartbeat_at, epoch)
  VALUES ($1, $2, $3, $4, ${DB_NOW_MS}, ${DB_NOW_MS}, $5)
  ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, role = EXCLUDED.role, heartbeat_at = EXCLUDED.heartbeat_at,
  epoch = EXCLUDED.epoch, started_at = CASE WHEN nodes.pid = EXCLUDED.pid THEN nodes.started_at ELSE EXCLUDED.started_at END,
  pid = EXCLUDED.pid`,
    values: [node.id, node.url, node.pid, node.role, node.epoch],
  };
}

export const LIST_NODES: Statement = {
  name: 'troupe_nodes',
  text: `SELECT id, url, pid, role, started_at AS "startedAt", heartbeat_at AS "heartbeatAt", epoch, ${DB_NOW_MS} AS now FROM nodes ORDER BY id`,
  values: [],
};

/** The statements `open` runs around the migrations, in `schema`. */
export function migrationStatements(schema: string) {
  const s = checkSchemaName(schema);
  return {
    /** Serialises migrations between nodes starting at once (a transaction-level advisory lock). */
    lock: `SELECT pg_advisory_xact_lock(hashtext('troupe.migrate.' || '${s}'))`,
    createSchema: `CREATE SCHEMA IF NOT EXISTS ${s}`,
    tables: `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = '${s}'`,
    createMigrations: `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
  version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    currentVersion: `SELECT coalesce(max(version), 0) AS version FROM ${s}.schema_migrations`,
    recordVersion: `INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`,
    setPath: `SET LOCAL search_path TO ${s}`,
  };
}

/** Where a shard's writer serves: its agents' WebSocket URL and its node's front URL. */
export interface ShardEndpoint {
  shard: number;
  nodeId: string;
  holder: string;
  epoch: number;
  /** The shard's WebSocket endpoint for agents, `ws://host:port/v1/ws`. */
  url: string;
  /** The HTTP base URL of the node that holds it (`http://host:port`), where requests for the shard go. */
  frontUrl: string;
  updatedAt: number;
}

/** The statements of a sharded cluster's bookkeeping: the shard count and the shards' endpoints. */
export const CLUSTER_STATEMENTS = {
  setShards: (count: number): Statement => ({
    name: 'troupe_set_shards',
    text: `INSERT INTO cluster (key, value) VALUES ('shards', $1) ON CONFLICT (key) DO NOTHING`,
    values: [String(count)],
  }),
  getShards: { name: 'troupe_get_shards', text: `SELECT value FROM cluster WHERE key = 'shards'`, values: [] },
  endpoints: {
    name: 'troupe_shard_endpoints',
    text: `SELECT shard, node_id AS "nodeId", holder, epoch, url, front_url AS "frontUrl", updated_at AS "updatedAt"
  FROM shard_endpoints ORDER BY shard`,
    values: [],
  },
  setEndpoint: (e: Omit<ShardEndpoint, 'updatedAt'>): Statement => ({
    name: 'troupe_set_shard_endpoint',
    text: `INSERT INTO shard_endpoints (shard, node_id, holder, epoch, url, front_url, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, ${DB_NOW_MS})
  ON CONFLICT (shard) DO UPDATE SET node_id = EXCLUDED.node_id, holder = EXCLUDED.holder, epoch = EXCLUDED.epoch,
  url = EXCLUDED.url, front_url = EXCLUDED.front_url, updated_at = EXCLUDED.updated_at
  WHERE shard_endpoints.epoch <= EXCLUDED.epoch`,
    values: [e.shard, e.nodeId, e.holder, e.epoch, e.url, e.frontUrl],
  }),
  removeEndpoint: (shard: number, holder: string): Statement => ({
    name: 'troupe_remove_shard_endpoint',
    text: 'DELETE FROM shard_endpoints WHERE shard = $1 AND holder = $2',
    values: [shard, holder],
  }),
  leasesNamed: (prefix: string): Statement => ({
    name: 'troupe_leases_named',
    text: `SELECT name, holder, epoch, acquired_at AS "acquiredAt", expires_at AS "expiresAt" FROM leases
  WHERE starts_with(name, $1) ORDER BY name`,
    values: [prefix],
  }),
  actorShards: (ids: readonly string[]): Statement => ({
    name: 'troupe_actor_shards',
    text: 'SELECT id, shard FROM actors WHERE id = ANY($1::text[])',
    values: [[...new Set(ids)]],
  }),
};
