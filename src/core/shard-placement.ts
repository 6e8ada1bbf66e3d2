/**
 * Where an actor of a sharded cluster lives (`troupe serve --shards N`): pure rules, so that every
 * node places alike without asking another.
 *
 * - A ticket, with its phases, tasks and coordinators, lives in the shard of the ticket's id.
 * - A free task lives in the shard of its id; one that depends on stored tasks, in the shard of
 *   its first dependency (its dependencies must all be of one shard: a settle never has to cross).
 * - What a coordinator or a pattern run creates lives where its creator lives (one runtime).
 * - Something created without an id goes to a shard picked at random (the writer names it).
 */

/**
 * FNV-1a (32 bits) of a string's UTF-16 code units: small, fast, and the same on every node.
 *
 * @example
 * ```ts
 * fnv1a('build-42'); // an unsigned 32-bit number
 * ```
 */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The shard of an id among `count`: FNV-1a modulo the count.
 *
 * @example
 * ```ts
 * shardOfId('TK-7', 4); // 0, 1, 2 or 3, the same on every node
 * ```
 */
export function shardOfId(id: string, count: number): number {
  return count <= 1 ? 0 : fnv1a(id) % count;
}

/** Why a request cannot be placed in one shard. */
export interface PlacementRefusal {
  code: 'E_CROSS_SHARD_DEPENDENCY';
  message: string;
}

/**
 * The shard of the tasks of one create request: the shard of their dependencies on stored tasks
 * (`dependencyShards`, read from the store) if they have any, else of the first task's id, else
 * `fallback` (a shard picked at random). All the tasks go to one shard: one commit.
 *
 * @example
 * ```ts
 * placeTasks([{ id: 'b', dependsOn: ['a'] }], new Map([['a', 2]]), 4, 0); // { shard: 2 }
 * ```
 */
export function placeTasks(
  tasks: ReadonlyArray<{ id?: string; ticketId?: string; dependsOn?: ReadonlyArray<string | { id: string }> }>,
  dependencyShards: ReadonlyMap<string, number>,
  count: number,
  fallback: number,
): { shard: number } | PlacementRefusal {
  const newIds = new Set(tasks.flatMap((t) => (t.id === undefined ? [] : [t.id])));
  const shards = new Map<number, string>();
  for (const t of tasks) {
    for (const d of t.dependsOn ?? []) {
      const id = typeof d === 'string' ? d : d.id;
      const shard = dependencyShards.get(id);
      if (newIds.has(id) || shard === undefined) continue;
      if (!shards.has(shard)) shards.set(shard, id);
    }
  }
  const ticket = tasks.find((t) => t.ticketId !== undefined)?.ticketId;
  if (ticket !== undefined) {
    const own = dependencyShards.get(ticket) ?? shardOfId(ticket, count);
    if (!shards.has(own)) shards.set(own, ticket);
  }
  if (shards.size > 1) {
    const named = [...shards].map(([shard, id]) => `${id} (shard ${shard})`).join(', ');
    return {
      code: 'E_CROSS_SHARD_DEPENDENCY',
      message: `these tasks depend on work of different shards: ${named}; a task waits only on work of its own shard (put them in one ticket, or give them one root)`,
    };
  }
  const [only] = shards.keys();
  if (only !== undefined) return { shard: only };
  const first = tasks[0]?.id;
  return { shard: first === undefined ? fallback : shardOfId(first, count) };
}
