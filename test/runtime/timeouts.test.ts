import { afterEach, describe, expect, it } from 'vitest';
import { harness, untilAborted, type Harness } from './helpers.js';

describe('task deadlines, each its own kind', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('start: no agent starts the task in time', async () => {
    h = await harness();
    const task = await h.runtime.tasks.create({
      type: 't',
      requires: ['gpu'],
      timeouts: { start: 5_000 },
      retry: { maxAttempts: 1 },
    });
    await h.clock.advance(4_999);
    expect((await h.runtime.tasks.get(task.id)).status).toBe('queued');
    await h.clock.advance(1);
    const timedOut = await h.runtime.tasks.get(task.id);
    expect(timedOut.status).toBe('dead_lettered');
    expect(timedOut.error).toMatchObject({ category: 'timeout', timeout: 'start', code: 'E_TIMEOUT' });
    expect(h.of('task.timed_out')[0]?.at).toBe(5_000);
  });

  it('finish: the attempt runs too long; the handler is aborted and the task retried', async () => {
    h = await harness();
    const aborted: unknown[] = [];
    let calls = 0;
    await h.runtime.agents.register({
      id: 'slow',
      handler: async (_t, ctx) => {
        calls += 1;
        if (calls > 1) return 'fast enough';
        return untilAborted(ctx.signal).catch((e: unknown) => {
          aborted.push(e);
          throw e;
        });
      },
    });
    const task = await h.runtime.tasks.create({
      type: 't',
      timeouts: { finish: 10_000 },
      retry: { backoff: { baseMs: 100 } },
    });
    await h.clock.advance(9_999);
    expect(aborted).toHaveLength(0);
    await h.clock.advance(1);
    expect(aborted).toHaveLength(1);
    expect(String((aborted[0] as Error).message)).toContain('finish deadline passed');
    const retrying = await h.runtime.tasks.get(task.id);
    expect(retrying.status).toBe('retrying');
    expect(retrying.attempts[0]?.error).toMatchObject({ category: 'timeout', timeout: 'finish' });
    await h.clock.advance(100);
    expect((await h.runtime.tasks.get(task.id)).status).toBe('succeeded');
  });

  it('heartbeat: silence longer than allowed, counted from the last beat', async () => {
    h = await harness();
    let beat: () => void = () => {};
    await h.runtime.agents.register({
      id: 'a',
      handler: async (_t, ctx) => {
        beat = () => ctx.heartbeat();
        return untilAborted(ctx.signal);
      },
    });
    const task = await h.runtime.tasks.create({ type: 't', timeouts: { heartbeat: 3_000 }, retry: { maxAttempts: 1 } });
    await h.clock.advance(2_000);
    beat();
    await h.clock.advance(2_000);
    beat();
    // Last beat at 4000: the deadline is 7000, not 3000.
    await h.clock.advance(2_999);
    expect((await h.runtime.tasks.get(task.id)).status).toBe('running');
    await h.clock.advance(1);
    const dead = await h.runtime.tasks.get(task.id);
    expect(dead.status).toBe('dead_lettered');
    expect(dead.error).toMatchObject({ category: 'timeout', timeout: 'heartbeat' });
    expect(dead.attempts[0]?.endedAt).toBe(7_000);
  });

  it('progress counts as a heartbeat', async () => {
    h = await harness();
    let report: () => void = () => {};
    await h.runtime.agents.register({
      id: 'a',
      handler: async (_t, ctx) => {
        report = () => ctx.progress(0.5, 'half');
        return untilAborted(ctx.signal);
      },
    });
    const task = await h.runtime.tasks.create({ type: 't', timeouts: { heartbeat: 1_000 } });
    await h.clock.advance(900);
    report();
    await h.clock.advance(900);
    const running = await h.runtime.tasks.get(task.id);
    expect(running.status).toBe('running');
    expect(running.progress).toEqual({ value: 0.5, message: 'half' });
    expect(h.of('task.progress')).toHaveLength(1);
  });
});
