import type { ActorCursor, ActorPage, StoredActor } from './store.js';

/**
 * What every store's `pageActors` shares: the order of keys and how a page is cut. A store reads
 * `limit + 1` rows from the key on; the extra row only says that another page follows.
 */

/** Ascending order of keys: creation time, then id (compared as the stores compare text ids). */
export function compareActorKeys(a: ActorCursor, b: ActorCursor): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** A page of at most `limit` of `rows` (read in the page's order, `limit + 1` of them when more follow). */
export function pageFromRows(rows: Array<{ actor: StoredActor; createdAt: number }>, limit: number): ActorPage {
  const items = rows.slice(0, Math.max(0, limit));
  const last = items[items.length - 1];
  return {
    items,
    next: rows.length > items.length && last !== undefined ? { createdAt: last.createdAt, id: last.actor.id } : null,
  };
}
