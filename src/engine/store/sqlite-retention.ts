import type Database from 'better-sqlite3';
import { TroupeError } from '../../core/errors.js';
import { noSweep } from './store.js';
import type {
  AuditEntry,
  AuditQuery,
  ExpiredUnit,
  ExpiryQuery,
  StorageStats,
  StoredActor,
  StoredEvent,
  SweepCounts,
  UnitRecord,
} from './store.js';
import { UNIT_HEAD_CONDITION } from './sqlite-migrations.js';
import { actorRowValues, eventRowValues } from './store-rows.js';

type Db = Database.Database;
type Stmt = Database.Statement<unknown[]>;

const ACTOR_COLUMNS = `id, kind, machine_id AS machineId, version, state, context, settled,
  ticket_id AS ticketId, updated_at AS updatedAt`;
const EVENT_COLUMNS = `seq, type, at, ticket_id AS ticketId, task_id AS taskId,
  agent_id AS agentId, phase, data`;

/** Statements as data (pg-boss style): one name, one SQL text, prepared once per connection. */
const SQL = {
  /** Heads of units (actors of no ticket, tickets) settled before `before`, in (updated_at, id) order. */
  candidates: `SELECT id, kind, updated_at AS updatedAt FROM actors
    WHERE ${UNIT_HEAD_CONDITION} AND updated_at < @before
      AND (updated_at > @afterAt OR (updated_at = @afterAt AND id > @afterId))
      AND (updated_at < @longBefore OR state IS NULL OR state NOT IN (SELECT value FROM json_each(@long)))
    ORDER BY updated_at, id LIMIT @scan`,
  /** A ticket's members in one row: all settled? newest write? any in a long state? how many? */
  ticketSummary: `SELECT COUNT(*) AS n, MIN(settled) AS settled, MAX(updated_at) AS last,
      MAX(state IN (SELECT value FROM json_each(?))) AS long,
      COALESCE(SUM(length(state) + length(context)), 0) AS bytes
    FROM actors WHERE ticket_id = ?`,
  actorSummary: `SELECT 1 AS n, settled, updated_at AS last, COALESCE(length(state) + length(context), 0) AS bytes
    FROM actors WHERE id = ? AND ticket_id IS NULL`,
  ticketActors: `SELECT ${ACTOR_COLUMNS} FROM actors WHERE ticket_id = ? ORDER BY id`,
  actor: `SELECT ${ACTOR_COLUMNS} FROM actors WHERE id = ? AND ticket_id IS NULL`,
  ticketEvents: `SELECT ${EVENT_COLUMNS} FROM events WHERE ticket_id = ? ORDER BY seq`,
  actorEvents: `SELECT ${EVENT_COLUMNS} FROM events WHERE task_id = ? AND ticket_id IS NULL ORDER BY seq`,
  deleteTicketTimers: 'DELETE FROM timers WHERE actor_id IN (SELECT id FROM actors WHERE ticket_id = ?)',
  deleteTicketEvents: 'DELETE FROM events WHERE ticket_id = ? RETURNING length(data) AS bytes',
  deleteTicketActors: 'DELETE FROM actors WHERE ticket_id = ?',
  deleteActorTimers: 'DELETE FROM timers WHERE actor_id = ?',
  deleteActorEvents: 'DELETE FROM events WHERE task_id = ? AND ticket_id IS NULL RETURNING length(data) AS bytes',
  deleteActor: 'DELETE FROM actors WHERE id = ? AND ticket_id IS NULL',
  pruneEvents: `DELETE FROM events WHERE seq IN (
      SELECT seq FROM events WHERE ticket_id IS NULL AND task_id IS NULL AND at < ? ORDER BY at LIMIT ?)
    RETURNING length(data) AS bytes`,
  importActor: `INSERT INTO actors (id, kind, machine_id, version, state, context, settled, ticket_id, updated_at, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
  importEvent: `INSERT INTO events (seq, type, at, ticket_id, task_id, agent_id, phase, data)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING`,
  appendAudit: 'INSERT INTO audit (at, actor, action, target, details) VALUES (?, ?, ?, ?, ?)',
  pruneAudit: `DELETE FROM audit WHERE seq IN (SELECT seq FROM audit WHERE at < ? ORDER BY at LIMIT ?)
    RETURNING length(details) + length(actor) + length(action) + COALESCE(length(target), 0) AS bytes`,
  actorCounts: 'SELECT settled, COUNT(*) AS n FROM actors GROUP BY settled',
  eventCount: 'SELECT COUNT(*) FROM events',
  auditCount: 'SELECT COUNT(*) FROM audit',
} as const;

interface Summary {
  n: number;
  settled: number | null;
  last: number | null;
  long?: number | null;
  bytes: number;
}

/**
 * Retention, import and the audit log of `SqliteStore`, on its connection. Each method is one
 * short synchronous transaction: the sweeper calls them in small batches between the engine's
 * own commits (SQLite serialises them; a batch of 100 units takes a few ms).
 */
export class SqliteRetention {
  private readonly statements = new Map<keyof typeof SQL, Stmt>();
  private readonly deleteAll: (units: readonly ExpiredUnit[]) => SweepCounts;
  private readonly importAll: (units: readonly UnitRecord[]) => { actors: number; events: number };
  private readonly appendAll: (entries: ReadonlyArray<Omit<AuditEntry, 'seq'>>) => AuditEntry[];

  constructor(private readonly db: Db) {
    this.deleteAll = db.transaction((units: readonly ExpiredUnit[]) => {
      const counts = noSweep();
      for (const unit of units) this.deleteUnit(unit, counts);
      return counts;
    });
    this.importAll = db.transaction((units: readonly UnitRecord[]) => {
      let actors = 0;
      let events = 0;
      for (const unit of units) {
        for (const a of unit.actors) {
          actors += this.stmt('importActor').run(
            actorRowValues(a, json(a.state), json(a.context), a.settled ? 1 : 0, a.updatedAt),
          ).changes;
        }
        for (const e of unit.events) {
          events += this.stmt('importEvent').run(eventRowValues(e, json(e.data))).changes;
        }
      }
      return { actors, events };
    });
    this.appendAll = db.transaction((entries: ReadonlyArray<Omit<AuditEntry, 'seq'>>) =>
      entries.map((e) => {
        const seq = Number(
          this.stmt('appendAudit').run(e.at, e.actor, e.action, e.target ?? null, json(e.details)).lastInsertRowid,
        );
        return {
          seq,
          at: e.at,
          actor: e.actor,
          action: e.action,
          target: e.target ?? null,
          details: structuredClone(e.details),
        };
      }),
    );
  }

  findExpired(query: ExpiryQuery): ExpiredUnit[] {
    const long = JSON.stringify(query.longStates.map((s) => JSON.stringify(s)));
    const found: ExpiredUnit[] = [];
    const scan = Math.max(16, query.limit * 2);
    let afterAt = Number.NEGATIVE_INFINITY;
    let afterId = '';
    // Candidates that turn out not to be expired (a ticket with a task still live) are passed
    // over by the cursor, so a page is always found when there is one.
    for (;;) {
      const rows = this.stmt('candidates').all({
        before: query.before,
        longBefore: query.longBefore,
        long,
        afterAt,
        afterId,
        scan,
      }) as Array<{
        id: string;
        kind: string;
        updatedAt: number;
      }>;
      for (const row of rows) {
        if (row.kind !== 'ticket') {
          found.push({ kind: 'actor', id: row.id, lastUpdatedAt: row.updatedAt });
        } else {
          const s = this.stmt('ticketSummary').get(long, row.id) as Summary;
          const limit = s.long === 1 ? Math.min(query.before, query.longBefore) : query.before;
          if (s.settled === 1 && s.last !== null && s.last < limit)
            found.push({ kind: 'ticket', id: row.id, lastUpdatedAt: s.last });
        }
        if (found.length >= query.limit) return found.slice(0, query.limit);
      }
      if (rows.length < scan) break;
      const last = rows[rows.length - 1] as { id: string; updatedAt: number };
      afterAt = last.updatedAt;
      afterId = last.id;
    }
    return found;
  }

  readUnit(unit: Pick<ExpiredUnit, 'kind' | 'id'>): UnitRecord {
    const actors = (
      unit.kind === 'ticket' ? this.stmt('ticketActors').all(unit.id) : this.stmt('actor').all(unit.id)
    ).map(decodeActor);
    const events = (
      unit.kind === 'ticket' ? this.stmt('ticketEvents').all(unit.id) : this.stmt('actorEvents').all(unit.id)
    ).map(decodeEvent);
    return { kind: unit.kind, id: unit.id, actors, events };
  }

  deleteUnits(units: readonly ExpiredUnit[]): SweepCounts {
    return this.deleteAll(units);
  }

  pruneEvents(before: number, limit: number): SweepCounts {
    const counts = noSweep();
    for (const row of this.stmt('pruneEvents').all(before, limit) as Array<{ bytes: number | null }>) {
      counts.events += 1;
      counts.bytes += row.bytes ?? 0;
    }
    return counts;
  }

  importUnits(units: readonly UnitRecord[]): { actors: number; events: number } {
    return this.importAll(units);
  }

  appendAudit(entries: ReadonlyArray<Omit<AuditEntry, 'seq'>>): AuditEntry[] {
    return this.appendAll(entries);
  }

  readAudit(query: AuditQuery): AuditEntry[] {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      if (value === undefined) return;
      where.push(sql);
      params.push(value);
    };
    add('actor = ?', query.actor);
    add('action = ?', query.action);
    add('target = ?', query.target);
    add('seq > ?', query.afterSeq);
    add('at >= ?', query.since);
    const order = query.order === 'oldest' ? 'ASC' : 'DESC';
    const sql = `SELECT seq, at, actor, action, target, details FROM audit ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY seq ${order} LIMIT ?`;
    return (this.db.prepare(sql).all(...params, query.limit ?? -1) as Array<Record<string, unknown>>).map((row) => ({
      ...(row as unknown as AuditEntry),
      details: parse(row['details']) as Record<string, unknown>,
    }));
  }

  pruneAudit(before: number, limit: number): SweepCounts {
    const counts = noSweep();
    for (const row of this.stmt('pruneAudit').all(before, limit) as Array<{ bytes: number | null }>) {
      counts.auditEntries += 1;
      counts.bytes += row.bytes ?? 0;
    }
    return counts;
  }

  storageStats(): StorageStats {
    let liveActors = 0;
    let settledActors = 0;
    for (const row of this.stmt('actorCounts').all() as Array<{ settled: number; n: number }>) {
      if (row.settled === 1) settledActors = row.n;
      else liveActors = row.n;
    }
    const events = this.stmt('eventCount').pluck().get() as number;
    const auditEntries = this.stmt('auditCount').pluck().get() as number;
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages =
      (this.db.pragma('page_count', { simple: true }) as number) -
      (this.db.pragma('freelist_count', { simple: true }) as number);
    return { liveActors, settledActors, events, auditEntries, bytes: pages * pageSize };
  }

  private deleteUnit(unit: ExpiredUnit, counts: SweepCounts): void {
    const ticket = unit.kind === 'ticket';
    const s = (ticket ? this.stmt('ticketSummary').get('[]', unit.id) : this.stmt('actorSummary').get(unit.id)) as
      Summary | undefined;
    // Changed since it was found (live again, written since, or gone): left whole.
    if (s === undefined || s.n === 0 || s.settled !== 1 || s.last === null || s.last > unit.lastUpdatedAt) return;
    this.stmt(ticket ? 'deleteTicketTimers' : 'deleteActorTimers').run(unit.id);
    for (const row of this.stmt(ticket ? 'deleteTicketEvents' : 'deleteActorEvents').all(unit.id) as Array<{
      bytes: number | null;
    }>) {
      counts.events += 1;
      counts.bytes += row.bytes ?? 0;
    }
    counts.actors += this.stmt(ticket ? 'deleteTicketActors' : 'deleteActor').run(unit.id).changes;
    counts.bytes += s.bytes;
    counts.units += 1;
  }

  private stmt(name: keyof typeof SQL): Stmt {
    let stmt = this.statements.get(name);
    if (stmt === undefined) {
      stmt = this.db.prepare(SQL[name]);
      this.statements.set(name, stmt);
    }
    return stmt;
  }
}

function json(value: unknown): string | null {
  try {
    return JSON.stringify(value) ?? null;
  } catch (error) {
    throw new TroupeError('E_NOT_SERIALIZABLE', `a value to store is not plain JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function parse(text: unknown): unknown {
  return typeof text === 'string' ? JSON.parse(text) : undefined;
}

function decodeActor(row: unknown): StoredActor {
  const r = row as Record<string, unknown>;
  r['state'] = parse(r['state']);
  r['context'] = parse(r['context']);
  r['settled'] = r['settled'] === 1;
  return r as unknown as StoredActor;
}

function decodeEvent(row: unknown): StoredEvent {
  const r = row as Record<string, unknown>;
  r['data'] = parse(r['data']);
  return r as unknown as StoredEvent;
}
