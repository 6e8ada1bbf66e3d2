import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, MemoryStore, SimulatedClock } from '../src/index.js';
import { deferred, harness, type Harness } from './runtime/helpers.js';

/** An agent that finishes a task only when the test says so. */
async function manual(h: Harness) {
  const waiting = new Map<string, ReturnType<typeof deferred<unknown>>>();
  const gate = (id: string) => {
    const d = waiting.get(id) ?? deferred<unknown>();
    waiting.set(id, d);
    return d;
  };
  await h.runtime.agents.register({
    id: 'manual',
    capacity: 100,
    handler: async (task, ctx) => {
      if (task.type === 'dependent') return { saw: ctx.dependencies };
      const result = await gate(task.id).promise;
      ctx.artifact(`${task.id}.log`, 'done');
      return result;
    },
  });
  return async (id: string, result: unknown = id) => {
    gate(id).resolve(result);
    await h.runtime.idle();
  };
}

const create = (h: Harness, ...ids: string[]) => h.runtime.tasks.createMany(ids.map((id) => ({ id, type: 'work' })));

describe('sync point', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('waits for all by default, then lets its dependents run with what arrived', async () => {
    h = await harness();
    const finish = await manual(h);
    await create(h, 'a', 'b');
    const sync = await h.runtime.coordination.syncPoint({
      id: 'impl-done',
      taskIds: ['a', 'b'],
      dependents: [{ type: 'dependent' }, { type: 'dependent' }],
    });
    expect(sync).toMatchObject({
      kind: 'sync',
      status: 'waiting',
      needed: 2,
      held: ['impl-done.dependent.0', 'impl-done.dependent.1'],
    });
    await finish('a');
    expect((await h.runtime.tasks.get('impl-done.dependent.0')).status).toBe('waiting');
    await finish('b');
    const seen = (await h.runtime.tasks.wait('impl-done.dependent.1')).result as {
      saw: Record<string, { result: { succeeded: string[] }; artifacts: unknown }>;
    };
    expect(seen.saw['impl-done']?.result.succeeded).toEqual(['a', 'b']);
    expect(seen.saw['impl-done']?.artifacts).toEqual({ 'a.log': 'done', 'b.log': 'done' });
    expect(h.events.filter((e) => e.type.startsWith('coordination.sync')).map((e) => e.type)).toEqual([
      'coordination.sync.created',
      'coordination.sync.ready',
    ]);
  });

  it('with requiredCount, is ready as soon as that many succeeded', async () => {
    h = await harness();
    const finish = await manual(h);
    await create(h, 'a', 'b', 'c');
    await h.runtime.coordination.syncPoint({ id: 'two', taskIds: ['a', 'b', 'c'], requiredCount: 2 });
    await finish('c');
    await finish('a');
    expect(await h.runtime.coordination.get('two')).toMatchObject({
      status: 'ready',
      succeeded: 2,
      result: { succeeded: ['a', 'c'] },
    });
  });

  it('times out on the simulated clock and fails, skipping its dependents with the reason', async () => {
    h = await harness();
    const finish = await manual(h);
    await create(h, 'slow1', 'slow2');
    await h.runtime.coordination.syncPoint({
      id: 'deadline',
      taskIds: ['slow1', 'slow2'],
      timeoutMs: 60_000,
      dependents: [{ type: 'dependent' }],
    });
    await finish('slow1');
    await h.clock.advance(59_999);
    expect((await h.runtime.coordination.get('deadline')).status).toBe('waiting');
    await h.clock.advance(1);
    const reason = 'sync deadline (all) timed out after 60000 ms with 1 of 2 needed successes';
    expect(await h.runtime.coordination.get('deadline')).toMatchObject({ status: 'failed', timedOut: true, reason });
    expect(await h.runtime.tasks.get('deadline.dependent.0')).toMatchObject({ status: 'skipped', reason });
    expect(h.of('coordination.sync.timeout')[0]).toMatchObject({
      at: 60_000,
      data: { id: 'deadline', outcome: 'fail', arrived: 1, needed: 2 },
    });
  });

  it('times out and continues with what arrived when asked to', async () => {
    h = await harness();
    const finish = await manual(h);
    await create(h, 'x', 'y', 'z');
    await h.runtime.coordination.syncPoint({
      id: 'best-effort',
      taskIds: ['x', 'y', 'z'],
      timeoutMs: 1_000,
      onTimeout: 'continue',
      dependents: [{ type: 'dependent' }],
    });
    await finish('y');
    await h.clock.advance(1_000);
    expect(await h.runtime.coordination.get('best-effort')).toMatchObject({
      status: 'ready',
      timedOut: true,
      result: { succeeded: ['y'], timedOut: true },
    });
    expect((await h.runtime.tasks.wait('best-effort.dependent.0')).status).toBe('succeeded');
    expect(h.events.filter((e) => e.type.startsWith('coordination.sync')).map((e) => e.type)).toEqual([
      'coordination.sync.created',
      'coordination.sync.timeout',
      'coordination.sync.ready',
    ]);
    // Sources that finish after the sync point was decided change nothing.
    await finish('x');
    expect(await h.runtime.coordination.get('best-effort')).toMatchObject({ succeeded: 1 });
  });

  it('fails as soon as requiredCount can no longer be met, before any deadline', async () => {
    h = await harness();
    await h.runtime.agents.register({ id: 'failing', handler: () => Promise.reject(new Error('no')) });
    await h.runtime.tasks.createMany(['f1', 'f2', 'f3'].map((id) => ({ id, type: 'work', retry: { maxAttempts: 1 } })));
    await h.runtime.coordination.syncPoint({
      id: 'doomed',
      taskIds: ['f1', 'f2', 'f3'],
      requiredCount: 2,
      timeoutMs: 10_000,
    });
    expect(await h.runtime.coordination.wait('doomed')).toMatchObject({
      status: 'failed',
      timedOut: false,
      reason: 'sync doomed (2-of-3) cannot be met: 2 of 3 sources failed; at most 1 may fail',
    });
    expect(h.clock.now()).toBe(0);
  });

  it('waits for the children of a split, however many it turns out to make', async () => {
    h = await harness();
    await h.runtime.agents.register({
      id: 'w',
      capacity: 10,
      handler: (t) => (t.type === 'plan' ? { parts: [1, 2, 3] } : t.id),
    });
    await h.runtime.tasks.create({ id: 'plan', type: 'plan' });
    await h.runtime.coordination.split({
      id: 'parts',
      sourceTaskId: 'plan',
      map: { path: 'parts', task: { type: 'part' } },
    });
    await h.runtime.coordination.syncPoint({ id: 'all-parts', taskIds: { split: 'parts' } });
    expect(await h.runtime.coordination.wait('all-parts')).toMatchObject({
      status: 'ready',
      sources: ['parts.0', 'parts.1', 'parts.2'],
      succeeded: 3,
    });
  });
});

describe('sync point across a restart', () => {
  it('its deadline is a durable timer: it still fires after a restart', async () => {
    const store = new MemoryStore();
    const first = createRuntime({ store, clock: new SimulatedClock(0) });
    await first.tasks.create({ id: 'never', type: 'work' });
    await first.coordination.syncPoint({ id: 'durable', taskIds: ['never'], timeoutMs: 5_000 });
    await first.stop();
    const clock = new SimulatedClock(1_000);
    const second = createRuntime({ store, clock });
    await second.start();
    expect((await second.coordination.get('durable')).status).toBe('waiting');
    await clock.advance(4_000);
    expect(await second.coordination.get('durable')).toMatchObject({ status: 'failed', timedOut: true });
    await second.stop();
  });
});
