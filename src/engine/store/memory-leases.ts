import type { Lease, LeaseStore, LeaseTerm } from './store.js';

/** Leases kept in memory, for the memory store (one process, so the runtime clock decides). */
export class MemoryLeases implements LeaseStore {
  private readonly leases = new Map<string, Lease>();
  private readonly history = new Map<string, LeaseTerm[]>();

  async tryLease(name: string, holder: string, ttlMs: number, now: number): Promise<Lease | undefined> {
    const current = this.leases.get(name);
    if (current !== undefined && current.holder !== holder && current.expiresAt > now) return undefined;
    const renewal = current !== undefined && current.holder === holder;
    const lease: Lease = {
      name,
      holder,
      epoch: renewal ? current.epoch : (current?.epoch ?? 0) + 1,
      acquiredAt: renewal ? current.acquiredAt : now,
      expiresAt: now + ttlMs,
    };
    this.leases.set(name, lease);
    if (!renewal) {
      const terms = this.history.get(name) ?? [];
      terms.push({ epoch: lease.epoch, holder, acquiredAt: now });
      this.history.set(name, terms);
    }
    return { ...lease };
  }

  async releaseLease(name: string, holder: string, epoch: number): Promise<void> {
    const current = this.leases.get(name);
    if (current !== undefined && current.holder === holder && current.epoch === epoch) current.expiresAt = -Infinity;
  }

  async getLease(name: string): Promise<Lease | undefined> {
    const lease = this.leases.get(name);
    return lease === undefined ? undefined : { ...lease };
  }

  async leaseHistory(name: string): Promise<LeaseTerm[]> {
    return (this.history.get(name) ?? []).map((t) => ({ ...t }));
  }
}
