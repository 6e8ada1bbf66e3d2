import type { StoredActor, StoredEvent } from './store.js';

/**
 * The values of one `actors` row, in the column order every store's SQL uses: id, kind,
 * machine_id, version, state, context, settled, ticket_id, updated_at, created_at. The JSON
 * columns come serialised; `settled` as the driver binds it (SQLite 0/1, PostgreSQL a boolean).
 *
 * @example
 * ```ts
 * statement.run(actorRowValues(actor, JSON.stringify(actor.state), JSON.stringify(actor.context), 1, createdAt));
 * ```
 */
export function actorRowValues(
  a: StoredActor,
  state: string | null | undefined,
  context: string | null | undefined,
  settled: number | boolean,
  createdAt: number,
): unknown[] {
  return [a.id, a.kind, a.machineId, a.version, state, context, settled, a.ticketId ?? null, a.updatedAt, createdAt];
}

/**
 * The values of one `events` row, in column order: seq, type, at, ticket_id, task_id, agent_id,
 * phase, data (serialised).
 *
 * @example
 * ```ts
 * statement.run(eventRowValues(event, JSON.stringify(event.data)));
 * ```
 */
export function eventRowValues(e: StoredEvent, data: string | null | undefined): unknown[] {
  return [e.seq, e.type, e.at, e.ticketId ?? null, e.taskId ?? null, e.agentId ?? null, e.phase ?? null, data];
}
