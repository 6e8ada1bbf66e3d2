import { afterEach, describe, expect, it } from 'vitest';
import type { Offer, RuntimeOptions } from '../../src/index.js';
import { harness, type Harness } from './helpers.js';

/**
 * An agent that rejects an offered task is not offered it again before the reject cooldown has
 * passed on the runtime clock; other agents may take it at once. Agents here play the part of
 * remote (WebSocket) agents: offers reach a recording transport, answers go through the lease API.
 */
describe('reject cooldown', () => {
  let h: Harness;
  /** Every offer made, to any agent, in order. */
  let offers: Offer[];
  afterEach(async () => h.runtime.stop());

  async function start(options: RuntimeOptions = {}): Promise<void> {
    h = await harness(options);
    offers = [];
  }

  async function agent(id: string, capacity = 1): Promise<void> {
    const transport = { offer: (offer: Offer) => void offers.push(offer), revoke: () => {} };
    await h.runtime.agents.registerRemote({ id, capabilities: ['code'], capacity }, transport);
  }

  function lastOffer(): Offer {
    const offer = offers[offers.length - 1];
    if (!offer) throw new Error('no offer was made');
    return offer;
  }

  async function reject(offer: Offer): Promise<void> {
    const outcome = await h.runtime.leases.reject(offer.taskId, offer.leaseId, 'not now');
    expect(outcome).toMatchObject({ applied: true, task: { status: 'queued' } });
    await h.runtime.idle();
  }

  const cooling = () => h.runtime.core.dispatcher.cooldownCount();

  /** Agents `a` and `b`, both able to take task `t`, which has just been offered to one of them. */
  async function twoAgentsAndOneTask(): Promise<void> {
    await start();
    await agent('a');
    await agent('b');
    await h.runtime.tasks.create({ id: 't', type: 'job', requires: ['code'] });
    await h.runtime.idle();
  }

  it('does not offer a rejected task to the same agent before the cooldown, and does once it has passed', async () => {
    await start();
    await agent('picky');
    await h.runtime.tasks.create({ id: 't', type: 'job', requires: ['code'] });
    await h.runtime.idle();
    expect(offers.map((o) => [o.taskId, o.agentId])).toEqual([['t', 'picky']]);

    await reject(lastOffer());
    expect(offers).toHaveLength(1);
    expect(h.of('task.assigned')).toHaveLength(1);
    expect(h.of('task.rejected')).toHaveLength(1);
    expect(cooling()).toBe(1);

    await h.clock.advance(4_999);
    expect(offers).toHaveLength(1);
    expect(h.of('task.assigned')).toHaveLength(1);
    expect((await h.runtime.tasks.get('t')).status).toBe('queued');

    // The cooldown ends on its own timer: nothing else happens that could wake the dispatcher.
    await h.clock.advance(1);
    expect(offers).toHaveLength(2);
    expect(h.of('task.assigned')).toHaveLength(2);
    expect(lastOffer()).toMatchObject({ taskId: 't', agentId: 'picky', attempt: 1 });
    expect(lastOffer().leaseId).not.toBe(offers[0]?.leaseId);
    expect(await h.runtime.tasks.get('t')).toMatchObject({ status: 'offered', agentId: 'picky' });
    // The ended cooldown left nothing behind.
    expect(cooling()).toBe(0);
  });

  it('offers the rejected task at once to another capable agent', async () => {
    await twoAgentsAndOneTask();
    expect(offers).toHaveLength(1);
    const first = lastOffer();
    const other = first.agentId === 'a' ? 'b' : 'a';

    await reject(first);
    expect(offers).toHaveLength(2);
    expect(lastOffer()).toMatchObject({ taskId: 't', agentId: other });
    expect(h.of('task.assigned').map((e) => e.agentId)).toEqual([first.agentId, other]);
    expect(h.runtime.clock.now()).toBe(0);
  });

  it('does not bounce a task between two agents that both reject it', async () => {
    await twoAgentsAndOneTask();
    await reject(lastOffer());
    await reject(lastOffer());
    expect(offers.map((o) => o.agentId).sort()).toEqual(['a', 'b']);
    expect(cooling()).toBe(2);
    await h.clock.advance(4_999);
    expect(offers).toHaveLength(2);
    await h.clock.advance(1);
    expect(offers).toHaveLength(3);
    expect(cooling()).toBe(0);
  });

  it('offers the agent the tasks behind one it rejected at once', async () => {
    await start();
    await agent('picky');
    await h.runtime.tasks.create({ id: 'first', type: 'job', requires: ['code'], priority: 90 });
    await h.runtime.tasks.create({ id: 'second', type: 'job', requires: ['code'], priority: 10 });
    await h.runtime.idle();
    expect(offers.map((o) => o.taskId)).toEqual(['first']);
    await reject(lastOffer());
    expect(offers.map((o) => o.taskId)).toEqual(['first', 'second']);
    expect((await h.runtime.tasks.get('first')).status).toBe('queued');
  });

  it('keeps nothing for a task once it settles, and disarms its clock callback', async () => {
    await start();
    await agent('a');
    await agent('b');
    const armed = h.clock.pending();
    await h.runtime.tasks.create({ id: 't', type: 'job', requires: ['code'] });
    await h.runtime.idle();
    await reject(lastOffer());
    expect(cooling()).toBe(1);
    expect(h.clock.pending()).toBe(armed + 1);

    const taken = lastOffer();
    await h.runtime.leases.accept(taken.taskId, taken.leaseId);
    await h.runtime.leases.complete(taken.taskId, taken.leaseId, { result: 'done' });
    await h.runtime.idle();
    expect((await h.runtime.tasks.get('t')).status).toBe('succeeded');
    // Settled well before the cooldown would have ended on its own.
    expect(h.runtime.clock.now()).toBe(0);
    expect(cooling()).toBe(0);
    expect(h.clock.pending()).toBe(armed);
  });

  it('keeps nothing for a task cancelled while cooling down', async () => {
    await start();
    await agent('picky');
    await h.runtime.tasks.create({ id: 't', type: 'job', requires: ['code'] });
    await h.runtime.idle();
    await reject(lastOffer());
    expect(cooling()).toBe(1);
    await h.runtime.tasks.cancel('t', 'not needed');
    await h.runtime.idle();
    expect(cooling()).toBe(0);
    await h.clock.advance(10_000);
    expect(offers).toHaveLength(1);
  });

  it('takes its length from rejectCooldownMs; 0 offers the task straight back', async () => {
    await start({ rejectCooldownMs: 1_000 });
    await agent('picky');
    await h.runtime.tasks.create({ id: 't', type: 'job', requires: ['code'] });
    await h.runtime.idle();
    await reject(lastOffer());
    await h.clock.advance(999);
    expect(offers).toHaveLength(1);
    await h.clock.advance(1);
    expect(offers).toHaveLength(2);
    await h.runtime.stop();

    await start({ rejectCooldownMs: 0 });
    await agent('picky');
    await h.runtime.tasks.create({ id: 't', type: 'job', requires: ['code'] });
    await h.runtime.idle();
    await reject(lastOffer());
    expect(offers).toHaveLength(2);
    expect(cooling()).toBe(0);
  });
});
