import type { PageRequest as StorePageRequest, ViewPage } from '../../../engine/api/view-paging.js';
import { HttpError } from './http-errors.js';

/** Where a page starts: after the item with this creation time and id (in the page's order). */
interface Cursor {
  at: number;
  id: string;
}

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
  order: 'newest' | 'oldest';
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * A page read by keyset from the store (`runtime.tasks.page` ...) as the HTTP API answers it:
 * the items and the next key as an opaque cursor.
 */
export function storePageOf<T>(page: ViewPage<T>): Page<T> {
  return {
    items: page.items,
    nextCursor: page.next === null ? null : encodeCursor({ at: page.next.createdAt, id: page.next.id }),
  };
}

/** What a store-paged list asks for: the query's paging with its cursor read back as a key. */
export function storePageRequest(request: PageRequest): StorePageRequest {
  const after = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
  return {
    limit: request.limit,
    order: request.order,
    ...(after !== undefined ? { after: { createdAt: after.at, id: after.id } } : {}),
  };
}

/**
 * Cursor paging over items held in memory (agents), ordered by (creation time, id). The cursor names the last item
 * sent, not an offset, so items created between two pages neither repeat nor push others out.
 * It is opaque to clients (base64url of JSON) and checked when read back.
 */
export function pageOf<T>(all: readonly T[], request: PageRequest, key: (item: T) => Cursor): Page<T> {
  const sign = request.order === 'newest' ? -1 : 1;
  const compare = (a: Cursor, b: Cursor) => sign * (a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const after = request.cursor === undefined ? null : decodeCursor(request.cursor);
  const sorted = all.map((item) => ({ item, at: key(item) })).sort((a, b) => compare(a.at, b.at));
  const rest = after === null ? sorted : sorted.filter((entry) => compare(entry.at, after) > 0);
  const items = rest.slice(0, request.limit);
  const last = items[items.length - 1];
  return {
    items: items.map((entry) => entry.item),
    nextCursor: rest.length > request.limit && last !== undefined ? encodeCursor(last.at) : null,
  };
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.at, cursor.id])).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string')
      return { at: value[0], id: value[1] };
  } catch {
    // answered below
  }
  throw new HttpError('E_INVALID_INPUT', 'cursor: not a cursor this server gave out (pass `nextCursor` as it came)', [
    'query',
    'cursor',
  ]);
}
