import type pg from 'pg';
import { TroupeError } from '../../core/errors.js';
import { noSweep } from './store.js';
import { actorRowValues, eventRowValues } from './store-rows.js';
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

type Row = Record<string, unknown>;

const ACTOR_COLUMNS = `id, kind, machine_id AS "machineId", version, state, context, settled,
  ticket_id AS "ticketId", updated_at AS "updatedAt"`;
const EVENT_COLUMNS = `seq, type, at, ticket_id AS "ticketId", task_id AS "taskId", agent_id AS "agentId", phase, data`;

/** Statements as data, as in postgres-sql.ts; `$n` parameters. */
export const RETENTION_SQL = {
  candidates: `SELECT id, kind, updated_at AS "updatedAt" FROM actors
    WHERE settled AND (ticket_id IS NULL OR kind = 'ticket') AND updated_at < $1
      AND (updated_at, id) > ($4::float8, $5::text COLLATE "C")
      AND (updated_at < $2 OR state IS NULL OR NOT (state = ANY($3::text[])))
    ORDER BY updated_at, id LIMIT $6`,
  ticketSummary: `SELECT count(*)::int AS n, bool_and(settled) AS settled, max(updated_at) AS last,
      bool_or(state = ANY($1::text[])) AS long, COALESCE(sum(length(state) + length(context)), 0)::float8 AS bytes
    FROM actors WHERE ticket_id = $2`,
  actorSummary: `SELECT 1 AS n, settled, updated_at AS last, COALESCE(length(state) + length(context), 0)::float8 AS bytes
    FROM actors WHERE id = $1 AND ticket_id IS NULL FOR UPDATE`,
  lockTicket: 'SELECT id FROM actors WHERE ticket_id = $1 FOR UPDATE',
  ticketActors: `SELECT ${ACTOR_COLUMNS} FROM actors WHERE ticket_id = $1 ORDER BY id`,
  actor: `SELECT ${ACTOR_COLUMNS} FROM actors WHERE id = $1 AND ticket_id IS NULL`,
  ticketEvents: `SELECT ${EVENT_COLUMNS} FROM events WHERE ticket_id = $1 ORDER BY seq`,
  actorEvents: `SELECT ${EVENT_COLUMNS} FROM events WHERE task_id = $1 AND ticket_id IS NULL ORDER BY seq`,
  deleteTicketTimers: 'DELETE FROM timers WHERE actor_id IN (SELECT id FROM actors WHERE ticket_id = $1)',
  deleteTicketEvents: 'DELETE FROM events WHERE ticket_id = $1 RETURNING length(data) AS bytes',
  deleteTicketActors: 'DELETE FROM actors WHERE ticket_id = $1',
  deleteActorTimers: 'DELETE FROM timers WHERE actor_id = $1',
  deleteActorEvents: 'DELETE FROM events WHERE task_id = $1 AND ticket_id IS NULL RETURNING length(data) AS bytes',
  deleteActor: 'DELETE FROM actors WHERE id = $1 AND ticket_id IS NULL',
  pruneEvents: `DELETE FROM events WHERE seq IN (
      SELECT seq FROM events WHERE ticket_id IS NULL AND task_id IS NULL AND at < $1 ORDER BY at LIMIT $2)
    RETURNING length(data) AS bytes`,
  importActor: `INSERT INTO actors (id, kind, machine_id, version, state, context, settled, ticket_id, updated_at, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
  importEvent: `INSERT INTO events (seq, type, at, ticket_id, task_id, agent_id, phase, data)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (seq) DO NOTHING`,
  appendAudit: 'INSERT INTO audit (at, actor, action, target, details) VALUES ($1, $2, $3, $4, $5) RETURNING seq',
  pruneAudit: `DELETE FROM audit WHERE seq IN (SELECT seq FROM audit WHERE at < $1 ORDER BY at LIMIT $2)
    RETURNING length(details) + length(actor) + length(action) + COALESCE(length(target), 0) AS bytes`,
  stats: `SELECT (SELECT count(*) FROM actors WHERE NOT settled)::float8 AS live,
      (SELECT count(*) FROM actors WHERE settled)::float8 AS settled,
      (SELECT count(*) FROM events)::float8 AS events, (SELECT count(*) FROM audit)::float8 AS audit,
      (SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind = 'r')::float8 AS bytes`,
} as const;

/**
 * Retention, import and the audit log of `PostgresStore` (the same contract as SQLite's
 * `SqliteRetention`): each call is one short transaction on a pooled connection; deletion locks
 * the unit's rows (`FOR UPDATE`) and re-checks it, so a node writing the unit meanwhile wins.
 */
export class PostgresRetention {
  constructor(private readonly pool: () => pg.Pool) {}

  async findExpired(query: ExpiryQuery): Promise<ExpiredUnit[]> {
    const long = query.longStates.map((s) => JSON.stringify(s));
    const found: ExpiredUnit[] = [];
    const scan = Math.max(16, query.limit * 2);
    let afterAt = -Number.MAX_VALUE;
    let afterId = '';
    for (;;) {
      const rows = (
        await this.pool().query<{ id: string; kind: string; updatedAt: number }>(RETENTION_SQL.candidates, [
          query.before,
          query.longBefore,
          long,
          afterAt,
          afterId,
          scan,
        ])
      ).rows;
      for (const row of rows) {
        if (row.kind !== 'ticket') found.push({ kind: 'actor', id: row.id, lastUpdatedAt: row.updatedAt });
        else {
          const s = (await this.pool().query<Row>(RETENTION_SQL.ticketSummary, [long, row.id])).rows[0] as Row;
          const limit = s['long'] === true ? Math.min(query.before, query.longBefore) : query.before;
          if (s['settled'] === true && typeof s['last'] === 'number' && s['last'] < limit)
            found.push({ kind: 'ticket', id: row.id, lastUpdatedAt: s['last'] });
        }
        if (found.length >= query.limit) return found.slice(0, query.limit);
      }
      if (rows.length < scan) return found;
      const last = rows[rows.length - 1] as { id: string; updatedAt: number };
      afterAt = last.updatedAt;
      afterId = last.id;
    }
  }

  async readUnit(unit: Pick<ExpiredUnit, 'kind' | 'id'>): Promise<UnitRecord> {
    const ticket = unit.kind === 'ticket';
    const actors = (
      await this.pool().query<Row>(ticket ? RETENTION_SQL.ticketActors : RETENTION_SQL.actor, [unit.id])
    ).rows.map(decodeActor);
    const events = (
      await this.pool().query<Row>(ticket ? RETENTION_SQL.ticketEvents : RETENTION_SQL.actorEvents, [unit.id])
    ).rows.map(decodeEvent);
    return { kind: unit.kind, id: unit.id, actors, events };
  }

  async deleteUnits(units: readonly ExpiredUnit[]): Promise<SweepCounts> {
    return this.transaction(async (client) => {
      const counts = noSweep();
      for (const unit of units) {
        const ticket = unit.kind === 'ticket';
        if (ticket) await client.query(RETENTION_SQL.lockTicket, [unit.id]);
        const s = (
          await client.query<Row>(
            ticket ? RETENTION_SQL.ticketSummary : RETENTION_SQL.actorSummary,
            ticket ? [[], unit.id] : [unit.id],
          )
        ).rows[0];
        if (
          s === undefined ||
          Number(s['n']) === 0 ||
          s['settled'] !== true ||
          typeof s['last'] !== 'number' ||
          s['last'] > unit.lastUpdatedAt
        )
          continue;
        await client.query(ticket ? RETENTION_SQL.deleteTicketTimers : RETENTION_SQL.deleteActorTimers, [unit.id]);
        for (const row of (
          await client.query<{ bytes: number | null }>(
            ticket ? RETENTION_SQL.deleteTicketEvents : RETENTION_SQL.deleteActorEvents,
            [unit.id],
          )
        ).rows) {
          counts.events += 1;
          counts.bytes += row.bytes ?? 0;
        }
        counts.actors +=
          (await client.query(ticket ? RETENTION_SQL.deleteTicketActors : RETENTION_SQL.deleteActor, [unit.id]))
            .rowCount ?? 0;
        counts.bytes += Number(s['bytes'] ?? 0);
        counts.units += 1;
      }
      return counts;
    });
  }

  async pruneEvents(before: number, limit: number): Promise<SweepCounts> {
    const counts = noSweep();
    for (const row of (await this.pool().query<{ bytes: number | null }>(RETENTION_SQL.pruneEvents, [before, limit]))
      .rows) {
      counts.events += 1;
      counts.bytes += row.bytes ?? 0;
    }
    return counts;
  }

  async importUnits(units: readonly UnitRecord[]): Promise<{ actors: number; events: number }> {
    return this.transaction(async (client) => {
      let actors = 0;
      let events = 0;
      for (const unit of units) {
        for (const a of unit.actors) {
          actors +=
            (
              await client.query(
                RETENTION_SQL.importActor,
                actorRowValues(a, json(a.state), json(a.context), a.settled, a.updatedAt),
              )
            ).rowCount ?? 0;
        }
        for (const e of unit.events) {
          events += (await client.query(RETENTION_SQL.importEvent, eventRowValues(e, json(e.data)))).rowCount ?? 0;
        }
      }
      return { actors, events };
    });
  }

  async appendAudit(entries: ReadonlyArray<Omit<AuditEntry, 'seq'>>): Promise<AuditEntry[]> {
    const texts = entries.map((e) => json(e.details));
    return this.transaction(async (client) => {
      const added: AuditEntry[] = [];
      for (const [i, e] of entries.entries()) {
        const seq = Number(
          (
            await client.query<{ seq: number }>(RETENTION_SQL.appendAudit, [
              e.at,
              e.actor,
              e.action,
              e.target ?? null,
              texts[i],
            ])
          ).rows[0]?.seq,
        );
        added.push({
          seq,
          at: e.at,
          actor: e.actor,
          action: e.action,
          target: e.target ?? null,
          details: JSON.parse(texts[i] ?? '{}') as Record<string, unknown>,
        });
      }
      return added;
    });
  }

  async readAudit(query: AuditQuery): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (column: string, op: string, value: unknown) => {
      if (value === undefined) return;
      params.push(value);
      where.push(`${column} ${op} $${params.length}`);
    };
    add('actor', '=', query.actor);
    add('action', '=', query.action);
    add('target', '=', query.target);
    add('seq', '>', query.afterSeq);
    add('at', '>=', query.since);
    params.push(query.limit ?? null);
    const sql = `SELECT seq, at, actor, action, target, details FROM audit ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY seq ${query.order === 'oldest' ? 'ASC' : 'DESC'} LIMIT $${params.length}`;
    return (await this.pool().query<Row>(sql, params)).rows.map((row) => ({
      ...(row as unknown as AuditEntry),
      details: JSON.parse(String(row['details'])) as Record<string, unknown>,
    }));
  }

  async pruneAudit(before: number, limit: number): Promise<SweepCounts> {
    const counts = noSweep();
    for (const row of (await this.pool().query<{ bytes: number | null }>(RETENTION_SQL.pruneAudit, [before, limit]))
      .rows) {
      counts.auditEntries += 1;
      counts.bytes += row.bytes ?? 0;
    }
    return counts;
  }

  async storageStats(): Promise<StorageStats> {
    const row = (await this.pool().query<Row>(RETENTION_SQL.stats)).rows[0] as Row;
    return {
      liveActors: Number(row['live']),
      settledActors: Number(row['settled']),
      events: Number(row['events']),
      auditEntries: Number(row['audit']),
      bytes: Number(row['bytes']),
    };
  }

  private async transaction<T>(run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool().connect();
    try {
      await client.query('BEGIN');
      const result = await run(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
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

function decodeActor(row: Row): StoredActor {
  row['state'] = parse(row['state']);
  row['context'] = parse(row['context']);
  return row as unknown as StoredActor;
}

function decodeEvent(row: Row): StoredEvent {
  row['data'] = parse(row['data']);
  return row as unknown as StoredEvent;
}
