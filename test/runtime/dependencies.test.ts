import { afterEach, describe, expect, it } from 'vitest';
import { TroupeError } from '../../src/index.js';
import { deferred, harness, type Harness } from './helpers.js';

describe('task dependencies', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('runs a task only after its dependencies, handing their results and artifacts over', async () => {
    h = await harness();
    const order: string[] = [];
    const seen: Record<string, unknown> = {};
    await h.runtime.agents.register({
      id: 'worker',
      capacity: 4,
      handler: (task, ctx) => {
        order.push(task.id);
        seen[task.id] = { deps: ctx.dependencies, artifacts: ctx.artifacts };
        ctx.artifact(`${task.id}.txt`, `made by ${task.id}`);
        return `${task.id}-result`;
      },
    });
    await h.runtime.tasks.createMany([
      { id: 'c', type: 't', dependsOn: ['a', 'b'] },
      { id: 'a', type: 't' },
      { id: 'b', type: 't', dependsOn: ['a'] },
    ]);
    await h.runtime.tasks.wait('c');
    expect(order).toEqual(['a', 'b', 'c']);
    expect(seen.c).toEqual({
      deps: {
        a: { result: 'a-result', artifacts: { 'a.txt': 'made by a' }, quality: null },
        b: { result: 'b-result', artifacts: { 'b.txt': 'made by b' }, quality: null },
      },
      artifacts: { 'a.txt': 'made by a', 'b.txt': 'made by b' },
    });
    expect(h.of('dependency.resolved').filter((e) => e.taskId === 'c')).toHaveLength(2);
  });

  it('starts at once when its dependency had already succeeded', async () => {
    h = await harness();
    await h.runtime.agents.register({ id: 'a', handler: (t) => t.id });
    await h.runtime.tasks.create({ id: 'first', type: 't' });
    await h.runtime.tasks.wait('first');
    await h.runtime.tasks.create({ id: 'second', type: 't', dependsOn: ['first'] });
    expect((await h.runtime.tasks.wait('second')).status).toBe('succeeded');
  });

  it('rejects a cycle with an error that names it, and creates none of the tasks', async () => {
    h = await harness();
    const attempt = h.runtime.tasks.createMany([
      { id: 'x', type: 't', dependsOn: ['z'] },
      { id: 'y', type: 't', dependsOn: ['x'] },
      { id: 'z', type: 't', dependsOn: ['y'] },
      { id: 'free', type: 't' },
    ]);
    await expect(attempt).rejects.toMatchObject({ code: 'E_DEPENDENCY_CYCLE' });
    await expect(attempt).rejects.toThrow(/x -> z -> y -> x/);
    expect(await h.runtime.tasks.list()).toEqual([]);
  });

  it('rejects a task that depends on itself or on a missing task', async () => {
    h = await harness();
    await expect(h.runtime.tasks.create({ id: 'me', type: 't', dependsOn: ['me'] })).rejects.toThrow(
      'task me depends on itself',
    );
    const missing = h.runtime.tasks.create({ id: 'orphan', type: 't', dependsOn: ['ghost'] });
    await expect(missing).rejects.toBeInstanceOf(TroupeError);
    await expect(missing).rejects.toMatchObject({ code: 'E_MISSING_DEPENDENCY' });
    expect(await h.runtime.tasks.list()).toEqual([]);
  });

  it('skips the dependents of a task that dead-lettered', async () => {
    h = await harness();
    await h.runtime.agents.register({
      id: 'a',
      handler: (t) => {
        if (t.id === 'base') throw new Error('no');
        return 1;
      },
    });
    await h.runtime.tasks.createMany([
      { id: 'base', type: 't', retry: { maxAttempts: 1 } },
      { id: 'child', type: 't', dependsOn: ['base'] },
      { id: 'grandchild', type: 't', dependsOn: ['child'] },
    ]);
    const grandchild = await h.runtime.tasks.wait('grandchild');
    expect(grandchild.status).toBe('skipped');
    expect((await h.runtime.tasks.get('child')).reason).toBe('dependency base ended dead_lettered');
    expect(grandchild.reason).toBe('dependency child ended skipped');
  });

  it('names both directions: what a task blocks (dependentsOf) and what blocks it (dependenciesOf)', async () => {
    h = await harness();
    await h.runtime.tasks.createMany([
      { id: 'root', type: 't' },
      { id: 'mid', type: 't', dependsOn: ['root'] },
      { id: 'leaf', type: 't', dependsOn: ['mid'] },
      { id: 'other', type: 't' },
    ]);
    const ids = (views: Array<{ id: string }>) => views.map((t) => t.id).sort();
    expect(ids(await h.runtime.tasks.dependentsOf('root'))).toEqual(['leaf', 'mid']);
    expect(ids(await h.runtime.tasks.dependentsOf('leaf'))).toEqual([]);
    expect(ids(await h.runtime.tasks.dependenciesOf('leaf'))).toEqual(['mid', 'root']);
    expect(ids(await h.runtime.tasks.dependenciesOf('root'))).toEqual([]);
    expect(await h.runtime.tasks.dependentsOf('other')).toEqual([]);
    expect(await h.runtime.tasks.dependenciesOf('other')).toEqual([]);
    // The old name said the opposite of what it returned; it is gone rather than kept with either meaning.
    expect((h.runtime.tasks as unknown as Record<string, unknown>).blockedBy).toBeUndefined();
  });

  it('leaves succeeded dependencies out of what blocks a task', async () => {
    h = await harness();
    await h.runtime.agents.register({ id: 'a', handler: () => 1 });
    await h.runtime.tasks.create({ id: 'done', type: 't' });
    await h.runtime.tasks.wait('done');
    await h.runtime.tasks.createMany([
      { id: 'open', type: 'never', requires: ['nobody'] },
      { id: 'after', type: 't', dependsOn: ['done', 'open'] },
    ]);
    expect((await h.runtime.tasks.dependenciesOf('after')).map((t) => t.id)).toEqual(['open']);
    expect((await h.runtime.tasks.dependentsOf('done')).map((t) => t.id)).toEqual([]);
  });

  it('keeps a waiting task out of the queue until every dependency succeeded', async () => {
    h = await harness();
    const gate = deferred();
    await h.runtime.agents.register({
      id: 'a',
      capacity: 3,
      handler: async (t) => {
        if (t.id === 'slow') await gate.promise;
      },
    });
    await h.runtime.tasks.createMany([
      { id: 'slow', type: 't' },
      { id: 'quick', type: 't' },
      { id: 'joined', type: 't', dependsOn: ['slow', 'quick'] },
    ]);
    await h.runtime.tasks.wait('quick');
    const waiting = await h.runtime.tasks.get('joined');
    expect(waiting.status).toBe('waiting');
    expect(waiting.pendingDependencies).toEqual(['slow']);
    gate.resolve(undefined);
    expect((await h.runtime.tasks.wait('joined')).status).toBe('succeeded');
  });
});
