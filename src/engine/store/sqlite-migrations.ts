import type { Migration } from './schema-ladder.js';

/**
 * The SQLite store's schema, as numbered migrations (see `schema-ladder.ts`). The version is kept
 * in `meta.schema_version`, as Troupe has done since the first file it wrote.
 */

/** The actors table; exported so that `bench/sqlite-floor.ts` measures the same shape. */
export const ACTORS_TABLE_SQL = `
CREATE TABLE actors (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, machine_id TEXT NOT NULL, version INTEGER NOT NULL,
  state TEXT, context TEXT, settled INTEGER NOT NULL, ticket_id TEXT, updated_at INTEGER NOT NULL
);
CREATE INDEX actors_settled ON actors (settled, id);
CREATE INDEX actors_ticket ON actors (ticket_id, id);`;

/** The condition `actors_expiry` is built on; a query must repeat it word for word to use the index. */
export const UNIT_HEAD_CONDITION = "settled = 1 AND (ticket_id IS NULL OR kind = 'ticket')";

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    // 1: the schema of the first release: snapshots, durable timers, event history, outbox.
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
${ACTORS_TABLE_SQL}
CREATE TABLE timers (
  actor_id TEXT NOT NULL, name TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (actor_id, name)
) WITHOUT ROWID;
CREATE TABLE events (
  seq INTEGER PRIMARY KEY, type TEXT NOT NULL, at INTEGER NOT NULL, ticket_id TEXT,
  task_id TEXT, agent_id TEXT, phase TEXT, data TEXT
);
CREATE INDEX events_ticket ON events (ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX events_task ON events (task_id) WHERE task_id IS NOT NULL;
CREATE TABLE outbox (
  id TEXT PRIMARY KEY, target TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT,
  created_at INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('app', 'troupe');`,
  },
  {
    // 2: named leases for leader election (runtime.coordination.leader): one holder per name,
    // an epoch that grows at every change of holder (the fencing token), and the history of
    // holders so that "never two holders at once" can be checked after the fact.
    version: 2,
    name: 'leases',
    sql: `
CREATE TABLE leases (
  name TEXT PRIMARY KEY, holder TEXT NOT NULL, epoch INTEGER NOT NULL,
  acquired_at REAL NOT NULL, expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE lease_history (
  name TEXT NOT NULL, epoch INTEGER NOT NULL, holder TEXT NOT NULL, acquired_at REAL NOT NULL,
  PRIMARY KEY (name, epoch)
) WITHOUT ROWID;`,
  },
  {
    // 3: retention and the audit log (issue 18). Inputs: the actors and events of version 2.
    // `actors_expiry` finds the finished units retention removes (settled actors that head a
    // unit: of no ticket, or the ticket itself) by age; only rows that can head a unit are
    // indexed, so tasks of tickets cost no extra b-tree insert. `events_ownerless` finds events
    // of no ticket and no task by age. `audit`: who did what, kept under its own retention.
    version: 3,
    name: 'retention-and-audit',
    sql: `
CREATE INDEX actors_expiry ON actors (updated_at, id) WHERE ${UNIT_HEAD_CONDITION};
CREATE INDEX events_ownerless ON events (at) WHERE ticket_id IS NULL AND task_id IS NULL;
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  target TEXT, details TEXT
);
CREATE INDEX audit_at ON audit (at);`,
  },
  {
    // 4: creation order of actors, for keyset paging of lists (GET /v1/tasks, /v1/tickets,
    // /v1/runs: issue 13). Inputs: the actors of version 3. `created_at` is the `updated_at` of
    // an actor's first write (the upsert never changes it); rows written before this version get
    // their last write time, the best the old schema knew. `actors_created` serves a page of one
    // kind in creation order from any key without reading the rows before it.
    version: 4,
    name: 'actor-creation-order',
    sql: `
ALTER TABLE actors ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
UPDATE actors SET created_at = updated_at;
CREATE INDEX actors_created ON actors (kind, created_at, id);`,
  },
];
