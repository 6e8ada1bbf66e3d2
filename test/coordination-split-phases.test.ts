import { afterEach, describe, expect, it } from 'vitest';
import { NonRetryableError } from '../src/index.js';
import { deferred, harness, type Harness } from './runtime/helpers.js';

/**
 * Split children in a ticket: they join their source's phase (so its gate waits for them) at
 * their source's priority, unless their template names another phase or priority.
 */
describe("split children and their source's phase", () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  const phaseOf = async (ticketId: string, name: string) =>
    (await h.runtime.tickets.get(ticketId)).phases.find((p) => p.name === name);

  it('a gate does not pass while work split out of its phase still runs (map split, end to end)', async () => {
    h = await harness();
    const release = deferred();
    const running = new Set<string>();
    const ticket = await h.runtime.tickets.create({
      id: 'T1',
      title: 'split inside a phase',
      phases: [
        { name: 'build', tasks: [{ id: 'plan', type: 'plan', priority: 'high' }] },
        { name: 'ship', tasks: [{ id: 'deploy', type: 'deploy' }] },
      ],
    });
    const split = await h.runtime.coordination.split({
      id: 'modules',
      sourceTaskId: 'plan',
      map: { path: 'modules', task: { type: 'implement' } },
    });
    expect(split.ticketId).toBe('T1');
    // The agent comes once the split is there: the split is made before its source runs.
    await h.runtime.agents.register({
      id: 'w',
      capacity: 10,
      handler: async (task) => {
        if (task.type === 'plan') return { modules: ['auth', 'billing', 'search'] };
        if (task.type === 'implement') {
          running.add(task.id);
          await release.promise;
          return { built: (task.input as { item: string }).item };
        }
        return 'shipped';
      },
    });
    // Every child is running, and none has finished: the phase must still be open.
    for (let i = 0; i < 100 && running.size < 3; i++) await h.runtime.core.host.idle();
    expect(running.size).toBe(3);
    const children = await Promise.all(['modules.0', 'modules.1', 'modules.2'].map((id) => h.runtime.tasks.get(id)));
    expect(children.map((c) => [c.status, c.ticketId, c.phase, c.priority])).toEqual([
      ['running', 'T1', 'build', 75],
      ['running', 'T1', 'build', 75],
      ['running', 'T1', 'build', 75],
    ]);
    expect(await phaseOf(ticket.id, 'build')).toMatchObject({
      status: 'active',
      tasks: { total: 4, open: 3, succeeded: 1 },
      pendingSplits: [],
    });
    expect(h.of('phase.passed')).toEqual([]);
    expect((await h.runtime.tasks.get('deploy')).status).toBe('waiting');
    release.resolve(undefined);
    const done = await h.runtime.tickets.wait(ticket.id);
    expect(done.status).toBe('completed');
    // The gate counted the children, and the phase handed their results on.
    expect(done.phaseOutputs.build?.results).toMatchObject({
      'modules.0': { built: 'auth' },
      'modules.2': { built: 'search' },
    });
    const order = h.events
      .filter((e) => e.type === 'task.succeeded' || e.type === 'phase.passed')
      .map((e) => e.taskId ?? `passed:${e.phase}`);
    expect(order.indexOf('passed:build')).toBeGreaterThan(
      Math.max(...['modules.0', 'modules.1', 'modules.2'].map((id) => order.indexOf(id))),
    );
  });

  it('a phase waits for a map split whose source has not finished, and lets go when the split fails', async () => {
    h = await harness();
    const plan = deferred<unknown>();
    await h.runtime.agents.register({ id: 'w', handler: async (task) => (task.type === 'plan' ? plan.promise : 'ok') });
    await h.runtime.tickets.create({
      id: 'T2',
      title: 'pending split',
      phases: [
        {
          name: 'build',
          maxRounds: 1,
          tasks: [
            { id: 'plan', type: 'plan' },
            { id: 'other', type: 'other' },
          ],
        },
      ],
    });
    await h.runtime.coordination.split({
      id: 'fan',
      sourceTaskId: 'plan',
      map: { path: 'items', task: { type: 'item' } },
    });
    expect((await phaseOf('T2', 'build'))?.pendingSplits).toEqual(['fan']);
    // The source ends without the list: the split fails, and the phase judges what it has.
    plan.resolve({ nothing: true });
    const done = await h.runtime.tickets.wait('T2');
    expect(await h.runtime.coordination.get('fan')).toMatchObject({ status: 'failed' });
    expect(done.status).toBe('completed');
    expect(await phaseOf('T2', 'build')).toMatchObject({ status: 'passed', pendingSplits: [] });
  });

  it("fixed targets join the source's phase and priority unless they name their own", async () => {
    h = await harness();
    const gate = deferred();
    await h.runtime.agents.register({
      id: 'w',
      capacity: 10,
      handler: async (task) => {
        if (task.type === 'fail') throw new NonRetryableError('no');
        if (task.type === 'slow') await gate.promise;
        return task.id;
      },
    });
    await h.runtime.tickets.create({
      id: 'T3',
      title: 'fixed targets',
      phases: [
        { name: 'build', tasks: [{ id: 'src', type: 'slow', priority: 'low' }] },
        { name: 'ship', tasks: [{ id: 'deploy', type: 'deploy' }] },
      ],
    });
    await h.runtime.coordination.split({
      id: 'fx',
      sourceTaskId: 'src',
      targets: [
        { type: 'a' },
        { id: 'later', type: 'b', phase: 'ship', priority: 'critical' },
        { type: 'c', priority: 60 },
      ],
    });
    const views = await Promise.all(['fx.0', 'later', 'fx.2'].map((id) => h.runtime.tasks.get(id)));
    expect(views.map((v) => [v.id, v.phase, v.priority])).toEqual([
      ['fx.0', 'build', 25],
      ['later', 'ship', 100],
      ['fx.2', 'build', 60],
    ]);
    expect(await phaseOf('T3', 'build')).toMatchObject({ tasks: { total: 3 } });
    expect(await phaseOf('T3', 'ship')).toMatchObject({ tasks: { total: 2 } });
    gate.resolve(undefined);
    expect((await h.runtime.tickets.wait('T3')).status).toBe('completed');
  });

  it("a nested map split's grandchildren join the phase their parent joined", async () => {
    h = await harness();
    await h.runtime.tickets.create({
      id: 'T4',
      title: 'nested',
      phases: [
        { name: 'build', tasks: [{ id: 'plan', type: 'plan', priority: 90 }] },
        { name: 'ship', tasks: [{ id: 'deploy', type: 'deploy' }] },
      ],
    });
    await h.runtime.coordination.split({
      id: 'outer',
      sourceTaskId: 'plan',
      map: { path: 'areas', task: { type: 'area', split: { map: { path: 'parts', task: { type: 'part' } } } } },
    });
    await h.runtime.agents.register({
      id: 'w',
      capacity: 10,
      handler: (task) =>
        task.type === 'area' ? { parts: ['x', 'y'] } : task.type === 'plan' ? { areas: ['a'] } : task.id,
    });
    const done = await h.runtime.tickets.wait('T4');
    expect(done.status).toBe('completed');
    expect(Object.keys(done.phaseOutputs.build?.results ?? {}).sort()).toEqual([
      'outer.0',
      'outer.0.split.0',
      'outer.0.split.1',
      'plan',
    ]);
    expect((await h.runtime.tasks.get('outer.0.split.1')).priority).toBe(90);
  });
});
