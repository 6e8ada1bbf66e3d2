import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../src/engine/store/store.js';
import type { StoreUnderTest } from './store-conformance.js';

export interface LeaseConformanceOptions {
  /**
   * `database`: the store keeps time on its own clock (PostgreSQL) and ignores `now`, so a lease
   * is let run out by waiting a few real milliseconds past a short ttl.
   */
  clock?: 'caller' | 'database';
}

/** The lease part of the Store contract (leader election), shared by every store. */
export function describeLeaseConformance(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
  options: LeaseConformanceOptions = {},
): void {
  describe(`Lease conformance: ${name}`, () => {
    let made: StoreUnderTest;
    let store: Store;
    const onDatabaseClock = options.clock === 'database';
    /** A ttl short enough to run out within `runOut()` on a database clock. */
    const SHORT = onDatabaseClock ? 30 : 1_000;
    let now = 1_000_000;
    const runOut = async () => {
      now += SHORT + 1;
      if (onDatabaseClock) await new Promise((resolve) => setTimeout(resolve, SHORT + 20));
    };

    beforeEach(async () => {
      made = await makeStore();
      store = made.store;
      await store.open();
    });
    afterEach(async () => {
      await store.close();
      await made.cleanup?.();
    });

    it('the first taker gets epoch 1; a renewal keeps the epoch and moves the expiry', async () => {
      const first = await store.tryLease('sweeper', 'node-a', 60_000, now);
      expect(first).toMatchObject({ name: 'sweeper', holder: 'node-a', epoch: 1 });
      now += 10;
      const renewed = await store.tryLease('sweeper', 'node-a', 60_000, now);
      expect(renewed).toMatchObject({ holder: 'node-a', epoch: 1, acquiredAt: first?.acquiredAt });
      expect(renewed!.expiresAt).toBeGreaterThanOrEqual(first!.expiresAt);
      expect(await store.getLease('sweeper')).toEqual(renewed);
      expect(await store.getLease('other')).toBeUndefined();
    });

    it('nobody else takes a lease that has not run out', async () => {
      await store.tryLease('sweeper', 'node-a', 60_000, now);
      expect(await store.tryLease('sweeper', 'node-b', 60_000, now + 1)).toBeUndefined();
      expect((await store.getLease('sweeper'))?.holder).toBe('node-a');
    });

    it('a lease that ran out goes to the next taker with the next epoch; the old holder cannot renew it', async () => {
      await store.tryLease('sweeper', 'node-a', SHORT, now);
      await runOut();
      expect(await store.tryLease('sweeper', 'node-b', 60_000, now)).toMatchObject({ holder: 'node-b', epoch: 2 });
      expect(await store.tryLease('sweeper', 'node-a', 60_000, now)).toBeUndefined();
      expect((await store.leaseHistory('sweeper')).map((t) => [t.epoch, t.holder])).toEqual([
        [1, 'node-a'],
        [2, 'node-b'],
      ]);
    });

    it('a release lets the next taker in at once, and only the holder of that epoch can release', async () => {
      const held = await store.tryLease('sweeper', 'node-a', 60_000, now);
      await store.releaseLease('sweeper', 'node-b', held!.epoch);
      await store.releaseLease('sweeper', 'node-a', held!.epoch + 1);
      expect(await store.tryLease('sweeper', 'node-b', 60_000, now)).toBeUndefined();
      await store.releaseLease('sweeper', 'node-a', held!.epoch);
      expect(await store.tryLease('sweeper', 'node-b', 60_000, now)).toMatchObject({ holder: 'node-b', epoch: 2 });
    });

    it('leases of different names are independent', async () => {
      expect(await store.tryLease('a', 'node-a', 60_000, now)).toMatchObject({ epoch: 1 });
      expect(await store.tryLease('b', 'node-b', 60_000, now)).toMatchObject({ epoch: 1 });
      expect(await store.leaseHistory('c')).toEqual([]);
    });

    it('of many takers at once exactly one gets the lease', async () => {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.tryLease('race', `node-${i}`, 60_000, now)),
      );
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      expect(await store.leaseHistory('race')).toHaveLength(1);
    });
  });
}
