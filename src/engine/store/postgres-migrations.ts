import type { Migration } from './schema-ladder.js';

/**
 * The PostgreSQL store's schema, as numbered migrations (see `schema-ladder.ts`). Every table
 * lives in the store's own schema (`troupe` by default), found through the connection's
 * `search_path`, so the database can hold other things beside it. Applied versions are rows of
 * `schema_migrations`.
 *
 * Choices that hold for every migration:
 * - ids are `text COLLATE "C"`: ordered by bytes, as SQLite and the memory store order them,
 *   whatever the database's locale (paging with `afterId` must agree across stores).
 * - snapshots, payloads and event data are JSON kept as `text`, not `jsonb`: `jsonb` rewrites
 *   numbers and refuses escaped lone surrogates, and a store must hand back exactly what it got.
 * - clock times are `float8`: the runtime's clock gives JS numbers, fractions included.
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    // 1: snapshots, durable timers, event history, outbox (as SQLite's version 1), and named
    // leases with their history for leader election (as SQLite's version 2).
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE actors (
  id text COLLATE "C" PRIMARY KEY, kind text NOT NULL, machine_id text NOT NULL,
  version integer NOT NULL, state text, context text, settled boolean NOT NULL,
  ticket_id text COLLATE "C", updated_at float8 NOT NULL
);
CREATE INDEX actors_live ON actors (id) WHERE NOT settled;
CREATE INDEX actors_ticket ON actors (ticket_id, id) WHERE ticket_id IS NOT NULL;
CREATE TABLE timers (
  actor_id text COLLATE "C" NOT NULL, name text COLLATE "C" NOT NULL, at float8 NOT NULL,
  PRIMARY KEY (actor_id, name)
);
CREATE TABLE events (
  seq bigint PRIMARY KEY, type text NOT NULL, at float8 NOT NULL, ticket_id text, task_id text,
  agent_id text, phase text, data text
);
CREATE INDEX events_ticket ON events (ticket_id, seq) WHERE ticket_id IS NOT NULL;
CREATE INDEX events_task ON events (task_id, seq) WHERE task_id IS NOT NULL;
CREATE TABLE outbox (
  id text COLLATE "C" PRIMARY KEY, pos bigint GENERATED ALWAYS AS IDENTITY, target text NOT NULL,
  kind text NOT NULL, payload text, created_at float8 NOT NULL
);
CREATE TABLE leases (
  name text COLLATE "C" PRIMARY KEY, holder text NOT NULL, epoch bigint NOT NULL,
  acquired_at float8 NOT NULL, expires_at float8 NOT NULL
);
CREATE TABLE lease_history (
  name text COLLATE "C" NOT NULL, epoch bigint NOT NULL, holder text NOT NULL,
  acquired_at float8 NOT NULL, PRIMARY KEY (name, epoch)
);`,
  },
  {
    // 2: the nodes of a cluster on one database (troupe serve --node-id): who they are, where
    // agents reach them, their role and last heartbeat, for `troupe nodes` and failover.
    version: 2,
    name: 'nodes',
    sql: `
CREATE TABLE nodes (
  id text COLLATE "C" PRIMARY KEY, url text, pid integer, role text NOT NULL,
  started_at float8 NOT NULL, heartbeat_at float8 NOT NULL, epoch bigint
);`,
  },
  {
    // 3: retention and the audit log (as SQLite's version 3). `actors_expiry` finds finished
    // units (settled actors that head one: of no ticket, or the ticket itself) by age;
    // `events_ownerless` events of no ticket and no task by age; `audit` who did what.
    version: 3,
    name: 'retention-and-audit',
    sql: `
CREATE INDEX actors_expiry ON actors (updated_at, id) WHERE settled AND (ticket_id IS NULL OR kind = 'ticket');
CREATE INDEX events_ownerless ON events (at) WHERE ticket_id IS NULL AND task_id IS NULL;
CREATE TABLE audit (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at float8 NOT NULL, actor text NOT NULL,
  action text NOT NULL, target text, details text
);
CREATE INDEX audit_at ON audit (at);`,
  },
  {
    // 4: creation order of actors, for keyset paging of lists (as SQLite's version 4).
    // `created_at` is the `updated_at` of an actor's first write (the upsert never changes it);
    // rows written before this version get their last write time. `actors_created` serves a
    // page of one kind in creation order from any key without reading the rows before it.
    version: 4,
    name: 'actor-creation-order',
    sql: `
ALTER TABLE actors ADD COLUMN created_at float8;
UPDATE actors SET created_at = updated_at;
ALTER TABLE actors ALTER COLUMN created_at SET NOT NULL;
CREATE INDEX actors_created ON actors (kind, created_at, id);`,
  },
  {
    // 5: shards (troupe serve --shards N): several writers on one database. Each actor, timer
    // and outbox row carries the shard whose writer owns it (0 for every row of a single writer);
    // `cluster` keeps the shard count once it is set; `shard_endpoints` where each shard's writer
    // serves agents now (read by agents and by the nodes that route requests to a shard).
    version: 5,
    name: 'shards',
    sql: `
ALTER TABLE actors ADD COLUMN shard integer NOT NULL DEFAULT 0;
ALTER TABLE timers ADD COLUMN shard integer NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN shard integer NOT NULL DEFAULT 0;
CREATE INDEX actors_live_shard ON actors (shard, id) WHERE NOT settled;
CREATE TABLE cluster (key text COLLATE "C" PRIMARY KEY, value text NOT NULL);
CREATE TABLE shard_endpoints (
  shard integer PRIMARY KEY, node_id text NOT NULL, holder text NOT NULL, epoch bigint NOT NULL,
  url text NOT NULL, front_url text NOT NULL, updated_at float8 NOT NULL
);`,
  },
];
