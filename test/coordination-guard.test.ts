import { afterEach, describe, expect, it } from 'vitest';
import { NonRetryableError } from '../src/index.js';
import { deferred, harness, type Harness } from './runtime/helpers.js';

describe('dependency guards', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('holds a task until another task succeeds, then hands it that task’s result and artifacts', async () => {
    h = await harness();
    const seen: Record<string, unknown> = {};
    await h.runtime.tasks.create({ id: 'models', type: 'models' });
    const guard = await h.runtime.coordination.guard({
      id: 'g',
      task: { id: 'validators', type: 'validators' },
      dependencies: [{ kind: 'task', taskId: 'models', timeoutMs: 120_000 }],
    });
    expect(guard).toMatchObject({
      taskId: 'validators',
      dependencies: [{ description: 'task models succeeds', met: false }],
    });
    // The agent comes once the call has answered: until then the source cannot have run.
    await h.runtime.agents.register({
      id: 'w',
      handler: (task, ctx) => {
        seen[task.id] = { deps: Object.keys(ctx.dependencies), artifacts: ctx.artifacts };
        ctx.artifact(`${task.type}.py`, 'code');
        return task.type;
      },
    });
    expect(await h.runtime.coordination.wait('g')).toMatchObject({ status: 'resolved', dependencies: [{ met: true }] });
    await h.runtime.tasks.wait('validators');
    expect(seen.validators).toEqual({ deps: ['models'], artifacts: { 'models.py': 'code' } });
  });

  it('a dependency that may fail (requireSuccess: false) releases the task either way', async () => {
    h = await harness();
    await h.runtime.agents.register({
      id: 'w',
      handler: (t) => (t.type === 'lint' ? Promise.reject(new NonRetryableError('lint failed')) : 'ok'),
    });
    await h.runtime.tasks.create({ id: 'lint', type: 'lint' });
    await h.runtime.coordination.guard({
      id: 'g',
      task: { id: 'report', type: 'report' },
      dependencies: [{ kind: 'task', taskId: 'lint', requireSuccess: false }],
    });
    expect((await h.runtime.tasks.wait('report')).status).toBe('succeeded');
    await h.runtime.tasks.create({ id: 'lint2', type: 'lint' });
    await h.runtime.coordination.guard({
      id: 'strict',
      task: { id: 'report2', type: 'report' },
      dependencies: [{ kind: 'task', taskId: 'lint2' }],
    });
    expect(await h.runtime.tasks.wait('report2')).toMatchObject({ status: 'skipped' });
    expect(await h.runtime.coordination.wait('strict')).toMatchObject({ status: 'failed' });
  });

  it('a quality gate: held until the named score reaches the threshold (a score set earlier counts)', async () => {
    h = await harness();
    await h.runtime.agents.register({ id: 'w', handler: () => 'tests written' });
    await h.runtime.coordination.setQualityScore('lint', 1);
    await h.runtime.coordination.guard({
      id: 'g',
      task: { id: 'tests', type: 'tests' },
      dependencies: [
        { kind: 'quality', gate: 'coverage', threshold: 0.8 },
        { kind: 'quality', gate: 'lint', threshold: 1 },
      ],
    });
    await h.runtime.coordination.setQualityScore('coverage', 0.79);
    expect((await h.runtime.tasks.get('tests')).status).toBe('waiting');
    expect(await h.runtime.coordination.get('g')).toMatchObject({ dependencies: [{ met: false }, { met: true }] });
    await h.runtime.coordination.setQualityScore('coverage', 0.85);
    expect((await h.runtime.tasks.wait('tests')).status).toBe('succeeded');
    expect(h.runtime.coordination.qualityScore('coverage')).toBe(0.85);
    expect(h.of('coordination.quality.updated').map((e) => e.data)).toEqual([
      { gate: 'lint', score: 1 },
      { gate: 'coverage', score: 0.79 },
      { gate: 'coverage', score: 0.85 },
    ]);
  });

  it('each dependency has its own deadline (a durable timer): when it passes the task is skipped with the reason', async () => {
    h = await harness();
    await h.runtime.coordination.guard({
      id: 'g',
      task: { id: 'tests', type: 'tests' },
      dependencies: [{ kind: 'quality', gate: 'coverage', threshold: 0.8, timeoutMs: 60_000 }],
    });
    await h.clock.advance(60_000);
    const reason = 'dependency timed out after 60000 ms: quality gate "coverage" reaches 0.8';
    expect(await h.runtime.coordination.get('g')).toMatchObject({ status: 'failed', reason });
    expect(await h.runtime.tasks.get('tests')).toMatchObject({ status: 'skipped', reason });
  });

  it('a resource dependency acquires the resource for the task: at most 2 tasks at once touch the schema', async () => {
    h = await harness();
    await h.runtime.coordination.resources.define({ name: 'db-schema', kind: 'semaphore', permits: 2 });
    const finish = new Map<string, ReturnType<typeof deferred<void>>>();
    let running = 0;
    let most = 0;
    await h.runtime.agents.register({
      id: 'w',
      capacity: 10,
      handler: async (task) => {
        running += 1;
        most = Math.max(most, running);
        const d = deferred<void>();
        finish.set(task.id, d);
        await d.promise;
        running -= 1;
        return task.id;
      },
    });
    for (const i of [1, 2, 3, 4]) {
      await h.runtime.coordination.guard({
        id: `g${i}`,
        task: { id: `migrate-${i}`, type: 'migrate' },
        dependencies: [{ kind: 'resource', resource: 'db-schema' }],
      });
    }
    await h.runtime.idle();
    expect([...finish.keys()]).toEqual(['migrate-1', 'migrate-2']);
    expect((await h.runtime.coordination.resources.get('db-schema')).waiters.map((w) => w.owner)).toEqual([
      'migrate-3',
      'migrate-4',
    ]);
    // The task settles: its permit goes back by itself and the next task starts.
    finish.get('migrate-1')?.resolve();
    await h.runtime.idle();
    expect([...finish.keys()]).toEqual(['migrate-1', 'migrate-2', 'migrate-3']);
    for (const id of ['migrate-2', 'migrate-3']) finish.get(id)?.resolve();
    await h.runtime.idle();
    finish.get('migrate-4')?.resolve();
    await h.runtime.tasks.wait('migrate-4');
    expect(most).toBe(2);
    expect((await h.runtime.coordination.resources.get('db-schema')).holders).toEqual([]);
  });

  it('a held task cancelled meanwhile ends its guard, which gives up its place in line', async () => {
    h = await harness();
    await h.runtime.coordination.resources.acquire({ resource: 'lock', owner: 'someone' });
    await h.runtime.coordination.guard({
      id: 'g',
      task: { id: 'held', type: 't' },
      dependencies: [{ kind: 'resource', resource: 'lock' }],
    });
    await h.runtime.idle();
    expect((await h.runtime.coordination.resources.get('lock')).waiters).toEqual([
      { owner: 'held', mode: 'exclusive' },
    ]);
    await h.runtime.tasks.cancel('held', 'not needed');
    expect(await h.runtime.coordination.wait('g')).toMatchObject({
      status: 'failed',
      reason: 'task held ended cancelled before its dependencies were met',
    });
    expect((await h.runtime.coordination.resources.get('lock')).waiters).toEqual([]);
  });
});
