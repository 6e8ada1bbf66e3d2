import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore, type CommitBatch } from '../../src/index.js';
import { deferred, harness, type Harness } from './helpers.js';

/** A memory store whose commits wait for the test to release them, and which records each batch. */
class GatedStore extends MemoryStore {
  batches: CommitBatch[] = [];
  gate: { promise: Promise<unknown>; resolve: (v: unknown) => void } | null = null;
  override async commit(batch: CommitBatch): Promise<void> {
    this.batches.push(structuredClone(batch));
    if (this.gate) await this.gate.promise;
    await super.commit(batch);
  }
}

describe('actor host', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('lets nothing leave the process before the batch that caused it has committed', async () => {
    const store = new GatedStore();
    h = await harness({ store });
    const handled: string[] = [];
    const seenEvents: string[] = [];
    h.runtime.events.subscribe({ types: ['task.*'] }, (e) => seenEvents.push(e.type));
    await h.runtime.agents.register({
      id: 'w',
      handler: (t) => {
        handled.push(t.id);
      },
    });
    await h.runtime.idle();
    store.gate = deferred();
    const creating = h.runtime.tasks.create({ id: 'x', type: 't' });
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    // The batch that queued and assigned the task is written but not yet committed.
    expect(store.batches.at(-1)?.actors.map((a) => a.id)).toContain('x');
    expect(handled).toEqual([]);
    expect(seenEvents).toEqual([]);
    store.gate.resolve(undefined);
    store.gate = null;
    await creating;
    await h.runtime.tasks.wait('x');
    expect(handled).toEqual(['x']);
    expect(seenEvents).toContain('task.assigned');
  });

  it('writes only the actors a batch touched (O(1) per transition, not per actor)', async () => {
    const store = new GatedStore();
    h = await harness({ store });
    await h.runtime.tasks.createMany(
      Array.from({ length: 200 }, (_, i) => ({ id: `idle${i}`, type: 't', requires: ['none'] })),
    );
    await h.runtime.idle();
    await h.runtime.agents.register({ id: 'w', capabilities: ['x'], handler: () => 1 });
    await h.runtime.tasks.create({ id: 'one', type: 't', requires: ['x'] });
    await h.runtime.tasks.wait('one');
    await h.runtime.idle();
    const since = store.batches.slice(-3);
    const written = new Set(since.flatMap((b) => b.actors.map((a) => a.id)));
    expect(written.has('one')).toBe(true);
    expect([...written].filter((id) => id.startsWith('idle'))).toEqual([]);
  });

  it('groups the writes of one batch into a single commit', async () => {
    const store = new GatedStore();
    h = await harness({ store });
    await h.runtime.agents.register({ id: 'w', capacity: 50, handler: () => 1 });
    await h.runtime.idle();
    const before = store.batches.length;
    await h.runtime.tasks.createMany(Array.from({ length: 50 }, (_, i) => ({ id: `g${i}`, type: 't' })));
    // 50 spawns, their queueing, dispatch and assignment: one commit (the completions that the
    // handlers then send make later batches).
    const first = store.batches[before]?.actors.filter((a) => a.kind === 'task') ?? [];
    expect(first).toHaveLength(50);
    expect(first.every((a) => JSON.stringify(a.state) === JSON.stringify({ leased: 'running' }))).toBe(true);
  });

  it('creates a task set larger than a batch in one commit: a crash stores all of it or none', async () => {
    const store = new GatedStore();
    h = await harness({ store });
    await h.runtime.idle();
    const before = store.batches.length;
    const n = 4_500; // the host takes 2,000 new messages per batch
    await h.runtime.tasks.createMany(
      Array.from({ length: n }, (_, i) => ({ id: `big${i}`, type: 't', requires: ['none'] })),
    );
    const spawned = store.batches.slice(before).map((b) => b.actors.filter((a) => a.id.startsWith('big')).length);
    expect(spawned[0]).toBe(n);
    // Messages of an ordinary flood still commit in steps of the batch size.
    const flood = store.batches.length;
    await Promise.all(
      Array.from({ length: 2_500 }, (_, i) => h.runtime.tasks.create({ id: `one${i}`, type: 't', requires: ['none'] })),
    );
    const sizes = store.batches.slice(flood).map((b) => b.actors.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2_000);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(2_500);
  });

  it('a settled actor revived by an event it does not take goes back to the store only', async () => {
    h = await harness();
    await h.runtime.agents.register({ id: 'w', handler: () => 'r' });
    await h.runtime.tasks.create({ id: 'done', type: 't' });
    await h.runtime.tasks.wait('done');
    await h.runtime.idle();
    h.runtime.core.host.send('done', { type: 'task.dependency.failed', taskId: 'elsewhere', status: 'failed' });
    await h.runtime.idle();
    expect(h.runtime.core.host.getLive('done')).toBeUndefined();
    expect((await h.runtime.tasks.wait('done')).status).toBe('succeeded');
  });

  it('evicts settled actors from memory and loads them again on demand', async () => {
    h = await harness();
    await h.runtime.agents.register({ id: 'w', handler: () => 'r' });
    await h.runtime.tasks.create({ id: 'gone', type: 't' });
    await h.runtime.tasks.wait('gone');
    await h.runtime.idle();
    expect(h.runtime.core.host.getLive('gone')).toBeUndefined();
    expect((await h.runtime.tasks.get('gone')).result).toBe('r');
  });

  it('stops the runtime cleanly when a store read fails inside a batch', async () => {
    const store = new GatedStore();
    h = await harness({ store });
    await h.runtime.idle();
    store.getActor = async () => {
      throw new Error('read error');
    };
    // Sending to an actor that is not live makes the batch read the store.
    await expect(h.runtime.leases.accept('not-live', 'lease')).rejects.toMatchObject({ code: 'E_STORE' });
    await expect(h.runtime.tasks.create({ id: 'after', type: 't' })).rejects.toMatchObject({ code: 'E_STORE' });
  });

  it('stops the runtime cleanly when the read of a spawn group fails inside a batch', async () => {
    const store = new GatedStore();
    h = await harness({ store });
    await h.runtime.idle();
    // The batch's one read of the group's ids fails (the API reads the store for none of them).
    store.getActors = async () => {
      throw new Error('read error');
    };
    await expect(
      h.runtime.tasks.createMany([
        { id: 'g1', type: 't' },
        { id: 'g2', type: 't' },
      ]),
    ).rejects.toMatchObject({ code: 'E_STORE' });
    expect(h.runtime.core.host.failed?.message).toContain('read error');
    expect(await MemoryStore.prototype.getActors.call(store, ['g1', 'g2'])).toEqual(new Map());
  });

  it('stops accepting work when the store fails, and says why', async () => {
    const store = new GatedStore();
    h = await harness({ store });
    await h.runtime.idle();
    store.commit = async () => {
      throw new Error('disk on fire');
    };
    await expect(h.runtime.tasks.create({ id: 'lost', type: 't' })).rejects.toMatchObject({ code: 'E_STORE' });
    await expect(h.runtime.tasks.create({ id: 'next', type: 't' })).rejects.toMatchObject({ code: 'E_STORE' });
    expect(h.runtime.core.host.failed?.message).toContain('disk on fire');
  });
});

