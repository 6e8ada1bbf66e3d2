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
    expect(first).toMatchObject({
      id: 'sum-1',
      type: 'summarize',
      at: 0,
      attempts: 1,
      redrives: 0,
      error: { category: 'transient', message: 'provider down' },
    });
  });

  it('redrives one with a changed input: a fresh retry budget, every attempt and the redrive kept', async () => {
    await failing();
    await h.runtime.tasks.create({
      id: 't',
      type: 'summarize',
      retry: { maxAttempts: 2, backoff: { baseMs: 10, jitter: 0 } },
    });
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
    for (let i = 0; i < 3; i++)
      await h.runtime.tasks.create({ id: `s${i}`, type: 'summarize', retry: { maxAttempts: 1 } });
    await h.runtime.tasks.create({ id: 'e0', type: 'embed', retry: { maxAttempts: 1 } });
    await h.runtime.idle();
    const views = await h.runtime.deadLetters.redrive(
      { type: 'summarize' },
      { retry: { maxAttempts: 3, backoff: { baseMs: 5, jitter: 0 } } },
    );
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

  it('keeps at most retention.deadLetteredMaxCount dead letters: each sweep removes the units of the oldest, on SQLite', async () => {
    const file = await sqliteFile();
    try {
      const clock = new SimulatedClock(0);
      // One policy for dead letters: retention's. The count limit bites long before the 30 days.
      const runtime = file.open(clock, { retention: { deadLetteredMaxCount: 2, intervalMs: 1_000 } });
      const events: string[] = [];
      await runtime.agents.register({
        id: 'a',
        capacity: 10,
        handler: () => {
          throw new Error('provider down');
        },
      });
      for (let i = 0; i < 4; i++) {
        await runtime.tasks.create({ id: `d${i}`, type: 't', retry: { maxAttempts: 1 } });
        await clock.advance(10);
      }
      // A ticket whose phase task dead-letters: the failed ticket is one unit, removed whole.
      const ticket = await runtime.tickets.create({
        title: 'doomed',
        phases: [{ name: 'p', tasks: [{ id: 'in-ticket', type: 't', retry: { maxAttempts: 1 } }] }],
      });
      await runtime.tickets.wait(ticket.id);
      runtime.retention.onSweep((r) => events.push(`swept ${r.overCount} at ${r.at}`));
      expect((await runtime.deadLetters.list()).map((d) => d.id)).toEqual(['d0', 'd1', 'd2', 'd3', 'in-ticket']);

      // Nothing happens between sweeps; at the next one the three oldest go (rows and events).
      await clock.advance(950);
      expect((await runtime.deadLetters.list()).length).toBe(5);
      await clock.advance(10);
      await runtime.idle();
      expect(events).toEqual(['swept 3 at 1000']);
      expect((await runtime.deadLetters.list()).map((d) => d.id)).toEqual(['d3', 'in-ticket']);
      for (const id of ['d0', 'd1', 'd2']) expect(await runtime.store.getActor(id)).toBeUndefined();
      expect(await runtime.events.read({ taskId: 'd0' })).toEqual([]);
      expect(await runtime.store.getActor(ticket.id)).toBeDefined();

      // A new dead letter past the count: the next sweep removes d3, then the ticket whole.
      await runtime.tasks.create({ id: 'd4', type: 't', retry: { maxAttempts: 1 } });
      await clock.advance(1_000);
      await runtime.idle();
      expect((await runtime.deadLetters.list()).map((d) => d.id)).toEqual(['in-ticket', 'd4']);
      expect(await runtime.store.getActor('d3')).toBeUndefined();
      runtime.retention.update({ deadLetteredMaxCount: 1, intervalMs: 1_000 });
      await clock.advance(1_000);
      await runtime.idle();
      expect((await runtime.deadLetters.list()).map((d) => d.id)).toEqual(['d4']);
      expect(await runtime.store.listActors({ ticketId: ticket.id })).toEqual([]);
      expect(events).toEqual(['swept 3 at 1000', 'swept 1 at 2000', 'swept 1 at 3000']);
    } finally {
      await file.cleanup();
    }
  });

  it('removes dead letters once retention.deadLetteredMs has passed, on the clock; a restart keeps the policy', async () => {
    const file = await sqliteFile();
    try {
      const clock = new SimulatedClock(0);
      const retention = { finishedMs: 500, deadLetteredMs: 1_000, intervalMs: 100 };
      let runtime = file.open(clock, { retention });
      await runtime.agents.register({
        id: 'a',
        capacity: 10,
        handler: () => {
          throw new Error('provider down');
        },
      });
      await runtime.tasks.create({ id: 'old', type: 't', retry: { maxAttempts: 1 } });
      await clock.advance(600);
      await runtime.tasks.create({ id: 'young', type: 't', retry: { maxAttempts: 1 } });
      await runtime.idle();
      await runtime.stop();

      runtime = file.open(clock, { retention });
      expect((await runtime.deadLetters.list()).map((d) => d.id)).toEqual(['old', 'young']);
      // Kept while younger than 1,000 ms (sweeps at 700 .. 1000); gone at the first sweep after.
      await clock.advance(400);
      await runtime.idle();
      expect((await runtime.deadLetters.list()).map((d) => d.id)).toEqual(['old', 'young']);
      await clock.advance(100);
      await runtime.idle();
      expect((await runtime.deadLetters.list()).map((d) => d.id)).toEqual(['young']);
      expect(await runtime.store.getActor('old')).toBeUndefined();
      await clock.advance(600);
      await runtime.idle();
      expect(await runtime.deadLetters.list()).toEqual([]);
    } finally {
      await file.cleanup();
    }
  });

  it('survives a restart on SQLite: listed and redriven by the next process', async () => {
    const file = await sqliteFile();
    try {
      const clock = new SimulatedClock(0);
      const first = file.open(clock);
      await first.agents.register({
        id: 'a',
        handler: () => {
          throw new Error('down');
        },
      });
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
