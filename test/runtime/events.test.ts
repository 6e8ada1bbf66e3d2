import { afterEach, describe, expect, it } from 'vitest';
import { harness, type Harness } from './helpers.js';

describe('event bus and history', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('delivers typed events to subscribers by type (with wildcards), ticket and task', async () => {
    h = await harness();
    const byType: string[] = [];
    const byTicket: string[] = [];
    const byTask: string[] = [];
    h.runtime.events.subscribe({ types: ['task.completed', 'phase.*'] }, (e) => byType.push(e.type));
    h.runtime.events.subscribe({ ticketId: 'T', types: ['ticket.*'] }, (e) => byTicket.push(e.type));
    h.runtime.events.subscribe({ ticketId: 'other', types: ['ticket.*'] }, (e) => byTicket.push(`wrong ${e.type}`));
    h.runtime.events.subscribe({ taskId: 'x' }, (e) => byTask.push(e.type));
    await h.runtime.agents.register({ id: 'w', handler: () => 1 });
    const ticket = await h.runtime.tickets.create({
      id: 'T',
      title: 't',
      phases: [{ name: 'p', tasks: [{ id: 'x', type: 't' }] }],
    });
    await h.runtime.tickets.wait(ticket.id);
    await h.runtime.idle();
    expect(byType).toEqual(['phase.opened', 'task.completed', 'phase.passed']);
    expect(byTicket).toEqual(['ticket.created', 'ticket.completed']);
    expect(byTask).toEqual([
      'task.created',
      'task.queued',
      'task.assigned',
      'task.started',
      'task.completed',
      'agent.completed',
    ]);
  });

  it('numbers events without gaps and keeps them in the store', async () => {
    h = await harness();
    await h.runtime.agents.register({ id: 'w', handler: () => 1 });
    await h.runtime.tasks.createMany(Array.from({ length: 5 }, (_, i) => ({ id: `t${i}`, type: 't' })));
    for (let i = 0; i < 5; i++) await h.runtime.tasks.wait(`t${i}`);
    await h.runtime.idle();
    const seqs = h.events.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const stored = await h.runtime.events.read({ order: 'oldest' });
    expect(stored.map((e) => e.seq)).toEqual(seqs);
  });

  it('keeps a bounded history per ticket, newest first, filterable', async () => {
    h = await harness({ historyLimit: 5 });
    await h.runtime.agents.register({ id: 'w', handler: () => 1 });
    const ticket = await h.runtime.tickets.create({
      id: 'H',
      title: 'h',
      phases: [{ name: 'p', tasks: Array.from({ length: 4 }, (_, i) => ({ id: `h${i}`, type: 't' })) }],
    });
    await h.runtime.tickets.wait(ticket.id);
    await h.runtime.idle();
    const all = h.events.filter((e) => e.ticketId === 'H');
    const history = h.runtime.events.history({ ticketId: 'H' });
    expect(history).toHaveLength(5);
    expect(history.map((e) => e.seq)).toEqual(
      all
        .slice(-5)
        .reverse()
        .map((e) => e.seq),
    );
    const completed = h.runtime.events.history({ ticketId: 'H', types: ['ticket.completed'] });
    expect(completed.map((e) => e.type)).toEqual(['ticket.completed']);
    expect(h.runtime.events.history({ ticketId: 'H', limit: 2 })).toHaveLength(2);
  });

  it('keeps a failing subscriber from disturbing the others or the runtime', async () => {
    h = await harness();
    const seen: string[] = [];
    h.runtime.events.subscribe({ types: ['task.created'] }, () => {
      throw new Error('listener bug');
    });
    h.runtime.events.subscribe({ types: ['task.created'] }, (e) => seen.push(e.taskId as string));
    await h.runtime.tasks.create({ id: 'ok', type: 't' });
    await h.runtime.idle();
    expect(seen).toEqual(['ok']);
  });
});
