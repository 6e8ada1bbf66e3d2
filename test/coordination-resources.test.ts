import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, MemoryStore, SimulatedClock, TroupeError } from '../src/index.js';
import { harness, type Harness } from './runtime/helpers.js';

/** Whether a promise has settled yet (after the runtime went idle). */
async function settled(h: Harness, p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await h.runtime.idle();
  return done;
}

describe('locks and semaphores', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('an exclusive lock admits one holder; the next in line gets it on release with a higher fencing token', async () => {
    h = await harness();
    const res = h.runtime.coordination.resources;
    const a = await res.acquire({ resource: 'schema', owner: 'A' });
    expect(a).toMatchObject({ resource: 'schema', owner: 'A', mode: 'exclusive', token: 1, expiresAt: null });
    const b = res.acquire({ resource: 'schema', owner: 'B' });
    expect(await settled(h, b)).toBe(false);
    expect((await res.get('schema')).waiters).toEqual([{ owner: 'B', mode: 'exclusive' }]);
    await res.release('schema', 'A');
    expect(await b).toMatchObject({ owner: 'B', token: 2 });
    expect(h.of('coordination.resource.granted').map((e) => e.data.owner)).toEqual(['A', 'B']);
  });

  it('shared holders share; a writer waits for them, and readers after a waiting writer wait too (first come, first served)', async () => {
    h = await harness();
    const res = h.runtime.coordination.resources;
    await res.acquire({ resource: 'doc', owner: 'r1', mode: 'shared' });
    await res.acquire({ resource: 'doc', owner: 'r2', mode: 'shared' });
    const writer = res.acquire({ resource: 'doc', owner: 'w', mode: 'exclusive' });
    const lateReader = res.acquire({ resource: 'doc', owner: 'r3', mode: 'shared' });
    expect(await settled(h, writer)).toBe(false);
    expect(await settled(h, lateReader)).toBe(false);
    await res.release('doc', 'r1');
    await res.release('doc', 'r2');
    expect((await writer).owner).toBe('w');
    expect(await settled(h, lateReader)).toBe(false);
    await res.release('doc', 'w');
    expect((await lateReader).owner).toBe('r3');
  });

  it('a semaphore of 2: at most two at once touch the database schema', async () => {
    h = await harness();
    const res = h.runtime.coordination.resources;
    await res.define({ name: 'db-schema', kind: 'semaphore', permits: 2 });
    await res.define({ name: 'db-schema', kind: 'semaphore', permits: 2 }); // the same again is fine
    await expect(res.define({ name: 'db-schema', kind: 'lock' })).rejects.toMatchObject({ code: 'E_INVALID_STATE' });
    const grants = ['m1', 'm2', 'm3'].map((owner) => res.acquire({ resource: 'db-schema', owner }));
    expect(await settled(h, grants[2] as Promise<unknown>)).toBe(false);
    expect((await res.get('db-schema')).holders.map((g) => g.owner)).toEqual(['m1', 'm2']);
    await res.release('db-schema', 'm1');
    expect(await grants[2]).toMatchObject({ owner: 'm3', mode: 'shared', token: 3 });
  });

  it('fencing: once a lease expires the next holder gets a newer token and the old one is refused', async () => {
    h = await harness();
    const res = h.runtime.coordination.resources;
    const first = await res.acquire({ resource: 'index', owner: 'slow-agent', leaseMs: 1_000 });
    const second = res.acquire({ resource: 'index', owner: 'fast-agent', leaseMs: 1_000 });
    await res.assertFence('index', first.token);
    await h.clock.advance(999);
    expect(await settled(h, second)).toBe(false);
    await h.clock.advance(1);
    const next = await second;
    expect(next).toMatchObject({ owner: 'fast-agent', token: first.token + 1, grantedAt: 1_000, expiresAt: 2_000 });
    expect(h.of('coordination.resource.expired')[0]?.data).toMatchObject({ owner: 'slow-agent', token: first.token });
    // The slow agent wakes up and tries to write with its old token: refused.
    await expect(res.assertFence('index', first.token)).rejects.toMatchObject({ code: 'E_LEASE_MISMATCH' });
    await res.assertFence('index', next.token);
    expect(await res.checkFence('index', 999)).toBe(false);
  });

  it('asking again renews the lease and keeps the token; another mode is refused', async () => {
    h = await harness();
    const res = h.runtime.coordination.resources;
    const g = await res.acquire({ resource: 'r', owner: 'o', leaseMs: 100 });
    await h.clock.advance(50);
    expect(await res.acquire({ resource: 'r', owner: 'o', leaseMs: 100 })).toMatchObject({
      token: g.token,
      expiresAt: 150,
    });
    await expect(res.acquire({ resource: 'r', owner: 'o', mode: 'shared' })).rejects.toThrow(
      /already holds "r" exclusive/,
    );
  });

  it('waitMs bounds the wait: 0 means try once, otherwise E_TIMEOUT on the simulated clock', async () => {
    h = await harness();
    const res = h.runtime.coordination.resources;
    await res.acquire({ resource: 'busy', owner: 'holder' });
    await expect(res.acquire({ resource: 'busy', owner: 'now', waitMs: 0 })).rejects.toMatchObject({
      code: 'E_TIMEOUT',
      message: '"busy" is busy',
    });
    const patient = res.acquire({ resource: 'busy', owner: 'later', waitMs: 500 });
    const outcome = patient.catch((e: unknown) => e);
    await h.clock.advance(500);
    expect(await outcome).toMatchObject({ code: 'E_TIMEOUT', message: 'gave up waiting for "busy" after 500 ms' });
    expect((await res.get('busy')).waiters).toEqual([]);
  });

  it('a wait-for cycle is refused with the cycle named, instead of hanging', async () => {
    h = await harness();
    const res = h.runtime.coordination.resources;
    await res.acquire({ resource: 'X', owner: 'A' });
    await res.acquire({ resource: 'Y', owner: 'B' });
    const aWaitsForY = res.acquire({ resource: 'Y', owner: 'A' });
    expect(await settled(h, aWaitsForY)).toBe(false);
    const error = await res.acquire({ resource: 'X', owner: 'B' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TroupeError);
    expect(error).toMatchObject({
      code: 'E_DEPENDENCY_CYCLE',
      message: 'wait-for cycle: B -> "X" -> A -> "Y" -> B',
      details: { cycle: ['B', 'X', 'A', 'Y', 'B'] },
    });
    expect(h.of('coordination.resource.deadlock')[0]?.data).toMatchObject({ resource: 'X', owner: 'B' });
    // The earlier request still waits and is served once B lets go.
    await res.release('Y', 'B');
    expect((await aWaitsForY).owner).toBe('A');
  });

  it('a three-way cycle through queued waiters is found too', async () => {
    h = await harness();
    const res = h.runtime.coordination.resources;
    await res.acquire({ resource: 'R1', owner: 'P1' });
    await res.acquire({ resource: 'R2', owner: 'P2' });
    await res.acquire({ resource: 'R3', owner: 'P3' });
    // Still waiting when the runtime stops, which rejects them (E_RUNTIME_STOPPED).
    const stillWaiting = [res.acquire({ resource: 'R2', owner: 'P1' }), res.acquire({ resource: 'R3', owner: 'P2' })];
    for (const p of stillWaiting) p.catch(() => undefined);
    await h.runtime.idle();
    await expect(res.acquire({ resource: 'R1', owner: 'P3' })).rejects.toThrow(
      'wait-for cycle: P3 -> "R1" -> P1 -> "R2" -> P2 -> "R3" -> P3',
    );
  });
});

