/**
 * Store schema version 2 (issue 18: retention and audit), as statements that upgrade a version 1
 * file and complete a new one.
 *
 * Inputs: a version 1 store. Outputs: the `audit` table; `actors_expiry`, the finished units
 * retention looks for (settled actors that head a unit: of no ticket, or the ticket itself) by
 * age; `events_ownerless`, events of no ticket and no task by age (pruned by age alone).
 * Only rows that can head a unit are indexed, so tasks of tickets cost no extra b-tree insert.
 */
export const SCHEMA_V2_SQL = `
CREATE INDEX actors_expiry ON actors (updated_at, id) WHERE settled = 1 AND (ticket_id IS NULL OR kind = 'ticket');
CREATE INDEX events_ownerless ON events (at) WHERE ticket_id IS NULL AND task_id IS NULL;
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  target TEXT, details TEXT
);
CREATE INDEX audit_at ON audit (at);`;

/** The condition `actors_expiry` is built on; a query must repeat it word for word to use the index. */
export const UNIT_HEAD_CONDITION = "settled = 1 AND (ticket_id IS NULL OR kind = 'ticket')";
