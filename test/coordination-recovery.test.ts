import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, MemoryStore, SimulatedClock, type Runtime } from '../src/index.js';

/**
 * Coordinators are durable: a runtime started on the store of one that stopped mid-way picks
 * every coordinator up where it was. What lives only in memory (who watches which task, which
 * guards wait for which gate, the wait-for graph) is rebuilt from the stored snapshots.
 */
describe('coordination across a restart', () => {
  const runtimes: Runtime[] = [];
  const start = (store: MemoryStore, clock = new SimulatedClock(0)) => {
    const runtime = createRuntime({ store, clock });
    runtimes.push(runtime);
    return runtime;
  };
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.stop();
  });

  it('a join half-way through counts the rest after the restart, and releases its continuation', async () => {
    const store = new MemoryStore();
    const first = start(store);
    await first.tasks.createMany(['a', 'b', 'c'].map((id) => ({ id, type: id === 'a' ? 'quick' : 'slow' })));
    await first.coordination.join({
      id: 'j',
      sources: ['a', 'b', 'c'],
      merge: 'combine',
      continuation: { type: 'quick' },
    });
    await first.agents.register({
      id: 'quick-only',
      capabilities: [],
      handler: (t) => (t.type === 'quick' ? { [t.id]: 1 } : new Promise(() => {})),
    });
    await first.tasks.wait('a');
    expect(await first.coordination.get('j')).toMatchObject({ succeeded: 1 });
    await first.stop();

    const clock = new SimulatedClock(0);
    const second = start(store, clock);
    await second.agents.register({ id: 'all', capacity: 5, handler: (t) => ({ [t.id]: 2 }) });
    // The task that was running when the process went away is retried after its backoff.
    await clock.advance(60_000);
    const done = await second.coordination.wait('j');
    expect(done).toMatchObject({ status: 'ready', succeeded: 3, result: { merged: { a: 1, b: 2, c: 2 } } });
    expect((await second.tasks.wait('j.continuation')).status).toBe('succeeded');
  });

  it('a map split waiting for its source expands once the source finishes after the restart', async () => {
    const store = new MemoryStore();
    const first = start(store);
    await first.tasks.create({ id: 'plan', type: 'plan' });
    await first.coordination.split({ id: 's', sourceTaskId: 'plan', map: { path: 'parts', task: { type: 'part' } } });
    await first.coordination.join({ id: 'j', sources: { split: 's' } });
    await first.stop();

    const second = start(store);
    await second.agents.register({
      id: 'w',
      capacity: 5,
      handler: (t) => (t.type === 'plan' ? { parts: ['x', 'y'] } : t.id),
    });
    expect(await second.coordination.wait('j')).toMatchObject({
      status: 'ready',
      sources: ['s.0', 's.1'],
      succeeded: 2,
    });
  });

  it('a guard waiting for a quality gate hears of the score set after the restart', async () => {
    const store = new MemoryStore();
    const first = start(store);
    await first.coordination.setQualityScore('coverage', 0.5);
    await first.coordination.guard({
      id: 'g',
      task: { id: 'tests', type: 't' },
      dependencies: [{ kind: 'quality', gate: 'coverage', threshold: 0.8 }],
    });
    await first.stop();

    const second = start(store);
    await second.start();
    expect(second.coordination.qualityScore('coverage')).toBe(0.5);
    await second.agents.register({ id: 'w', handler: () => 'ok' });
    await second.coordination.setQualityScore('coverage', 0.9);
    expect((await second.tasks.wait('tests')).status).toBe('succeeded');
    expect(await second.coordination.get('g')).toMatchObject({ status: 'resolved' });
  });
});
