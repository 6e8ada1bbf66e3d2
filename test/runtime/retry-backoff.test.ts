import { afterEach, describe, expect, it } from 'vitest';
import { NonRetryableError } from '../../src/index.js';
import { harness, type Harness } from './helpers.js';

describe('retries with exponential backoff', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('waits exactly base * factor^(n-1), capped, before each new attempt', async () => {
    h = await harness();
    const calls: number[] = [];
    await h.runtime.agents.register({
      id: 'a',
      handler: () => {
        calls.push(h.clock.now());
        if (calls.length < 4) throw new Error(`boom ${calls.length}`);
        return 'ok';
      },
    });
    const task = await h.runtime.tasks.create({
      type: 'flaky',
      retry: { maxAttempts: 5, backoff: { baseMs: 1_000, factor: 3, capMs: 5_000, jitter: 0 } },
    });
    await h.runtime.idle();
    expect(calls).toEqual([0]);
    await h.clock.advance(999);
    expect(calls).toEqual([0]);
    await h.clock.advance(1);
    expect(calls).toEqual([0, 1_000]);
    await h.clock.advance(2_999);
    expect(calls).toHaveLength(2);
    await h.clock.advance(1);
    expect(calls).toEqual([0, 1_000, 4_000]);
    // 1000 * 3^2 = 9000 is capped at 5000.
    await h.clock.advance(5_000);
    expect(calls).toEqual([0, 1_000, 4_000, 9_000]);
    const done = await h.runtime.tasks.get(task.id);
    expect(done.status).toBe('succeeded');
    expect(done.attempt).toBe(4);
    expect(done.attempts.map((a) => a.error?.message ?? null)).toEqual(['boom 1', 'boom 2', 'boom 3', null]);
    expect(h.of('task.retrying').map((e) => (e.data.retryAt as number) - e.at)).toEqual([1_000, 3_000, 5_000]);
  });

  it('applies jitter as d * (1 - j * rand) from the injected random source', async () => {
    h = await harness({ random: () => 0.5 });
    let calls = 0;
    await h.runtime.agents.register({
      id: 'a',
      handler: () => {
        calls += 1;
        if (calls === 1) throw new Error('x');
        return 1;
      },
    });
    await h.runtime.tasks.create({ type: 't', retry: { backoff: { baseMs: 1_000, factor: 2, jitter: 0.5 } } });
    await h.runtime.idle();
    const retry = h.of('task.retrying')[0];
    expect((retry?.data.retryAt as number) - (retry?.at ?? 0)).toBe(750);
  });

  it('dead-letters when the attempts run out, keeping every attempt error', async () => {
    h = await harness();
    await h.runtime.agents.register({
      id: 'a',
      handler: () => {
        throw new Error('always');
      },
    });
    const task = await h.runtime.tasks.create({ type: 't', retry: { maxAttempts: 2, backoff: { baseMs: 10 } } });
    await h.clock.advance(100);
    const dead = await h.runtime.tasks.get(task.id);
    expect(dead.status).toBe('dead_lettered');
    expect(dead.attempts).toHaveLength(2);
    expect(dead.error).toMatchObject({ category: 'transient', retryable: true, message: 'always' });
    expect(h.of('task.dead_lettered')).toHaveLength(1);
  });

  it('sends a non-retryable error straight to dead-letter', async () => {
    h = await harness();
    let calls = 0;
    await h.runtime.agents.register({
      id: 'a',
      handler: () => {
        calls += 1;
        throw new NonRetryableError('bad spec');
      },
    });
    const task = await h.runtime.tasks.create({ type: 't', retry: { maxAttempts: 5 } });
    await h.clock.advance(60_000);
    const dead = await h.runtime.tasks.get(task.id);
    expect(calls).toBe(1);
    expect(dead.status).toBe('dead_lettered');
    expect(dead.error).toMatchObject({ category: 'permanent', code: 'E_NON_RETRYABLE', retryable: false });
    expect(h.of('task.retrying')).toHaveLength(0);
  });
});
