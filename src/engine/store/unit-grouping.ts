import type { ExpiredUnit, ExpiryQuery, StoredActor } from './store.js';

/**
 * Retention's units worked out from actor records, for stores that hold them in the heap (the
 * memory store; a test double). SQLite and PostgreSQL do the same in SQL.
 */

/** What retention needs of one actor record. */
export type UnitMember = Pick<StoredActor, 'id' | 'kind' | 'settled' | 'ticketId' | 'updatedAt' | 'state'>;

/** The units of `members` expired under `query`, oldest first, at most `query.limit`. */
export function expiredUnits(members: Iterable<UnitMember>, query: ExpiryQuery): ExpiredUnit[] {
  const long = new Set(query.longStates);
  const tickets = new Map<string, { settled: boolean; last: number; long: boolean; hasTicket: boolean }>();
  const found: ExpiredUnit[] = [];
  const keep = (last: number, isLong: boolean) =>
    last < (isLong ? Math.min(query.before, query.longBefore) : query.before);
  for (const m of members) {
    const isLong = typeof m.state === 'string' && long.has(m.state);
    if (m.ticketId === null) {
      if (m.settled && keep(m.updatedAt, isLong)) found.push({ kind: 'actor', id: m.id, lastUpdatedAt: m.updatedAt });
      continue;
    }
    let unit = tickets.get(m.ticketId);
    if (unit === undefined) {
      unit = { settled: true, last: Number.NEGATIVE_INFINITY, long: false, hasTicket: false };
      tickets.set(m.ticketId, unit);
    }
    unit.settled &&= m.settled;
    unit.last = Math.max(unit.last, m.updatedAt);
    unit.long ||= isLong;
    if (m.kind === 'ticket' && m.id === m.ticketId) unit.hasTicket = true;
  }
  for (const [id, unit] of tickets) {
    // Actors of a ticket whose ticket record is gone are not a unit this sweep can vouch for.
    if (unit.hasTicket && unit.settled && keep(unit.last, unit.long))
      found.push({ kind: 'ticket', id, lastUpdatedAt: unit.last });
  }
  found.sort(compareUnits);
  return found.slice(0, Math.max(0, query.limit));
}

/** (lastUpdatedAt, id) order: the order `findExpired` pages in. */
export function compareUnits(a: ExpiredUnit, b: ExpiredUnit): number {
  if (a.lastUpdatedAt !== b.lastUpdatedAt) return a.lastUpdatedAt - b.lastUpdatedAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** True when the unit's members are still as `findExpired` found them: all settled, nothing newer. */
export function unitUnchanged(members: readonly UnitMember[], unit: ExpiredUnit): boolean {
  if (members.length === 0) return false;
  for (const m of members) if (!m.settled || m.updatedAt > unit.lastUpdatedAt) return false;
  return true;
}
