import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock, type Runtime } from '../src/index.js';
import { SqliteStore } from '../src/engine/store/sqlite-store.js';
import type { LeaderTerm, Leadership } from '../src/features/coordination/leader-election.js';

/**
 * runtime.coordination.leader(name) on one machine: two runtimes on one SQLite file stand for
 * two nodes. Each has its own simulated clock, so one can be frozen (a SIGSTOP) while the other
 * moves on.
 */
const silent = pino({ level: 'silent' });

describe('runtime.coordination.leader', () => {
  let dir: string;
  let path: string;
  const runtimes: Runtime[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-leader-'));
    path = join(dir, 'troupe.db');
  });
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function node(clock: SimulatedClock): Promise<Runtime> {
    const runtime = createRuntime({ store: new SqliteStore({ path }), clock, logger: silent });
    runtimes.push(runtime);
    await runtime.start();
    return runtime;
  }

  /** Every election event of a leadership, as [event, epoch, reason?]. */
  function record(l: Leadership): Array<[string, number, string?]> {
    const seen: Array<[string, number, string?]> = [];
    l.on('elected', (t: LeaderTerm) => seen.push(['elected', t.epoch]));
    l.on('lost', (t) => seen.push(['lost', t.epoch, t.reason]));
    return seen;
  }

  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

  it('elects one of two nodes; the other takes over when the first stops', async () => {
    const clock = new SimulatedClock(1_000_000);
    const a = (await node(clock)).coordination.leader('sweeper', { ttlMs: 9_000, holder: 'a' });
    const seenA = record(a);
    await settle();
    const b = (await node(clock)).coordination.leader('sweeper', { ttlMs: 9_000, holder: 'b' });
    const seenB = record(b);
    await settle();
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    expect(seenA).toEqual([['elected', 1]]);

    // Renewals keep the term for as long as the leader runs.
    for (let i = 0; i < 10; i++) await clock.advance(3_000);
    expect([a.isLeader, b.isLeader, a.epoch]).toEqual([true, false, 1]);

    await runtimes[0]!.stop();
    expect(seenA).toEqual([
      ['elected', 1],
      ['lost', 1, 'stopped'],
    ]);
    await clock.advance(3_000); // b's next ask finds the lease let go
    await settle();
    expect(b.isLeader).toBe(true);
    expect(seenB).toEqual([['elected', 2]]);
  });

  it('a leader that stalls past its lease hears "lost" on waking, and the other node leads with the next epoch', async () => {
    const clockA = new SimulatedClock(1_000_000);
    const clockB = new SimulatedClock(1_000_000);
    const a = (await node(clockA)).coordination.leader('retention', { ttlMs: 9_000, holder: 'a' });
    const seenA = record(a);
    await settle();
    const b = (await node(clockB)).coordination.leader('retention', { ttlMs: 9_000, holder: 'b' });
    const seenB = record(b);
    await settle();
    expect(a.isLeader).toBe(true);

    // a is frozen (its clock stands still); b's time runs past a's lease.
    for (let i = 0; i < 4; i++) {
      await clockB.advance(3_000);
      await settle();
    }
    expect(b.isLeader).toBe(true);
    expect(seenB).toEqual([['elected', 2]]);

    // a wakes: its first renewal, due before its own expiry, finds the lease taken.
    await clockA.advance(12_000);
    await settle();
    expect(a.isLeader).toBe(false);
    expect(seenA).toEqual([
      ['elected', 1],
      ['lost', 1, 'taken'],
    ]);
    const history = await runtimes[1]!.store.leaseHistory('retention');
    expect(history.map((t) => [t.epoch, t.holder])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
  });

  it('a leader that cannot reach the store within its lease steps down on its own clock', async () => {
    const clock = new SimulatedClock(1_000_000);
    const runtime = await node(clock);
    const a = runtime.coordination.leader('solo', { ttlMs: 9_000, holder: 'a' });
    const seen = record(a);
    await settle();
    expect(a.isLeader).toBe(true);
    // Every later ask hangs, as on a store that stopped answering.
    runtime.store.tryLease = () => new Promise(() => undefined);
    await clock.advance(9_000);
    expect(seen).toEqual([
      ['elected', 1],
      ['lost', 1, 'expired'],
    ]);
  });

  it('refuses bad options', async () => {
    const runtime = await node(new SimulatedClock(0));
    expect(() => runtime.coordination.leader('x', { ttlMs: 0 })).toThrow(/ttlMs/);
    expect(() => runtime.coordination.leader('x', { ttlMs: 1000, renewEveryMs: 1000 })).toThrow(/renewEveryMs/);
    expect(() => runtime.coordination.leader('')).toThrow(/name/);
  });
});
