import type { ExpiredUnit, Store } from '../store/store.js';

/** What the count limit needs of a dead letter: the task and the ticket it belongs to. */
export interface DeadLetterRef {
  id: string;
  ticketId: string | null;
}

/**
 * The dead letters in force, oldest first (by when they were dead-lettered). The runtime answers
 * from its dead-letter index, so the count limit never scans settled work.
 */
export type DeadLetterSource = () => Promise<readonly DeadLetterRef[]>;

/** The unit a dead letter is removed with: its ticket whole, or the task alone. */
function unitOf(d: DeadLetterRef): Pick<ExpiredUnit, 'kind' | 'id'> {
  return d.ticketId === null ? { kind: 'actor', id: d.id } : { kind: 'ticket', id: d.ticketId };
}

/**
 * The units to remove so that at most `maxCount` dead letters remain: those of the oldest dead
 * letters, each a finished unit (a ticket with anything still live is passed over, its dead
 * letters kept and counted), at most `limit` units. A ticket holding several dead letters
 * removes them all at once.
 */
export async function unitsOverCount(
  store: Store,
  letters: readonly DeadLetterRef[],
  maxCount: number,
  limit: number,
): Promise<ExpiredUnit[]> {
  let excess = letters.length - maxCount;
  if (excess <= 0) return [];
  const perUnit = new Map<string, number>();
  const key = (u: Pick<ExpiredUnit, 'kind' | 'id'>) => `${u.kind}:${u.id}`;
  for (const d of letters) perUnit.set(key(unitOf(d)), (perUnit.get(key(unitOf(d))) ?? 0) + 1);
  const looked = new Set<string>();
  const chosen: ExpiredUnit[] = [];
  for (const d of letters) {
    if (excess <= 0 || chosen.length >= limit) break;
    const unit = unitOf(d);
    const k = key(unit);
    if (looked.has(k)) continue;
    looked.add(k);
    const record = await store.readUnit(unit);
    // A ticket's unit needs the ticket itself; every member settled.
    if (record.actors.length === 0 || !record.actors.every((a) => a.settled)) continue;
    if (unit.kind === 'ticket' && !record.actors.some((a) => a.id === unit.id && a.kind === 'ticket')) continue;
    const lastUpdatedAt = Math.max(...record.actors.map((a) => a.updatedAt));
    chosen.push({ ...unit, lastUpdatedAt });
    excess -= perUnit.get(k) ?? 1;
  }
  return chosen;
}
