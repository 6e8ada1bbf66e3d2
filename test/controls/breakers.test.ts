import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock, type Runtime } from '../../src/index.js';
import { harness, type Harness } from '../runtime/helpers.js';
import { sqliteFile } from './support.js';

/** Circuit breakers: closed → open → half-open → closed, on the simulated clock; open breakers hold work back without spending attempts. */
describe('circuit breakers', () => {
  let h: Harness | undefined;
  afterEach(async () => h?.runtime.stop());

  /** An agent whose calls fail while `provider.down`; records each start. */
  async function provider(runtime: Runtime, clock: SimulatedClock, id = 'a') {
    const state = { down: true, starts: [] as Array<[string, number]> };
    await runtime.agents.register({
      id,
      capacity: 10,
      handler: (task) => {
        state.starts.push([task.id, clock.now()]);
        if (state.down && (task.input as { local?: boolean } | null)?.local !== true)
          throw new Error('503 from the provider');
        return 'ok';
      },
    });
    return state;
  }

  it('opens after N failures in the window, holds matching work without spending attempts, probes after the cooldown, closes', async () => {
    h = await harness();
    await h.runtime.controls.setBreaker({
      key: 'openai',
      failureThreshold: 3,
      windowMs: 10_000,
      cooldownMs: 5_000,
      probes: 1,
    });
    const p = await provider(h.runtime, h.clock);
    const calls = (n: number, from = 0) =>
      Array.from({ length: n }, (_, i) => ({
        id: `c${from + i}`,
        type: 'chat',
        breakers: ['openai'],
        retry: { maxAttempts: 1 },
      }));
    await h.runtime.tasks.createMany(calls(3));
    await h.runtime.idle();
    expect((await h.runtime.controls.breaker('openai')).status).toBe('open');
    expect(h.of('breaker.opened').map((e) => e.at)).toEqual([0]);

    // Work under the key waits in the queue, its attempts untouched; other work runs.
    await h.clock.advance(1_000);
    await h.runtime.tasks.createMany([...calls(2, 3), { id: 'other', type: 'chat', input: { local: true } }]);
    await h.runtime.idle();
    const held = await h.runtime.tasks.get('c3');
    expect([held.status, held.attempt, held.waitingFor]).toEqual(['queued', 0, 'circuit breaker "openai" is open']);
    expect(p.starts.map(([id]) => id)).toEqual(['c0', 'c1', 'c2', 'other']);

    // After the cooldown one probe goes through; it succeeds, the breaker closes, the rest run.
    p.down = false;
    await h.clock.advance(3_999);
    expect(p.starts).toHaveLength(4);
    await h.clock.advance(1);
    await h.runtime.idle();
    expect(h.of('breaker.half_open').map((e) => e.at)).toEqual([5_000]);
    expect(h.of('breaker.closed').map((e) => e.at)).toEqual([0, 5_000]);
    expect(p.starts.slice(4)).toEqual([
      ['c3', 5_000],
      ['c4', 5_000],
    ]);
    expect((await h.runtime.tasks.get('c4')).attempt).toBe(1);
  });

  it('a failed probe opens it again for another cooldown', async () => {
    h = await harness();
    await h.runtime.controls.setBreaker({ key: 'type:chat', failureThreshold: 1, cooldownMs: 1_000, probes: 1 });
    const p = await provider(h.runtime, h.clock);
    // The breaker's key names a task type: every task of that type answers to it.
    await h.runtime.tasks.createMany([{ id: 'x', type: 'chat', retry: { maxAttempts: 1 } }]);
    await h.runtime.idle();
    await h.runtime.tasks.createMany([
      { id: 'y', type: 'chat', retry: { maxAttempts: 1 } },
      { id: 'z', type: 'chat', retry: { maxAttempts: 1 } },
    ]);
    await h.clock.advance(1_000);
    await h.runtime.idle();
    // y went through as the probe and failed: open again; z still waits.
    expect(p.starts).toEqual([
      ['x', 0],
      ['y', 1_000],
    ]);
    const b = await h.runtime.controls.breaker('type:chat');
    expect([b.status, b.trips]).toEqual(['open', 2]);
    p.down = false;
    await h.clock.advance(1_000);
    await h.runtime.idle();
    expect(p.starts.at(-1)).toEqual(['z', 2_000]);
    expect((await h.runtime.controls.breaker('type:chat')).status).toBe('closed');
  });

  it('trips on a failure rate once enough outcomes are in the window', async () => {
    h = await harness();
    await h.runtime.controls.setBreaker({
      key: 'api',
      failureThreshold: 100,
      failureRate: 0.5,
      minRequests: 4,
      windowMs: 60_000,
    });
    const p = await provider(h.runtime, h.clock);
    p.down = false;
    await h.runtime.tasks.createMany([1, 2].map((i) => ({ id: `ok${i}`, type: 't', breakers: ['api'] })));
    await h.runtime.idle();
    p.down = true;
    await h.runtime.tasks.create({ id: 'bad1', type: 't', breakers: ['api'], retry: { maxAttempts: 1 } });
    await h.runtime.idle();
    expect((await h.runtime.controls.breaker('api')).status).toBe('closed');
    await h.runtime.tasks.create({ id: 'bad2', type: 't', breakers: ['api'], retry: { maxAttempts: 1 } });
    await h.runtime.idle();
    // 2 of 4 failed: 50%.
    expect((await h.runtime.controls.breaker('api')).status).toBe('open');
  });

  it('stays open across a restart, and the cooldown still ends on time (SQLite)', async () => {
    const file = await sqliteFile();
    try {
      const clock = new SimulatedClock(0);
      const first = file.open(clock);
      await first.controls.setBreaker({ key: 'k', failureThreshold: 1, cooldownMs: 10_000 });
      await provider(first, clock);
      await first.tasks.create({ id: 'boom', type: 't', breakers: ['k'], retry: { maxAttempts: 1 } });
      await first.idle();
      await first.stop();

      await clock.advance(4_000);
      const second = file.open(clock);
      await second.start();
      expect((await second.controls.breaker('k')).status).toBe('open');
      const p = await provider(second, clock, 'b');
      p.down = false;
      await second.tasks.create({ id: 'after', type: 't', breakers: ['k'] });
      await second.idle();
      expect(p.starts).toEqual([]);
      await clock.advance(6_000);
      await second.idle();
      expect(p.starts).toEqual([['after', 10_000]]);
      expect((await second.controls.breaker('k')).status).toBe('closed');
    } finally {
      await file.cleanup();
    }
  });
});
