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
];
