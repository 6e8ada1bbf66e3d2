import { afterEach, describe, expect, it } from 'vitest';
import { NonRetryableError, type TaskHandlerContext } from '../src/index.js';
import { deferred, harness, type Harness } from './runtime/helpers.js';

/** Tasks whose outcome the test decides, one by one, in any order it likes. */
async function controlled(h: Harness) {
  const pending = new Map<string, ReturnType<typeof deferred<{ ok: boolean; result: unknown }>>>();
  const gate = (id: string) => {
    let d = pending.get(id);
    if (!d) {
      d = deferred();
      pending.set(id, d);
    }
    return d;
  };
  const contexts: Record<string, TaskHandlerContext> = {};
  await h.runtime.agents.register({
    id: 'controlled',
    capacity: 100,
    handler: async (task, ctx) => {
      contexts[task.id] = ctx;
      if (task.type === 'auto') return { auto: task.id };
      const { ok, result } = await gate(task.id).promise;
      if (!ok) throw new NonRetryableError(`${task.id} failed`);
      ctx.artifact(`${task.id}.txt`, task.id);
      return result;
    },
  });
  return {
    contexts,
    async succeed(id: string, result: unknown = { by: id }) {
      gate(id).resolve({ ok: true, result });
      await h.runtime.idle();
    },
    async fail(id: string) {
      gate(id).resolve({ ok: false, result: null });
      await h.runtime.idle();
    },
  };
}

const tasks = (h: Harness, ...ids: string[]) =>
  h.runtime.tasks.createMany(ids.map((id) => ({ id, type: 'work', retry: { maxAttempts: 1 } })));