describe('resources across a restart', () => {
  it('holders, waiters, fencing counter and the wait-for graph survive', async () => {
    const store = new MemoryStore();
    const first = createRuntime({ store, clock: new SimulatedClock(0) });
    await first.coordination.resources.acquire({ resource: 'X', owner: 'A', leaseMs: 10_000 });
    await first.coordination.resources.acquire({ resource: 'Y', owner: 'B' });
    const waiting = first.coordination.resources.acquire({ resource: 'Y', owner: 'A' });
    await first.idle();
    await first.stop();
    // The request stays stored in the resource; only this process's wait for it ends.
    await expect(waiting).rejects.toMatchObject({ code: 'E_RUNTIME_STOPPED' });

    const clock = new SimulatedClock(5_000);
    const second = createRuntime({ store, clock });
    const res = second.coordination.resources;
    expect(await res.get('X')).toMatchObject({ fence: 1, holders: [{ owner: 'A', token: 1, expiresAt: 10_000 }] });
    expect((await res.get('Y')).waiters).toEqual([{ owner: 'A', mode: 'exclusive' }]);
    await expect(res.acquire({ resource: 'X', owner: 'B' })).rejects.toMatchObject({ code: 'E_DEPENDENCY_CYCLE' });
    // The lease timer was restored too: at 10 s X is free again.
    const c = res.acquire({ resource: 'X', owner: 'C' });
    await clock.advance(5_000);
    expect(await c).toMatchObject({ owner: 'C', token: 2 });
    await second.stop();
  });
});

describe('barriers', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('lets all parties through together once the last arrives; arriving twice counts once', async () => {
    h = await harness();
    const barriers = h.runtime.coordination.barriers;
    await barriers.create({ id: 'b', parties: 3 });
    const p1 = barriers.arrive('b', 'one');
    const p1again = barriers.arrive('b', 'one');
    const p2 = barriers.arrive('b', 'two');
    expect(await settled(h, p1)).toBe(false);
    expect((await barriers.get('b')).arrived).toEqual(['one', 'two']);
    const p3 = barriers.arrive('b', 'three');
    for (const p of [p1, p1again, p2, p3])
      expect(await p).toMatchObject({ status: 'released', arrived: ['one', 'two', 'three'] });
    // A released barrier stays open.
    expect((await barriers.arrive('b', 'late')).status).toBe('released');
  });

  it('breaks at its deadline: every waiting party gets E_TIMEOUT', async () => {
    h = await harness();
    const barriers = h.runtime.coordination.barriers;
    await barriers.create({ id: 'b', parties: 2, timeoutMs: 30_000 });
    const waiting = barriers.arrive('b', 'only').catch((e: unknown) => e);
    await h.clock.advance(30_000);
    expect(await waiting).toMatchObject({ code: 'E_TIMEOUT', message: 'barrier b timed out with 1 of 2 parties' });
    await expect(barriers.arrive('b', 'late')).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    await barriers.create({ id: 'c', parties: 2 });
    const cancelled = barriers.arrive('c', 'x').catch((e: unknown) => e);
    await barriers.break('c', 'no longer needed');
    expect(await cancelled).toMatchObject({ code: 'E_CANCELLED', message: 'no longer needed' });
  });
});
