/**
 * Bulkheads: shares of agent capacity per class of work. Pure: the dispatcher passes in what runs
 * now and the capacity of the agents taking work, and gets a yes or the reason for a no.
 */

/**
 * A class of work with the agent slots it may use (`max`, or `maxShare` of all accepting slots)
 * and the slots kept for it (`reserved`): no other class may take those while it does not use them.
 */
export interface BulkheadDefinition {
  name: string;
  max?: number;
  /** A share of all accepting agents' capacity, 0 < share ≤ 1; at least one slot. */
  maxShare?: number;
  reserved?: number;
}

/** The slots a class may use at most now, or Infinity. */
export function bulkheadCap(def: BulkheadDefinition, totalCapacity: number): number {
  let cap = def.max ?? Infinity;
  if (def.maxShare !== undefined) cap = Math.min(cap, Math.max(1, Math.floor(def.maxShare * totalCapacity)));
  return cap;
}

/**
 * Whether one more task of class `name` (null: work of no class) may start: under its own cap,
 * and leaving every other class's unused reservation free.
 */
export function bulkheadAdmits(
  name: string | null,
  defs: ReadonlyMap<string, BulkheadDefinition>,
  running: ReadonlyMap<string, number>,
  totalCapacity: number,
  totalLoad: number,
): { ok: true } | { ok: false; reason: string; blockedBy: string } {
  const own = name === null ? undefined : defs.get(name);
  if (own && name !== null) {
    const cap = bulkheadCap(own, totalCapacity);
    const now = running.get(name) ?? 0;
    if (now >= cap)
      return { ok: false, reason: `bulkhead "${name}" is full: ${now} of ${cap} slots running`, blockedBy: name };
    // A class below its own reservation takes a free slot: its own. (When the reservations add
    // up to more than the capacity, the classes would otherwise keep each other from starting.)
    if ((own.reserved ?? 0) > now) return { ok: true };
  }
  let keptForOthers = 0;
  for (const [other, def] of defs) {
    if (other === name || !def.reserved) continue;
    keptForOthers += Math.max(0, def.reserved - (running.get(other) ?? 0));
  }
  const free = totalCapacity - totalLoad;
  if (keptForOthers > 0 && free - keptForOthers < 1) {
    return {
      ok: false,
      reason: `the ${free} free slots are reserved for other bulkheads (${keptForOthers} kept)`,
      blockedBy: '*reserved',
    };
  }
  return { ok: true };
}
