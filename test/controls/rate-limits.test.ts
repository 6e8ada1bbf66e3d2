import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/index.js';
import { harness, type Harness } from '../runtime/helpers.js';
import { recordingAgent, sqliteFile } from './support.js';

/** Rate limits by key: exact budgets on the simulated clock, changed at run time, reported after the fact. */
describe('rate limits', () => {
  let h: Harness | undefined;
  afterEach(async () => h?.runtime.stop());

  const many = (n: number, key: string, units = 1) =>
    Array.from({ length: n }, (_, i) => ({ id: `${key}-${i}`, type: 'call', rateLimits: [{ key, units }] }));

  it('token bucket: a burst of `limit`, then one unit every per/limit ms', async () => {
    h = await harness();
    const starts = await recordingAgent(h.runtime, h.clock);
    await h.runtime.controls.setRateLimit({ key: 'openai', limit: 2, per: 1_000 });
    await h.runtime.tasks.createMany(many(6, 'openai'));
    await h.clock.advance(3_000);
    expect(starts.map((s) => s.at)).toEqual([0, 0, 500, 1_000, 1_500, 2_000]);
    expect(h.of('ratelimit.exhausted').map((e) => e.data.gate)).toContain('ratelimit:openai');
  });

  it('sliding window: at most `limit` in any window of `per` ms', async () => {
    h = await harness();
    const starts = await recordingAgent(h.runtime, h.clock);
    await h.runtime.controls.setRateLimit({ key: 'k', limit: 2, per: 1_000, kind: 'sliding-window' });
    await h.runtime.tasks.createMany(many(5, 'k'));
    await h.clock.advance(1_500);
    await h.runtime.tasks.createMany(many(1, 'late'));
    await h.clock.advance(2_000);
    expect(starts.filter((s) => s.id.startsWith('k-')).map((s) => s.at)).toEqual([0, 0, 1_000, 1_000, 2_000]);
    // Checked over the whole run: no window of 1,000 ms holds more than 2 starts.
    const times = starts.filter((s) => s.id.startsWith('k-')).map((s) => s.at);
    for (const t of times) expect(times.filter((u) => u > t - 1_000 && u <= t).length).toBeLessThanOrEqual(2);
  });

  it('a task asks for its units; one wanting more than the limit waits for a full budget', async () => {
    h = await harness();
    const starts = await recordingAgent(h.runtime, h.clock);
    await h.runtime.controls.setRateLimit({ key: 'tokens', limit: 10, per: 1_000 });
    await h.runtime.tasks.createMany([
      { id: 'big', type: 'call', rateLimits: [{ key: 'tokens', units: 8 }] },
      { id: 'huge', type: 'call', rateLimits: [{ key: 'tokens', units: 50 }] },
    ]);
    await h.clock.advance(2_000);
    // 'big' spends 8 at 0; 'huge' needs the whole 10: 8 more refill in 800 ms.
    expect(starts.map((s) => [s.id, s.at])).toEqual([
      ['big', 0],
      ['huge', 800],
    ]);
  });

  it('says in the task view why it waits, and lets it go when the limit is raised at run time', async () => {
    h = await harness();
    const starts = await recordingAgent(h.runtime, h.clock);
    await h.runtime.controls.setRateLimit({ key: 'k', limit: 1, per: 60_000 });
    await h.runtime.tasks.createMany(many(3, 'k'));
    await h.runtime.idle();
    expect(starts).toHaveLength(1);
    const waiting = await h.runtime.tasks.get('k-1');
    expect(waiting.status).toBe('queued');
    expect(waiting.waitingFor).toMatch(/^rate limit "k": needs 1 unit\(s\), 0 available; enough at 60000$/);
    await h.runtime.controls.setRateLimit({ key: 'k', limit: 10, per: 60_000 });
    await h.runtime.idle();
    expect(starts).toHaveLength(3);
    expect(h.of('ratelimit.defined').map((e) => e.data.limit)).toEqual([1, 10]);
  });

  it('units reported after the fact count against the next window', async () => {
    h = await harness();
    const starts = await recordingAgent(h.runtime, h.clock);
    await h.runtime.controls.setRateLimit({ key: 'k', limit: 2, per: 1_000 });
    await h.runtime.tasks.createMany(many(1, 'k'));
    await h.runtime.idle();
    // The call used 5 units, not 1: 4 more are owed; the bucket holds 1 - 4 = -3.
    const after = await h.runtime.controls.reportUnits('k', 4);
    expect(after.available).toBe(-3);
    await h.runtime.tasks.createMany([{ id: 'next', type: 'call', rateLimits: [{ key: 'k', units: 1 }] }]);
    await h.clock.advance(3_000);
    // From -3 to 1 at 2 per 1,000 ms: 2,000 ms.
    expect(starts.map((s) => [s.id, s.at])).toEqual([
      ['k-0', 0],
      ['next', 2_000],
    ]);
    expect(h.of('ratelimit.reported')).toHaveLength(1);
  });

  it('a task under two limits starts only within both', async () => {
    h = await harness();
    const starts = await recordingAgent(h.runtime, h.clock);
    await h.runtime.controls.setRateLimit({ key: 'a', limit: 4, per: 1_000 });
    await h.runtime.controls.setRateLimit({ key: 'b', limit: 1, per: 1_000, kind: 'sliding-window' });
    await h.runtime.tasks.createMany(
      Array.from({ length: 3 }, (_, i) => ({ id: `t${i}`, type: 'x', rateLimits: [{ key: 'a' }, { key: 'b' }] })),
    );
    await h.clock.advance(3_000);
    expect(starts.map((s) => s.at)).toEqual([0, 1_000, 2_000]);
  });

  it('a restart mid-window keeps what was spent (SQLite)', async () => {
    const file = await sqliteFile();
    try {
      const clock = new SimulatedClock(0);
      const first = file.open(clock);
      await first.controls.setRateLimit({ key: 'k', limit: 2, per: 1_000, kind: 'sliding-window' });
      const s1 = await recordingAgent(first, clock);
      await first.tasks.createMany(many(2, 'k'));
      await first.idle();
      expect(s1.map((s) => s.at)).toEqual([0, 0]);
      await first.stop();

      await clock.advance(300);
      const second = file.open(clock);
      await second.start();
      const s2 = await recordingAgent(second, clock, 10, 'worker-2');
      await second.tasks.createMany([{ id: 'after', type: 'x', rateLimits: [{ key: 'k' }] }]);
      await second.idle();
      expect(s2).toHaveLength(0);
      expect((await second.tasks.get('after')).waitingFor).toMatch(/rate limit "k"/);
      await clock.advance(699);
      expect(s2).toHaveLength(0);
      await clock.advance(1);
      await second.idle();
      expect(s2.map((s) => [s.id, s.at])).toEqual([['after', 1_000]]);
    } finally {
      await file.cleanup();
    }
  });
});
