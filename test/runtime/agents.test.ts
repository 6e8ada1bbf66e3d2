import { afterEach, describe, expect, it } from 'vitest';
import { deferred, harness, untilAborted, type Harness } from './helpers.js';

describe('agents and dispatch', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('marks a silent agent stale after 90 s and requeues its task (agent-lost, attempt counted)', async () => {
    h = await harness();
    const aborted: string[] = [];
    await h.runtime.agents.register({
      id: 'quiet',
      autoHeartbeat: false,
      handler: async (_t, ctx) =>
        untilAborted(ctx.signal).catch((e: Error) => {
          aborted.push(e.message);
          throw e;
        }),
    });
    const task = await h.runtime.tasks.create({ type: 't', retry: { backoff: { baseMs: 1_000 } } });
    await h.clock.advance(89_999);
    expect((await h.runtime.agents.get('quiet')).status).toBe('busy');
    await h.clock.advance(1);
    expect((await h.runtime.agents.get('quiet')).status).toBe('stale');
    expect(aborted).toEqual(['agent lost']);
    const requeued = await h.runtime.tasks.get(task.id);
    expect(requeued.status).toBe('retrying');
    expect(requeued.attempts[0]?.error).toMatchObject({ category: 'agent-lost', code: 'E_AGENT_LOST' });
    await h.runtime.agents.register({ id: 'fresh', handler: () => 'picked up' });
    await h.clock.advance(1_000);
    const done = await h.runtime.tasks.get(task.id);
    expect(done.status).toBe('succeeded');
    expect(done.attempt).toBe(2);
    expect(done.attempts.map((a) => a.agentId)).toEqual(['quiet', 'fresh']);
  });

  it('keeps an agent that beats in time, with the seed defaults (every 30 s, stale after 90 s)', async () => {
    h = await harness();
    await h.runtime.agents.register({ id: 'beating', handler: () => null });
    await h.clock.advance(10 * 60_000);
    expect((await h.runtime.agents.get('beating')).status).toBe('idle');
    expect(h.of('agent.stale')).toHaveLength(0);
  });

  it('runs higher priority first, then the oldest', async () => {
    h = await harness();
    const order: string[] = [];
    const gate = deferred();
    await h.runtime.agents.register({
      id: 'one',
      handler: async (task) => {
        order.push(task.id);
        if (task.id === 'blocker') await gate.promise;
      },
    });
    await h.runtime.tasks.create({ id: 'blocker', type: 't' });
    await h.runtime.idle();
    await h.runtime.tasks.create({ id: 'low', type: 't', priority: 'low' });
    await h.runtime.tasks.create({ id: 'high-1', type: 't', priority: 'high' });
    await h.runtime.tasks.create({ id: 'medium', type: 't' });
    await h.runtime.tasks.create({ id: 'high-2', type: 't', priority: 'high' });
    await h.runtime.tasks.create({ id: 'critical', type: 't', priority: 'critical' });
    gate.resolve(undefined);
    await h.runtime.tasks.wait('low');
    expect(order).toEqual(['blocker', 'critical', 'high-1', 'high-2', 'medium', 'low']);
  });

  it('gives a task only to agents with every capability it requires', async () => {
    h = await harness();
    const ran: Record<string, string> = {};
    for (const [id, caps] of [
      ['py', ['python']],
      ['full', ['python', 'sql']],
      ['web', ['react']],
    ] as const) {
      await h.runtime.agents.register({
        id,
        capabilities: [...caps],
        handler: (task) => {
          ran[task.id] = id;
        },
      });
    }
    await h.runtime.tasks.create({ id: 'needs-both', type: 't', requires: ['sql', 'python'] });
    await h.runtime.tasks.create({ id: 'needs-react', type: 't', requires: ['react'] });
    await h.runtime.tasks.create({ id: 'needs-rust', type: 't', requires: ['rust'] });
    await h.runtime.idle();
    expect(ran).toEqual({ 'needs-both': 'full', 'needs-react': 'web' });
    expect((await h.runtime.tasks.get('needs-rust')).status).toBe('queued');
  });

  it('never runs more tasks at once than an agent has slots', async () => {
    h = await harness();
    let running = 0;
    let peak = 0;
    const gates = Array.from({ length: 5 }, () => deferred());
    await h.runtime.agents.register({
      id: 'pair',
      capacity: 2,
      handler: async (task) => {
        running += 1;
        peak = Math.max(peak, running);
        await gates[Number(task.id.slice(1))]?.promise;
        running -= 1;
      },
    });
    for (let i = 0; i < 5; i++) await h.runtime.tasks.create({ id: `t${i}`, type: 't' });
    await h.runtime.idle();
    expect(running).toBe(2);
    expect((await h.runtime.agents.get('pair')).load).toBe(2);
    for (const g of gates) {
      g.resolve(undefined);
      await h.runtime.idle();
    }
    expect(peak).toBe(2);
    expect((await h.runtime.tasks.list({ status: 'succeeded' })).length).toBe(5);
  });

  it('offers work to the least-loaded agent first', async () => {
    h = await harness();
    const gate = deferred();
    const byAgent: Record<string, number> = { a: 0, b: 0 };
    for (const id of ['a', 'b']) {
      await h.runtime.agents.register({
        id,
        capacity: 4,
        handler: async () => {
          byAgent[id] = (byAgent[id] ?? 0) + 1;
          await gate.promise;
        },
      });
    }
    await h.runtime.tasks.createMany(Array.from({ length: 6 }, (_, i) => ({ id: `t${i}`, type: 't' })));
    await h.runtime.idle();
    expect(byAgent).toEqual({ a: 3, b: 3 });
    gate.resolve(undefined);
  });

  it('drains: no new work, leaves when what it holds is done', async () => {
    h = await harness();
    const gate = deferred();
    await h.runtime.agents.register({ id: 'd', capacity: 2, handler: async () => gate.promise });
    await h.runtime.tasks.create({ id: 'held', type: 't' });
    await h.runtime.idle();
    await h.runtime.agents.drain('d');
    await h.runtime.tasks.create({ id: 'later', type: 't' });
    await h.runtime.idle();
    expect((await h.runtime.tasks.get('later')).status).toBe('queued');
    gate.resolve(undefined);
    await h.runtime.idle();
    expect((await h.runtime.agents.get('d')).status).toBe('gone');
    expect((await h.runtime.tasks.get('held')).status).toBe('succeeded');
  });

  it('keeps a draining agent out of new work even when it beats again after going stale', async () => {
    h = await harness();
    await h.runtime.agents.register({
      id: 'leaving',
      autoHeartbeat: false,
      handler: async (_t, ctx) => untilAborted(ctx.signal),
    });
    await h.runtime.tasks.create({ id: 'held', type: 't', retry: { backoff: { baseMs: 1_000 } } });
    await h.runtime.idle();
    await h.runtime.agents.drain('leaving');
    await h.clock.advance(90_000);
    expect((await h.runtime.agents.get('leaving')).status).toBe('stale');
    await h.runtime.agents.heartbeat('leaving');
    expect((await h.runtime.agents.get('leaving')).status).toBe('gone');
    await h.clock.advance(1_000);
    expect((await h.runtime.tasks.get('held')).status).toBe('queued');
  });

  it('emits the seed signals agent.initialized, agent.completed and agent.message', async () => {
    h = await harness();
    await h.runtime.agents.register({ id: 'listener', handler: () => null });
    await h.runtime.agents.register({
      id: 'talker',
      capabilities: ['talk'],
      handler: (_t, ctx) => {
        ctx.message('listener', { hello: 'there' });
        ctx.quality(0.95);
        return 'said it';
      },
    });
    await h.runtime.tasks.create({ id: 'say', type: 't', requires: ['talk'] });
    await h.runtime.tasks.wait('say');
    await h.runtime.idle();
    expect(h.of('agent.initialized').map((e) => e.agentId)).toEqual(['listener', 'talker']);
    expect(h.of('agent.completed')[0]).toMatchObject({ agentId: 'talker', taskId: 'say', data: { quality: 0.95 } });
    expect(h.of('agent.message')[0]).toMatchObject({
      agentId: 'listener',
      data: { from: 'talker', body: { hello: 'there' } },
    });
  });
});
