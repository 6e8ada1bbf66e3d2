/**
 * The wait-for graph of shared resources: who holds and who waits for what, across every
 * resource actor, so that a request that would close a cycle (A holds X and waits for Y while B
 * holds Y and waits for X) is refused with the cycle named instead of hanging. Derived from the
 * resource actors' snapshots (they report every change), rebuilt from them after a restart.
 */

interface Membership {
  holders: string[];
  /** In queue order. */
  waiters: string[];
}

export class WaitForGraph {
  private readonly resources = new Map<string, Membership>();
  /** Resources each owner holds or waits for: what to release when that owner (a task) settles. */
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly waitingOn = new Map<string, Set<string>>();

  /** Records a resource's new membership; returns the owners that started waiting. */
  update(resource: string, holders: readonly string[], waiters: readonly string[]): string[] {
    const before = this.resources.get(resource) ?? { holders: [], waiters: [] };
    for (const owner of [...before.holders, ...before.waiters]) this.unlink(this.byOwner, owner, resource);
    for (const owner of before.waiters) this.unlink(this.waitingOn, owner, resource);
    const next: Membership = { holders: [...holders], waiters: [...waiters] };
    if (next.holders.length === 0 && next.waiters.length === 0) this.resources.delete(resource);
    else this.resources.set(resource, next);
    for (const owner of [...next.holders, ...next.waiters]) this.link(this.byOwner, owner, resource);
    for (const owner of next.waiters) this.link(this.waitingOn, owner, resource);
    return next.waiters.filter((w) => !before.waiters.includes(w));
  }

  /** Resources an owner holds or waits for. */
  resourcesOf(owner: string): string[] {
    return [...(this.byOwner.get(owner) ?? [])];
  }

  /**
   * A cycle through `owner`, if one exists: `[owner, resource, blocker, resource, ..., owner]`.
   * A waiter is blocked by the holders of what it waits for and by the waiters queued before it
   * (the queue is strictly first come, first served).
   */
  findCycle(owner: string): string[] | null {
    const visited = new Set<string>();
    const walk = (current: string, path: string[]): string[] | null => {
      for (const resource of [...(this.waitingOn.get(current) ?? [])].sort()) {
        for (const blocker of this.blockers(resource, current)) {
          if (blocker === owner) return [...path, resource, owner];
          if (visited.has(blocker)) continue;
          visited.add(blocker);
          const found = walk(blocker, [...path, resource, blocker]);
          if (found) return found;
        }
      }
      return null;
    };
    return walk(owner, [owner]);
  }

  private blockers(resource: string, waiter: string): string[] {
    const m = this.resources.get(resource);
    if (!m) return [];
    const position = m.waiters.indexOf(waiter);
    return [...m.holders.filter((h) => h !== waiter), ...m.waiters.slice(0, Math.max(0, position))];
  }

  private link(map: Map<string, Set<string>>, owner: string, resource: string): void {
    let set = map.get(owner);
    if (!set) {
      set = new Set();
      map.set(owner, set);
    }
    set.add(resource);
  }

  private unlink(map: Map<string, Set<string>>, owner: string, resource: string): void {
    const set = map.get(owner);
    if (!set) return;
    set.delete(resource);
    if (set.size === 0) map.delete(owner);
  }
}

/** `a -> "x" -> b -> "y" -> a`: owners and (quoted) resources alternate along the cycle. */
export function describeCycle(cycle: readonly string[]): string {
  return cycle.map((step, i) => (i % 2 === 1 ? `"${step}"` : step)).join(' -> ');
}
