import { afterEach, describe, expect, it } from 'vitest';
import { NonRetryableError } from '../src/index.js';
import { harness, type Harness } from './runtime/helpers.js';

/** What each task's handler saw, by task id. */
type Seen = Record<
  string,
  {
    input: unknown;
    dependsOn: string[];
    deps: string[];
    artifacts: Record<string, unknown>;
    requires: string[];
    priority: number;
  }
>;

async function worker(h: Harness, results: Record<string, unknown> = {}): Promise<Seen> {
  const seen: Seen = {};
  await h.runtime.agents.register({
    id: 'worker',
    capabilities: ['python', 'fastapi', 'docs'],
    capacity: 50,
    handler: (task, ctx) => {
      seen[task.id] = {
        input: task.input,
        dependsOn: task.dependsOn,
        deps: Object.keys(ctx.dependencies),
        artifacts: ctx.artifacts,
        requires: task.requires,
        priority: task.priority,
      };
      if (task.type === 'fail') throw new NonRetryableError('asked to fail');
      ctx.artifact(`${task.id}.out`, task.id);
      return results[task.id] ?? results[task.type] ?? { by: task.id };
    },
  });
  return seen;
}

describe('split', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('turns a source into parallel children that wait for it and receive its result and artifacts', async () => {
    h = await harness();
    await h.runtime.tasks.create({ id: 'design', type: 'design', requires: ['python'] });
    const split = await h.runtime.coordination.split({
      id: 'impl',
      sourceTaskId: 'design',
      requires: ['python', 'fastapi'],
      targets: [
        { type: 'implement_module_a', description: 'Implement module A', priority: 'high', input: { module: 'a' } },
        { id: 'docs', type: 'write_docs', priority: 10, requires: ['docs'] },
      ],
    });
    expect(split).toMatchObject({ status: 'created', children: ['impl.0', 'docs'] });
    const a = await h.runtime.tasks.get('impl.0');
    expect(a).toMatchObject({
      status: 'waiting',
      type: 'implement_module_a',
      description: 'Implement module A',
      priority: 75,
      dependsOn: ['design'],
    });
    const seen = await worker(h, { design: { plan: 'two modules' } });
    await h.runtime.tasks.wait('docs');
    expect(seen['impl.0']).toMatchObject({
      input: { module: 'a' },
      deps: ['design'],
      artifacts: { 'design.out': 'design' },
      requires: ['python', 'fastapi'],
    });
    expect(seen.docs).toMatchObject({ requires: ['docs'], priority: 10 });
    expect(h.of('coordination.split.created')[0]?.data).toEqual({
      id: 'impl',
      source: 'design',
      children: ['impl.0', 'docs'],
      count: 2,
    });
  });

  it('maps over a list in the source result: n comes from data, each child gets its item', async () => {
    h = await harness();
    await h.runtime.tasks.create({ id: 'plan', type: 'plan' });
    const split = await h.runtime.coordination.split({
      id: 'mods',
      sourceTaskId: 'plan',
      map: { path: 'work.modules', task: { type: 'module', input: { lang: 'ts' } } },
    });
    expect(split.status).toBe('waiting');
    // The agent comes once the call has answered: until then the source cannot have run.
    const seen = await worker(h, { plan: { work: { modules: ['auth', 'billing', 'search'] } } });
    const created = await h.runtime.coordination.wait('mods');
    expect(created).toMatchObject({ status: 'created', children: ['mods.0', 'mods.1', 'mods.2'] });
    await h.runtime.tasks.wait('mods.2');
    expect(seen['mods.1']).toMatchObject({ input: { lang: 'ts', item: 'billing', index: 1 }, deps: ['plan'] });
  });

  it('a map over an empty list creates no children; a missing path or a non-list fails the split and says why', async () => {
    h = await harness();
    await worker(h, { none: { list: [] }, missing: { other: 1 }, scalar: { list: 'x' } });
    await h.runtime.tasks.createMany([
      { id: 'none', type: 'none' },
      { id: 'missing', type: 'missing' },
      { id: 'scalar', type: 'scalar' },
    ]);
    for (const id of ['none', 'missing', 'scalar']) {
      await h.runtime.coordination.split({
        id: `s-${id}`,
        sourceTaskId: id,
        map: { path: 'list', task: { type: 'child' } },
      });
    }
    expect(await h.runtime.coordination.wait('s-none')).toMatchObject({ status: 'created', children: [] });
    expect(await h.runtime.coordination.wait('s-missing')).toMatchObject({
      status: 'failed',
      reason: 'split s-missing: "list" in the result of missing is missing',
    });
    expect(await h.runtime.coordination.wait('s-scalar')).toMatchObject({
      status: 'failed',
      reason: 'split s-scalar: "list" in the result of scalar is not a list ("x")',
    });
  });

  it('a map split whose source fails fails too; a fixed split of a failed source is refused up front', async () => {
    h = await harness();
    await h.runtime.tasks.create({ id: 'broken', type: 'fail' });
    await h.runtime.coordination.split({
      id: 'late',
      sourceTaskId: 'broken',
      map: { path: '', task: { type: 'child' } },
    });
    await worker(h);
    expect(await h.runtime.coordination.wait('late')).toMatchObject({
      status: 'failed',
      reason: 'split late: source broken ended dead_lettered',
    });
    await expect(
      h.runtime.coordination.split({ sourceTaskId: 'broken', targets: [{ type: 'x' }] }),
    ).rejects.toMatchObject({ code: 'E_INVALID_STATE' });
  });

  it('nests: a child splits again once it succeeds, and a join over the nested split sees the grandchildren', async () => {
    h = await harness();
    const seen = await worker(h, { module: { files: ['f1', 'f2'] } });
    await h.runtime.tasks.create({ id: 'root', type: 'root' });
    await h.runtime.coordination.split({
      id: 'outer',
      sourceTaskId: 'root',
      targets: [
        { type: 'module', split: { map: { path: 'files', task: { type: 'file' } } } },
        { type: 'module', split: { targets: [{ type: 'file' }] } },
      ],
    });
    const inner0 = await h.runtime.coordination.wait('outer.0.split');
    expect(inner0).toMatchObject({
      status: 'created',
      sourceTaskId: 'outer.0',
      children: ['outer.0.split.0', 'outer.0.split.1'],
    });
    expect(await h.runtime.coordination.get('outer.1.split')).toMatchObject({
      status: 'created',
      children: ['outer.1.split.0'],
    });
    await h.runtime.coordination.join({
      id: 'files',
      sources: { split: 'outer.0.split' },
      merge: 'combine',
      continuation: { type: 'bundle' },
    });
    const joined = await h.runtime.coordination.wait('files');
    expect(joined).toMatchObject({ status: 'ready', sources: ['outer.0.split.0', 'outer.0.split.1'] });
    await h.runtime.tasks.wait('files.continuation');
    // A grandchild waits on its parent child, and sees the whole line's artifacts through it.
    expect(seen['outer.0.split.1']).toMatchObject({
      input: { item: 'f2', index: 1 },
      deps: ['outer.0'],
      artifacts: { 'outer.0.out': 'outer.0' },
    });
    expect(seen['files.continuation']?.artifacts).toEqual({
      'outer.0.split.0.out': 'outer.0.split.0',
      'outer.0.split.1.out': 'outer.0.split.1',
    });
  });

  it('cancelling a map split that waits for its source fails it, and the join waiting for its children', async () => {
    h = await harness();
    await h.runtime.tasks.create({ id: 'slow', type: 'plan' });
    await h.runtime.coordination.split({
      id: 'pending',
      sourceTaskId: 'slow',
      map: { path: 'list', task: { type: 'child' } },
    });
    await h.runtime.coordination.join({ id: 'after', sources: { split: 'pending' }, continuation: { type: 'next' } });
    expect(await h.runtime.coordination.cancel('pending', 'not needed')).toMatchObject({
      status: 'failed',
      reason: 'split pending was cancelled: not needed',
    });
    expect(await h.runtime.coordination.wait('after')).toMatchObject({
      status: 'failed',
      reason: 'split pending was cancelled: not needed',
    });
    expect((await h.runtime.tasks.get('after.continuation')).status).toBe('skipped');
    await expect(h.runtime.coordination.cancel('pending')).rejects.toMatchObject({ code: 'E_INVALID_STATE' });
  });

  it('refuses bad requests before creating anything', async () => {
    h = await harness();
    await h.runtime.tasks.create({ id: 'src', type: 't' });
    await expect(h.runtime.coordination.split({ sourceTaskId: 'nope', targets: [] })).rejects.toMatchObject({
      code: 'E_UNKNOWN_TASK',
    });
    await expect(
      h.runtime.coordination.split({ sourceTaskId: 'src', targets: [], map: { path: '', task: { type: 'x' } } }),
    ).rejects.toMatchObject({
      code: 'E_INVALID_INPUT',
    });
    await expect(
      h.runtime.coordination.split({ sourceTaskId: 'src', targets: [{ id: 'src', type: 'x' }] }),
    ).rejects.toMatchObject({ code: 'E_DUPLICATE_ID' });
    await expect(
      h.runtime.coordination.split({ sourceTaskId: 'src', targets: [{ type: 'x', dependsOn: ['ghost'] }] }),
    ).rejects.toMatchObject({
      code: 'E_MISSING_DEPENDENCY',
    });
    await expect(
      h.runtime.coordination.split({ sourceTaskId: 'src', targets: [{ type: 'x', phase: 'build' }] }),
    ).rejects.toMatchObject({
      code: 'E_INVALID_INPUT',
    });
    expect((await h.runtime.tasks.list()).map((t) => t.id)).toEqual(['src']);
  });
});
