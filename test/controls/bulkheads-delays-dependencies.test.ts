import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/index.js';
import { deferred, harness, type Harness } from '../runtime/helpers.js';
import { recordingAgent, sqliteFile } from './support.js';

describe('bulkheads', () => {
  let h: Harness | undefined;
  afterEach(async () => h?.runtime.stop());

  it('caps a class at its share of agent slots and keeps reserved slots for critical work', async () => {
    h = await harness();
    const running: string[] = [];
    const release = deferred();
    await h.runtime.agents.register({
      id: 'a',
      capacity: 4,
      handler: async (task) => {
        running.push(task.id);
        await release.promise;
        return 'ok';
      },
    });
    await h.runtime.controls.setBulkhead({ name: 'batch', maxShare: 0.5 });
    await h.runtime.controls.setBulkhead({ name: 'critical', reserved: 1 });
    await h.runtime.tasks.createMany(
      Array.from({ length: 6 }, (_, i) => ({ id: `b${i}`, type: 'x', bulkhead: 'batch' })),
    );
    await h.runtime.tasks.createMany([
      { id: 'plain-1', type: 'x' },
      { id: 'plain-2', type: 'x' },
    ]);
    await h.runtime.idle();
    // batch: 2 of 4 slots; plain work: 1 more, the last slot is kept for critical work.
    expect(running).toEqual(['b0', 'b1', 'plain-1']);
    expect((await h.runtime.tasks.get('b2')).waitingFor).toBe('bulkhead "batch" is full: 2 of 2 slots running');
    expect((await h.runtime.tasks.get('plain-2')).waitingFor).toBe(
      'the 1 free slots are reserved for other bulkheads (1 kept)',
    );
    await h.runtime.tasks.create({ id: 'urgent', type: 'x', bulkhead: 'critical' });
    await h.runtime.idle();
    expect(running).toEqual(['b0', 'b1', 'plain-1', 'urgent']);
    expect(h.of('bulkhead.full').length).toBeGreaterThan(0);
    release.resolve('go');
    await h.runtime.tasks.wait('b5');
    await h.runtime.tasks.wait('plain-2');
  });
});

describe('delayed tasks (notBefore)', () => {
  let h: Harness | undefined;
  afterEach(async () => h?.runtime.stop());

  it('queues a task only once its time has come, saying so meanwhile', async () => {
    h = await harness();
    const starts = await recordingAgent(h.runtime, h.clock);
    await h.runtime.tasks.createMany([
      { id: 'later', type: 'x', delayMs: 5_000 },
      { id: 'at', type: 'x', notBefore: 2_000 },
      { id: 'now', type: 'x' },
    ]);
    await h.runtime.idle();
    expect((await h.runtime.tasks.get('later')).waitingFor).toBe('delayed until 5000');
    await h.clock.advance(10_000);
    expect(starts.map((s) => [s.id, s.at])).toEqual([
      ['now', 0],
      ['at', 2_000],
      ['later', 5_000],
    ]);
  });

  it('keeps the delay across a restart (SQLite)', async () => {
    const file = await sqliteFile();
    try {
      const clock = new SimulatedClock(0);
      const first = file.open(clock);
      await first.tasks.create({ id: 'later', type: 'x', delayMs: 60_000 });
      await first.stop();
      await clock.advance(30_000);
      const second = file.open(clock);
      const starts = await recordingAgent(second, clock);
      await second.idle();
      expect(starts).toEqual([]);
      await clock.advance(30_000);
      await second.idle();
      expect(starts.map((s) => [s.id, s.at])).toEqual([['later', 60_000]]);
    } finally {
      await file.cleanup();
    }
  });
});

describe('bulkheads across a restart', () => {
  it('a bulkhead is restored from SQLite and still caps its class', async () => {
    const file = await sqliteFile();
    try {
      const clock = new SimulatedClock(0);
      const first = file.open(clock);
      await first.controls.setBulkhead({ name: 'batch', max: 1 });
      await first.stop();
      // A one-state machine: the compiled stepper stored a value it then could not restore.
      const second = file.open(clock);
      const release = deferred();
      const running: string[] = [];
      await second.agents.register({
        id: 'a',
        capacity: 4,
        handler: async (task) => {
          running.push(task.id);
          await release.promise;
          return 'ok';
        },
      });
      await second.tasks.createMany([
        { id: 'b0', type: 'x', bulkhead: 'batch' },
        { id: 'b1', type: 'x', bulkhead: 'batch' },
      ]);
      await second.idle();
      expect(running).toEqual(['b0']);
      expect((await second.tasks.get('b1')).waitingFor).toBe('bulkhead "batch" is full: 1 of 1 slots running');
      release.resolve('go');
    } finally {
      await file.cleanup();
    }
  });
});

describe('failure policy per dependency', () => {
  let h: Harness | undefined;
  afterEach(async () => h?.runtime.stop());

  it('skip (default), continue and fail; a child of several parents follows each edge', async () => {
    h = await harness();
    await h.runtime.agents.register({
      id: 'a',
      capacity: 10,
      handler: (task) => {
        if (task.type === 'broken') throw new Error('parent failed');
        return task.id;
      },
    });
    await h.runtime.tasks.createMany([
      { id: 'bad', type: 'broken', retry: { maxAttempts: 1 } },
      { id: 'good', type: 'fine' },
      { id: 'skips', type: 'x', dependsOn: ['bad'] },
      { id: 'continues', type: 'x', dependsOn: [{ id: 'bad', onFailure: 'continue' }, 'good'] },
      { id: 'fails', type: 'x', dependsOn: ['good', { id: 'bad', onFailure: 'fail' }] },
      {
        id: 'mixed',
        type: 'x',
        dependsOn: [
          { id: 'bad', onFailure: 'continue' },
          { id: 'fails', onFailure: 'skip' },
        ],
      },
    ]);
    await h.runtime.idle();
    const status = async (id: string) => (await h!.runtime.tasks.get(id)).status;
    expect(await status('skips')).toBe('skipped');
    expect(await status('continues')).toBe('succeeded');
    expect(await status('fails')).toBe('dead_lettered');
    expect((await h.runtime.tasks.get('fails')).error).toMatchObject({ code: 'E_DEPENDENCY_FAILED', retryable: false });
    // bad failed (continue) and fails was dead-lettered (skip): skipped.
    expect(await status('mixed')).toBe('skipped');
    expect((await h.runtime.tasks.get('continues')).controls.onDependencyFailure).toEqual({ bad: 'continue' });
    // A task failed by its dependency is a dead letter like any other: it can be redriven.
    expect((await h.runtime.deadLetters.list({ code: 'E_DEPENDENCY_FAILED' })).map((d) => d.id)).toEqual(['fails']);
  });
});
