import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/index.js';
import { deferred, harness, type Harness } from '../runtime/helpers.js';
import { sqliteFile } from './support.js';

/** Concurrency keys: at most N running per key, keys from the task's fields, round-robin between keys. */
describe('concurrency keys', () => {
  let h: Harness | undefined;
  afterEach(async () => h?.runtime.stop());

  it('runs at most `max` tasks per key at once; the next starts when one ends', async () => {
    h = await harness();
    const running = new Map<string, () => void>();
    let peak = 0;
    await h.runtime.agents.register({
      id: 'a',
      capacity: 10,
      handler: (task) => {
        const done = deferred();
        running.set(task.id, () => done.resolve('ok'));
        peak = Math.max(peak, running.size);
        return done.promise.then(() => {
          running.delete(task.id);
          return 'ok';
        });
      },
    });
    await h.runtime.tasks.createMany(
      Array.from({ length: 6 }, (_, i) => ({ id: `t${i}`, type: 'x', concurrency: { key: 'repo-1', max: 2 } })),
    );
    await h.runtime.idle();
    expect([...running.keys()]).toEqual(['t0', 't1']);
    expect((await h.runtime.tasks.get('t4')).waitingFor).toBe('concurrency key "repo-1": 2 of 2 running');
    running.get('t0')?.();
    await h.runtime.tasks.wait('t0');
    await h.runtime.idle();
    expect([...running.keys()]).toEqual(['t1', 't2']);
    for (let i = 0; i < 6; i++) {
      for (const finish of [...running.values()]) finish();
      await h.runtime.idle();
    }
    expect((await h.runtime.tasks.list({ status: 'succeeded' })).length).toBe(6);
    expect(peak).toBe(2);
  });

  it('takes the key from the input (`${input.tenant}`) and refuses a task without that field', async () => {
    h = await harness();
    const t = await h.runtime.tasks.create({
      type: 'x',
      input: { tenant: 'acme' },
      concurrency: { key: 'tenant:${input.tenant}', max: 1 },
    });
    expect(t.controls.concurrency).toEqual({ key: 'tenant:acme', max: 1 });
    await expect(
      h.runtime.tasks.create({ type: 'x', input: {}, concurrency: { key: '${input.tenant}', max: 1 } }),
    ).rejects.toMatchObject({
      code: 'E_INVALID_INPUT',
    });
  });

  it('is fair between keys: a burst of one tenant does not starve the others (round-robin over 300 tasks)', async () => {
    h = await harness();
    const order: string[] = [];
    await h.runtime.agents.register({
      id: 'a',
      capacity: 1,
      handler: (task) => {
        order.push((task.input as { tenant: string }).tenant);
        return 'ok';
      },
    });
    const burst = (tenant: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        id: `${tenant}-${i}`,
        type: 'x',
        input: { tenant },
        concurrency: { key: '${input.tenant}', max: 5 },
      }));
    // One agent slot; the big tenant's 200 tasks are created first.
    await h.runtime.tasks.createMany([...burst('big', 200), ...burst('b', 50), ...burst('c', 50)]);
    await h.runtime.idle();
    expect(order).toHaveLength(300);
    // While all three have work, each round serves each tenant once.
    const first150 = order.slice(0, 150);
    expect(first150.filter((t) => t === 'b')).toHaveLength(50);
    expect(first150.filter((t) => t === 'c')).toHaveLength(50);
    expect(order.slice(0, 6)).toEqual(['big', 'b', 'c', 'big', 'b', 'c']);
    // Without keys, the same backlog would run oldest first: b's first task would wait for 200.
  });

  it('keeps priorities within a key, after a restart as before it (SQLite)', async () => {
    const file = await sqliteFile();
    try {
      const clock = new SimulatedClock(0);
      const first = file.open(clock);
      await first.tasks.createMany([
        { id: 'low', type: 'x', priority: 'low', concurrency: { key: 'k', max: 1 } },
        { id: 'high', type: 'x', priority: 'high', concurrency: { key: 'k', max: 1 } },
        { id: 'mid', type: 'x', priority: 'medium', concurrency: { key: 'k', max: 1 } },
      ]);
      await first.idle();
      await first.stop();

      const second = file.open(clock);
      const started: string[] = [];
      const hold = deferred();
      await second.agents.register({
        id: 'b',
        capacity: 5,
        handler: async (task) => {
          started.push(task.id);
          await hold.promise;
          return 'ok';
        },
      });
      await second.idle();
      // One of the key at a time, highest priority first, after the restart as before it.
      expect(started).toEqual(['high']);
      hold.resolve('go');
      await second.tasks.wait('low');
      expect(started).toEqual(['high', 'mid', 'low']);
    } finally {
      await file.cleanup();
    }
  });
});