describe('join', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('all: the continuation runs once every source succeeded, with results merged in the order GIVEN', async () => {
    h = await harness();
    const c = await controlled(h);
    await tasks(h, 'a', 'b', 'c');
    const join = await h.runtime.coordination.join({
      id: 'j',
      sources: ['a', 'b', 'c'],
      merge: 'combine',
      continuation: { type: 'auto' },
    });
    expect(join).toMatchObject({ status: 'waiting', held: ['j.continuation'], needed: 3 });
    expect((await h.runtime.tasks.get('j.continuation')).status).toBe('waiting');
    // Completion order c, a, b; the merge still follows the given order a, b, c.
    await c.succeed('c', { k: 'c', onlyC: 1 });
    await c.succeed('a', { k: 'a', onlyA: 1 });
    expect((await h.runtime.coordination.get('j')).status).toBe('waiting');
    await c.succeed('b', { k: 'b' });
    const done = await h.runtime.coordination.wait('j');
    expect(done.kind === 'join' && done.result?.merged).toEqual({ k: 'c', onlyA: 1, onlyC: 1 });
    await h.runtime.tasks.wait('j.continuation');
    const ctx = c.contexts['j.continuation'];
    expect(ctx?.dependencies.j?.result).toMatchObject({
      succeeded: ['a', 'b', 'c'],
      results: { a: { k: 'a', onlyA: 1 } },
      failed: {},
    });
    expect(ctx?.artifacts).toEqual({ 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' });
    expect(h.events.filter((e) => e.type.startsWith('coordination.')).map((e) => e.type)).toEqual([
      'coordination.join.created',
      'coordination.merge.completed',
      'coordination.join.ready',
    ]);
  });

  it('empty joins: all is ready at once with nothing merged; any fails at once and skips its continuation', async () => {
    h = await harness();
    await controlled(h);
    await h.runtime.coordination.join({ id: 'all0', sources: [], merge: 'combine', continuation: { type: 'auto' } });
    await h.runtime.coordination.join({ id: 'any0', sources: [], strategy: 'any', continuation: { type: 'auto' } });
    expect(await h.runtime.coordination.wait('all0')).toMatchObject({
      status: 'ready',
      result: { merged: {}, results: {}, succeeded: [] },
    });
    expect((await h.runtime.tasks.wait('all0.continuation')).status).toBe('succeeded');
    expect(await h.runtime.coordination.wait('any0')).toMatchObject({
      status: 'failed',
      reason: 'join any0 (any) cannot be met: needs 1 success(es) but has no sources',
    });
    expect(await h.runtime.tasks.wait('any0.continuation')).toMatchObject({
      status: 'skipped',
      reason: 'join any0 (any) cannot be met: needs 1 success(es) but has no sources',
    });
  });

  it('single-source joins follow their source either way', async () => {
    h = await harness();
    const c = await controlled(h);
    await tasks(h, 'ok', 'ko');
    await h.runtime.coordination.join({ id: 'j-ok', sources: ['ok'], strategy: 'majority' });
    await h.runtime.coordination.join({ id: 'j-ko', sources: ['ko'], strategy: 'majority' });
    await c.succeed('ok');
    await c.fail('ko');
    expect(await h.runtime.coordination.wait('j-ok')).toMatchObject({ status: 'ready', succeeded: 1 });
    expect(await h.runtime.coordination.wait('j-ko')).toMatchObject({ status: 'failed', failed: 1 });
  });

  it('any: the first success is enough and the remaining sources are cancelled when asked', async () => {
    h = await harness();
    const c = await controlled(h);
    await tasks(h, 'p', 'q', 'r');
    await h.runtime.coordination.join({
      id: 'first',
      sources: ['p', 'q', 'r'],
      strategy: 'any',
      cancelRemaining: true,
      continuation: { type: 'auto' },
    });
    await c.fail('p');
    await c.succeed('q');
    expect(await h.runtime.coordination.wait('first')).toMatchObject({
      status: 'ready',
      result: { succeeded: ['q'], failed: { p: 'dead_lettered' } },
    });
    expect(await h.runtime.tasks.get('r')).toMatchObject({
      status: 'cancelled',
      reason: 'join first (any) no longer needs it',
    });
  });

  it('a k-of-n join fails as soon as it becomes impossible, says why, skips the continuation and cancels the rest', async () => {
    h = await harness();
    const c = await controlled(h);
    await tasks(h, 't1', 't2', 't3', 't4', 't5');
    await h.runtime.coordination.join({
      id: 'three',
      sources: ['t1', 't2', 't3', 't4', 't5'],
      strategy: { strategy: 'k-of-n', k: 3, maxFailures: 1 },
      cancelRemaining: true,
      continuation: { type: 'auto' },
    });
    await c.succeed('t1');
    await c.fail('t2');
    expect((await h.runtime.coordination.get('three')).status).toBe('waiting');
    await c.fail('t3');
    const reason = 'join three (3-of-5) cannot be met: 2 of 5 sources failed; at most 1 may fail';
    expect(await h.runtime.coordination.wait('three')).toMatchObject({
      status: 'failed',
      reason,
      succeeded: 1,
      failed: 2,
    });
    expect(await h.runtime.tasks.get('three.continuation')).toMatchObject({ status: 'skipped', reason });
    expect((await h.runtime.tasks.get('t4')).status).toBe('cancelled');
    expect(h.of('coordination.join.failed')[0]?.data).toMatchObject({ id: 'three', reason });
  });

  it('majority with a tie in the vote: the value first given wins', async () => {
    h = await harness();
    const c = await controlled(h);
    await tasks(h, 'v1', 'v2', 'v3', 'v4');
    await h.runtime.coordination.join({
      id: 'vote',
      sources: ['v1', 'v2', 'v3', 'v4'],
      strategy: 'all',
      merge: { strategy: 'majority', key: 'choice' },
    });
    await c.succeed('v4', { choice: 'rest' });
    await c.succeed('v3', { choice: 'graphql' });
    await c.succeed('v2', { choice: 'graphql' });
    await c.succeed('v1', { choice: 'rest' });
    const done = await h.runtime.coordination.wait('vote');
    expect(done.kind === 'join' && done.result?.merged).toBe('rest');
    expect(h.of('coordination.merge.completed')[0]?.data).toMatchObject({
      strategy: 'majority:choice',
      votes: 2,
      total: 4,
      tie: true,
      voters: ['v1', 'v4'],
    });
  });

  it('joins sources that had already settled, and runs a registered custom merge', async () => {
    h = await harness();
    const c = await controlled(h);
    await tasks(h, 'x', 'y');
    await c.succeed('x', 2);
    await c.succeed('y', 3);
    h.runtime.coordination.registerMerge('product', (inputs) => inputs.reduce((p, i) => p * (i.result as number), 1));
    await h.runtime.coordination.join({
      id: 'late',
      sources: ['x', 'y'],
      merge: { strategy: 'custom', name: 'product' },
    });
    expect(await h.runtime.coordination.wait('late')).toMatchObject({ status: 'ready', result: { merged: 6 } });
  });

  it('a merge that cannot merge fails the join with the merge error', async () => {
    h = await harness();
    const c = await controlled(h);
    await tasks(h, 's1', 's2');
    await h.runtime.coordination.join({
      id: 'bad',
      sources: ['s1', 's2'],
      merge: 'combine',
      continuation: { type: 'auto' },
    });
    await c.succeed('s1', { a: 1 });
    await c.succeed('s2', 'not an object');
    expect(await h.runtime.coordination.wait('bad')).toMatchObject({
      status: 'failed',
      reason: 'merge failed: combine merges objects; the result of "s2" is a string',
    });
  });

  it('is cancelled on request: its continuation is skipped', async () => {
    h = await harness();
    await controlled(h);
    await tasks(h, 'm');
    await h.runtime.coordination.join({ id: 'stop-me', sources: ['m'], continuation: { type: 'auto' } });
    expect(await h.runtime.coordination.cancel('stop-me', 'plans changed')).toMatchObject({
      status: 'failed',
      reason: 'join stop-me (all) was cancelled: plans changed',
    });
    expect((await h.runtime.tasks.get('stop-me.continuation')).status).toBe('skipped');
    await expect(h.runtime.coordination.cancel('stop-me')).rejects.toMatchObject({ code: 'E_INVALID_STATE' });
  });

  it('refuses bad joins up front', async () => {
    h = await harness();
    await tasks(h, 'a', 'b');
    await expect(h.runtime.coordination.join({ sources: ['a', 'ghost'] })).rejects.toMatchObject({
      code: 'E_UNKNOWN_TASK',
    });
    await expect(h.runtime.coordination.join({ sources: ['a', 'a'] })).rejects.toThrow(/names a source twice/);
    await expect(
      h.runtime.coordination.join({ sources: ['a', 'b'], strategy: { strategy: 'k-of-n', k: 3 } }),
    ).rejects.toThrow(/needs 3 successes but has only 2/);
    await expect(
      h.runtime.coordination.join({ sources: ['a'], merge: { strategy: 'custom', name: 'nope' } }),
    ).rejects.toMatchObject({ code: 'E_INVALID_INPUT' });
    await expect(h.runtime.coordination.join({ sources: { split: 'no-split' } })).rejects.toThrow(/no split has id/);
  });
});

describe('merge (one-off)', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('merges settled results now; incomplete sources are an error unless skipped', async () => {
    h = await harness();
    const c = await controlled(h);
    await tasks(h, 'a', 'b', 'c');
    await c.succeed('a', { tags: ['x'] });
    await c.succeed('b', { tags: ['y'] });
    await expect(h.runtime.coordination.merge({ sources: ['a', 'b', 'c'], strategy: 'union' })).rejects.toThrow(
      "cannot merge: c (unsettled) did not succeed; pass incomplete: 'skip' to leave them out",
    );
    const merged = await h.runtime.coordination.merge({
      id: 'm',
      sources: ['a', 'b', 'c'],
      strategy: 'union',
      incomplete: 'skip',
    });
    expect(merged).toEqual({
      id: 'm',
      strategy: 'union',
      value: { tags: ['x', 'y'] },
      detail: { sources: 2 },
      sources: ['a', 'b'],
      skipped: [{ taskId: 'c', status: 'unsettled' }],
    });
    expect(await h.runtime.coordination.merge({ sources: [], strategy: 'intersection' })).toMatchObject({
      value: {},
      sources: [],
    });
    await expect(h.runtime.coordination.merge({ sources: [], strategy: 'majority' })).rejects.toThrow(
      /majority vote over no results/,
    );
    expect(h.of('coordination.merge.completed')).toHaveLength(2);
  });
});
