import { afterEach, describe, expect, it } from 'vitest';
import { NonRetryableError, SimulatedClock } from '../../src/index.js';
import { harness, type Harness } from '../runtime/helpers.js';
import { sqliteFile } from './support.js';

/** Dead letters you can act on: list by filter, redrive with changes, history kept, retention. */
describe('dead letters', () => {
  let h: Harness;
  afterEach(async () => h?.runtime.stop());

  async function failing(opts: Parameters<typeof harness>[0] = {}): Promise<void> {
    h = await harness(opts);
    await h.runtime.agents.register({
      id: 'a',
      capacity: 10,
      handler: (task) => {
        const input = task.input as { mode?: string } | null;
        if (input?.mode === 'fixed') return 'fixed';
        if (input?.mode === 'permanent') throw new NonRetryableError('bad input');
        throw new Error('provider down');
      },
    });
  }

  it('lists dead letters by type, error category, ticket and time', async () => {
    await failing();
    await h.runtime.tasks.create({ id: 'sum-1', type: 'summarize', retry: { maxAttempts: 1 } });
    await h.clock.advance(100);
    await h.runtime.tasks.create({ id: 'sum-2', type: 'summarize', input: { mode: 'permanent' } });
    await h.clock.advance(100);
    await h.runtime.tasks.create({ id: 'emb-1', type: 'embed', retry: { maxAttempts: 1 } });
    await h.runtime.tasks.create({ id: 'ok-1', type: 'embed', input: { mode: 'fixed' } });
    await h.runtime.idle();

    expect((await h.runtime.deadLetters.list()).map((d) => d.id)).toEqual(['sum-1', 'sum-2', 'emb-1']);
    expect((await h.runtime.deadLetters.list({ type: 'summarize' })).map((d) => d.id)).toEqual(['sum-1', 'sum-2']);
    expect((await h.runtime.deadLetters.list({ category: 'permanent' })).map((d) => d.id)).toEqual(['sum-2']);
    expect((await h.runtime.deadLetters.list({ since: 100, until: 200 })).map((d) => d.id)).toEqual(['sum-2']);
    expect((await h.runtime.deadLetters.list({ limit: 1 })).map((d) => d.id)).toEqual(['sum-1']);
    const [first] = await h.runtime.deadLetters.list();
    expect(first).toMatchObject({ id: 'sum-1', type: 'summarize', at: 0, attempts: 1, redrives: 0, error: { category: 'transient', message: 'provider down' } });
  });

  it('redrives one with a changed input: a fresh retry budget, every attempt and the redrive kept', async () => {
    await failing();
    await h.runtime.tasks.create({ id: 't', type: 'summarize', retry: { maxAttempts: 2, backoff: { baseMs: 10, jitter: 0 } } });
    await h.clock.advance(100);
    expect((await h.runtime.tasks.get('t')).status).toBe('dead_lettered');

    const [redriven] = await h.runtime.deadLetters.redrive('t', { input: { mode: 'fixed' }, reason: 'input repaired' });
    expect(redriven?.status).not.toBe('dead_lettered');
    const done = await h.runtime.tasks.wait('t');
    expect(done.status).toBe('succeeded');
    expect(done.result).toBe('fixed');
    expect(done.input).toEqual({ mode: 'fixed' });
    // Attempts 1 and 2 failed before the redrive; attempt 3 is the first of the new budget.
    expect(done.attempts.map((a) => [a.attempt, a.error?.message ?? null])).toEqual([
      [1, 'provider down'],
      [2, 'provider down'],
      [3, null],
    ]);
    expect(done.redrives).toEqual([
      {
        at: 100,
        afterAttempt: 2,
        error: expect.objectContaining({ message: 'provider down' }),
        inputChanged: true,
        retryChanged: false,
        reason: 'input repaired',
      },
    ]);
    expect(h.of('task.redriven').map((e) => e.taskId)).toEqual(['t']);
    expect(await h.runtime.deadLetters.list()).toEqual([]);
  });

  it('redrives many by filter with a new retry policy; the others stay', async () => {
    await failing();
    for (let i = 0; i < 3; i++) await h.runtime.tasks.create({ id: `s${i}`, type: 'summarize', retry: { maxAttempts: 1 } });
    await h.runtime.tasks.create({ id: 'e0', type: 'embed', retry: { maxAttempts: 1 } });
    await h.runtime.idle();
    const views = await h.runtime.deadLetters.redrive({ type: 'summarize' }, { retry: { maxAttempts: 3, backoff: { baseMs: 5, jitter: 0 } } });
    expect(views.map((v) => [v.id, v.maxAttempts])).toEqual([
      ['s0', 3],
      ['s1', 3],
      ['s2', 3],
    ]);
    await h.clock.advance(1_000);
    // Each still fails, three more attempts each under the new policy, then back in the dead letters.
    const again = await h.runtime.deadLetters.list({ type: 'summarize' });
    expect(again.map((d) => [d.id, d.attempts, d.redrives])).toEqual([
      ['s0', 4, 1],
      ['s1', 4, 1],
      ['s2', 4, 1],
    ]);
    expect((await h.runtime.deadLetters.list({ type: 'embed' })).map((d) => d.redrives)).toEqual([0]);
  });

  it('refuses to redrive what is not a dead letter, naming why', async () => {
    await failing();
    await h.runtime.tasks.create({ id: 'fine', type: 'x', input: { mode: 'fixed' } });
    await h.runtime.idle();
    await expect(h.runtime.deadLetters.redrive('fine')).rejects.toMatchObject({ code: 'E_INVALID_STATE' });
    await expect(h.runtime.deadLetters.redrive('nobody')).rejects.toMatchObject({ code: 'E_UNKNOWN_TASK' });
  });

  it('keeps at most maxCount dead letters: the oldest are discarded', async () => {
    await failing({ deadLetters: { maxCount: 2 } });
    for (let i = 0; i < 4; i++) {
      await h.runtime.tasks.create({ id: `d${i}`, type: 't', retry: { maxAttempts: 1 } });
      await h.clock.advance(10);
    }
    await h.runtime.idle();
    expect((await h.runtime.deadLetters.list()).map((d) => d.id)).toEqual(['d2', 'd3']);
    expect((await h.runtime.tasks.get('d0')).status).toBe('discarded');
    expect(h.of('task.discarded').map((e) => e.taskId).sort()).toEqual(['d0', 'd1']);
  });

  it('discards dead letters older than maxAgeMs when that age passes, on the clock', async () => {
    await failing({ deadLetters: { maxAgeMs: 1_000 } });
    await h.runtime.tasks.create({ id: 'old', type: 't', retry: { maxAttempts: 1 } });
    await h.clock.advance(600);
    await h.runtime.tasks.create({ id: 'young', type: 't', retry: { maxAttempts: 1 } });
    await h.runtime.deadLetters.list();
    await h.clock.advance(399);
    expect(h.of('task.discarded')).toHaveLength(0);
    await h.clock.advance(1);
    await h.runtime.idle();
    expect(h.of('task.discarded').map((e) => [e.taskId, e.at])).toEqual([['old', 1_000]]);
    await h.clock.advance(600);
    await h.runtime.idle();
    expect(h.of('task.discarded').map((e) => [e.taskId, e.at])).toEqual([
      ['old', 1_000],
      ['young', 1_600],
    ]);
  });

  it('survives a restart on SQLite: listed and redriven by the next process', async () => {
    const file = await sqliteFile();
    try {
      const clock = new SimulatedClock(0);
      const first = file.open(clock);
      await first.agents.register({ id: 'a', handler: () => { throw new Error('down'); } });
      await first.tasks.create({ id: 'x', type: 'summarize', retry: { maxAttempts: 1 } });
      await first.idle();
      await first.stop();

      const second = file.open(clock);
      expect((await second.deadLetters.list()).map((d) => [d.id, d.error?.message])).toEqual([['x', 'down']]);
      await second.agents.register({ id: 'b', handler: () => 'fine now' });
      await second.deadLetters.redrive({ type: 'summarize' });
      const done = await second.tasks.wait('x');
      expect([done.status, done.attempts.length, done.redrives.length]).toEqual(['succeeded', 2, 1]);
      h = undefined as never;
    } finally {
      await file.cleanup();
    }
  });
});
