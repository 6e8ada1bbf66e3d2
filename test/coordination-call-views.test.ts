import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, MemoryStore, SimulatedClock, type Runtime } from '../src/index.js';

/**
 * A coordination call answers with what is true once it resolves: everything its coordinator
 * could decide from what was already known when it was made (settled sources read from the
 * store, results to collect, a split that already made its children) has been decided by then.
 */
describe('what a coordination call returns', () => {
  const runtimes: Runtime[] = [];
  const start = (store = new MemoryStore()) => {
    const runtime = createRuntime({ store, clock: new SimulatedClock(0) });
    runtimes.push(runtime);
    return runtime;
  };
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.stop();
  });

  /** A runtime on a store whose tasks a, b and plan finished in an earlier process. */
  async function afterRestart(): Promise<Runtime> {
    const store = new MemoryStore();
    const first = start(store);
    await first.agents.register({
      id: 'w',
      handler: (t) => (t.id === 'plan' ? { items: ['x', 'y'] } : { [t.id]: true }),
    });
    await first.tasks.createMany([
      { id: 'a', type: 't' },
      { id: 'b', type: 't' },
      { id: 'plan', type: 't' },
    ]);
    for (const id of ['a', 'b', 'plan']) await first.tasks.wait(id);
    await first.stop();
    return start(store);
  }

  it('join({ sources: [] }) is ready, with its continuation released', async () => {
    const runtime = start();
    const join = await runtime.coordination.join({
      id: 'j0',
      sources: [],
      merge: 'combine',
      continuation: { id: 'next', type: 'next' },
    });
    expect(join).toMatchObject({ status: 'ready', result: { merged: {} } });
    expect((await runtime.tasks.get('next')).status).toBe('queued');
  });

  it('a join over sources settled in an earlier process is ready, with the merged result', async () => {
    const runtime = await afterRestart();
    const join = await runtime.coordination.join({ id: 'j1', sources: ['a', 'b'], merge: 'combine' });
    expect(join).toMatchObject({ status: 'ready', succeeded: 2, result: { merged: { a: true, b: true } } });
  });

  it('a join over sources settled in this process is ready too', async () => {
    const runtime = start();
    await runtime.agents.register({ id: 'w', handler: (t) => t.id });
    await runtime.tasks.createMany([
      { id: 'p', type: 't' },
      { id: 'q', type: 't' },
    ]);
    await runtime.tasks.wait('p');
    await runtime.tasks.wait('q');
    const join = await runtime.coordination.join({ id: 'j2', sources: ['p', 'q'], strategy: 'any' });
    expect(join.status).toBe('ready');
  });

  it('a map split over a finished source is created, with its children; a join over that split is then decided as far as it can be', async () => {
    const runtime = await afterRestart();
    const split = await runtime.coordination.split({
      id: 's',
      sourceTaskId: 'plan',
      map: { path: 'items', task: { type: 'item' } },
    });
    expect(split).toMatchObject({ status: 'created', children: ['s.0', 's.1'] });
    // The children are queued and no agent is there: waiting is what is true.
    const join = await runtime.coordination.join({ id: 'js', sources: { split: 's' } });
    expect(join).toMatchObject({ status: 'waiting', sources: ['s.0', 's.1'] });
  });

  it('a guard over a task settled in an earlier process has released its task', async () => {
    const runtime = await afterRestart();
    const guard = await runtime.coordination.guard({
      id: 'g',
      task: { id: 'guarded', type: 'after' },
      dependencies: [{ kind: 'task', taskId: 'a' }],
    });
    expect(guard.status).toBe('resolved');
    expect((await runtime.tasks.get('guarded')).status).toBe('queued');
  });

  it('a route after a task settled in an earlier process has decided', async () => {
    const runtime = await afterRestart();
    const route = await runtime.coordination.route({
      id: 'r',
      sourceTaskId: 'a',
      rules: [{ id: 'done', key: 'status', operator: '==', value: 'succeeded', decision: 'continue', priority: 1 }],
      branches: { continue: [{ type: 'ship' }] },
    });
    expect(route).toMatchObject({ status: 'decided', created: ['r.continue.0'] });
  });
});
