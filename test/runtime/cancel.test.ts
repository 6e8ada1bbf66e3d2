import { afterEach, describe, expect, it } from 'vitest';
import { harness, untilAborted, type Harness } from './helpers.js';

describe('cancellation', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('aborts the handler of a running task and settles it as cancelled', async () => {
    h = await harness();
    const reasons: string[] = [];
    await h.runtime.agents.register({
      id: 'a',
      handler: async (_t, ctx) =>
        untilAborted(ctx.signal).catch((e: Error) => {
          reasons.push(e.message);
          return 'too late';
        }),
    });
    const task = await h.runtime.tasks.create({ type: 't' });
    await h.runtime.idle();
    expect((await h.runtime.tasks.get(task.id)).status).toBe('running');
    const cancelled = await h.runtime.tasks.cancel(task.id, 'user changed their mind');
    expect(cancelled.status).toBe('cancelled');
    await h.runtime.idle();
    expect(reasons).toEqual(['user changed their mind']);
    const after = await h.runtime.tasks.get(task.id);
    expect(after.status).toBe('cancelled');
    expect(after.result).toBeNull();
    expect(after.attempts[0]?.error).toMatchObject({ category: 'cancelled' });
    expect((await h.runtime.agents.get('a')).load).toBe(0);
  });

  it('cancels queued, waiting and retrying tasks; their dependents are skipped', async () => {
    h = await harness();
    await h.runtime.tasks.createMany([
      { id: 'queued', type: 't' },
      { id: 'waiting', type: 't', dependsOn: ['queued'] },
    ]);
    await h.runtime.tasks.cancel('queued');
    await h.runtime.idle();
    expect((await h.runtime.tasks.get('waiting')).status).toBe('skipped');
  });

  it('refuses to cancel a settled task or an unknown one, changing nothing', async () => {
    h = await harness();
    await h.runtime.agents.register({ id: 'a', handler: () => 'done' });
    const task = await h.runtime.tasks.create({ type: 't' });
    await h.runtime.tasks.wait(task.id);
    await expect(h.runtime.tasks.cancel(task.id)).rejects.toMatchObject({ code: 'E_INVALID_STATE' });
    expect((await h.runtime.tasks.get(task.id)).status).toBe('succeeded');
    await expect(h.runtime.tasks.cancel('nope')).rejects.toMatchObject({ code: 'E_UNKNOWN_TASK' });
  });

  it('cancels a whole ticket: its unfinished tasks and phases', async () => {
    h = await harness();
    await h.runtime.agents.register({ id: 'a', handler: async (_t, ctx) => untilAborted(ctx.signal) });
    const ticket = await h.runtime.tickets.create({
      title: 'cancel me',
      phases: [
        {
          name: 'only',
          tasks: [
            { id: 'run', type: 't' },
            { id: 'wait', type: 't', dependsOn: ['run'] },
          ],
        },
      ],
    });
    await h.runtime.idle();
    const cancelled = await h.runtime.tickets.cancel(ticket.id, 'scope cut');
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.phases[0]?.status).toBe('cancelled');
    expect((await h.runtime.tasks.get('run')).status).toBe('cancelled');
    expect(['cancelled', 'skipped']).toContain((await h.runtime.tasks.get('wait')).status);
  });
});