describe('spawn groups', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('creates a group all or none: one id taken when the batch runs refuses every spawn of it', async () => {
    h = await harness();
    await h.runtime.agents.register({ id: 'taken', handler: () => null });
    const request = (id: string) => ({
      kind: 'task' as const,
      id,
      ticketId: null,
      input: {
        id,
        type: 't',
        priority: 50,
        requires: [],
        dependsOn: [],
        satisfiedDeps: [],
        phaseOpen: true,
        retry: { maxAttempts: 1, backoff: { baseMs: 1, factor: 1, capMs: 1, jitter: 0 } },
        timeouts: {},
      },
    });
    // Straight to the host: the API would have refused the taken id before asking.
    const outcomes = await h.runtime.core.host.spawnAll([request('a'), request('taken'), request('b')]);
    expect(outcomes.map((o) => o.applied)).toEqual([false, false, false]);
    expect(outcomes.map((o) => o.error?.code)).toEqual(['E_DUPLICATE_ID', 'E_DUPLICATE_ID', 'E_DUPLICATE_ID']);
    expect(outcomes[0]?.error?.message).toContain('"taken"');
    expect(h.runtime.core.host.getLive('a')).toBeUndefined();
    await expect(h.runtime.tasks.get('b')).rejects.toMatchObject({ code: 'E_UNKNOWN_TASK' });
    expect(h.of('task.created')).toEqual([]);
  });
});
