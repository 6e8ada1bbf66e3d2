import { placeTasks, shardOfId, type PlacementRefusal } from '../../../core/shard-placement.js';

/** Where a request to the HTTP API of a sharded cluster goes. */
export type ShardRoute =
  /** A read: any shard's server answers it (reads see every shard). */
  | { kind: 'any' }
  /** A write of one shard's actors: that shard's writer answers it. */
  | { kind: 'shard'; shard: number }
  /** Refused before it reaches a writer. */
  | { kind: 'refused'; status: number; code: string; message: string };

/** The ids whose stored shard decides a write, read with one query by the caller. */
export type ShardLookup = (ids: readonly string[]) => Promise<ReadonlyMap<string, number>>;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const stringOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * The shard a request of the HTTP API belongs to, in a cluster of `count` shards: creates by the
 * placement rules (`core/shard-placement.ts`), steering calls (`/v1/tasks/{id}/cancel`, a redrive
 * by ids) by the stored shard of what they name, reads anywhere. A write that would have to touch
 * several shards at once is refused, so a writer never writes another shard's actor.
 *
 * @example
 * ```ts
 * await routeRequest('POST', '/v1/tickets', { id: 'TK-1', title: 't', phases: [] }, 4, lookup, 0); // { kind: 'shard', shard: ... }
 * ```
 */
export async function routeRequest(
  method: string,
  path: string,
  body: unknown,
  count: number,
  lookup: ShardLookup,
  random: number,
): Promise<ShardRoute> {
  if (method === 'GET' || method === 'HEAD') return { kind: 'any' };
  if (path === '/v1/tasks') {
    const tasks = (isObject(body) && Array.isArray(body['tasks']) ? body['tasks'] : [body]).filter(isObject);
    const spec = tasks.map((t) => ({
      ...(stringOf(t['id']) !== undefined ? { id: stringOf(t['id']) } : {}),
      ...(stringOf(t['ticketId']) !== undefined ? { ticketId: stringOf(t['ticketId']) } : {}),
      dependsOn: (Array.isArray(t['dependsOn']) ? t['dependsOn'] : []).flatMap((d: unknown) => {
        const id = isObject(d) ? stringOf(d['id']) : stringOf(d);
        return id === undefined ? [] : [id];
      }),
    }));
    const ids = spec.flatMap((t) => [...t.dependsOn, ...(t.ticketId === undefined ? [] : [t.ticketId])]);
    return fromPlacement(placeTasks(spec, await lookup(ids), count, random));
  }
  if (path === '/v1/tickets') {
    const id = isObject(body) ? stringOf(body['id']) : undefined;
    const shard = id === undefined ? random : shardOfId(id, count);
    // A ticket's tasks may wait on stored tasks: only on those of the ticket's own shard.
    const foreign = [...(await lookup(dependencyIdsIn(body))).entries()].filter(([, s]) => s !== shard);
    if (foreign.length > 0) {
      return fromPlacement({
        code: 'E_CROSS_SHARD_DEPENDENCY',
        message: `ticket ${id ?? '(new)'} (shard ${shard}) has tasks that depend on ${foreign.map(([d, s]) => `${d} (shard ${s})`).join(', ')}; a task waits only on work of its own shard`,
      });
    }
    return { kind: 'shard', shard };
  }
  if (path === '/v1/runs') {
    const ticket = isObject(body) ? stringOf(body['ticketId']) : undefined;
    const id = isObject(body) ? stringOf(body['id']) : undefined;
    if (ticket !== undefined)
      return { kind: 'shard', shard: (await lookup([ticket])).get(ticket) ?? shardOfId(ticket, count) };
    return { kind: 'shard', shard: id === undefined ? random : shardOfId(id, count) };
  }
  if (path === '/v1/dead-letters/redrive') {
    const ids = isObject(body) && Array.isArray(body['ids']) ? body['ids'].filter((i) => typeof i === 'string') : [];
    const shards = new Set((await lookup(ids)).values());
    if (ids.length > 0 && shards.size === 1) return { kind: 'shard', shard: [...shards][0] ?? 0 };
    return {
      kind: 'refused',
      status: 422,
      code: 'E_INVALID_INPUT',
      message:
        shards.size > 1
          ? 'in a sharded cluster a redrive names dead letters of one shard at a time; these ids are of several'
          : 'in a sharded cluster a redrive names its dead letters by `ids` (filters and `all` are not routed yet)',
    };
  }
  // Any other write names what it steers in its path (`/v1/tasks/{id}/cancel`): that actor's shard.
  const named = /^\/v1\/[^/]+\/([^/]+)(?:\/[^/]+)?$/.exec(path);
  if (named !== null) {
    const id = decodeURIComponent(named[1] ?? '');
    return { kind: 'shard', shard: (await lookup([id])).get(id) ?? shardOfId(id, count) };
  }
  return { kind: 'any' };
}

/** Every id named in a `dependsOn` list anywhere in a request body. */
function dependencyIdsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) dependencyIdsIn(item, found);
  else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'dependsOn' && Array.isArray(item)) {
        for (const d of item) {
          const id = isObject(d) ? stringOf(d['id']) : stringOf(d);
          if (id !== undefined) found.push(id);
        }
      } else dependencyIdsIn(item, found);
    }
  }
  return found;
}

function fromPlacement(placed: { shard: number } | PlacementRefusal): ShardRoute {
  if ('shard' in placed) return { kind: 'shard', shard: placed.shard };
  return { kind: 'refused', status: 422, code: placed.code, message: placed.message };
}
