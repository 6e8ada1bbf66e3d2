import { afterEach, describe, expect, it } from 'vitest';
import { connectAgent, type RemoteAgent } from '../src/edge/sdk/index.js';
import {
  AGENT_TOKEN,
  OBSERVER_TOKEN,
  RawClient,
  startTestServer,
  type TestServer,
} from './agent-conformance-helpers.js';

let t: TestServer;
const agents: RemoteAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
  await t?.close();
});

async function agent(
  id: string,
  handler: Parameters<typeof connectAgent>[0]['handler'],
  capacity = 1,
): Promise<RemoteAgent> {
  const a = await connectAgent({ url: t.url, token: AGENT_TOKEN, id, capacity, clock: t.clock, handler });
  agents.push(a);
  return a;
}

/** Event frames of one subscription, up to and including the first that passes `until`. */
async function eventsUntil(
  client: RawClient,
  subscription: string,
  until: (e: Record<string, unknown>) => boolean,
): Promise<Array<Record<string, unknown>>> {
  const seen: Array<Record<string, unknown>> = [];
  for (;;) {
    const frame = await client.next((f) => f.type === 'event' && f.subscription === subscription);
    const event = frame.event as Record<string, unknown>;
    seen.push(event);
    if (until(event)) return seen;
  }
}

describe('observers', () => {
  it('stream the events that match their filters, and nothing else', async () => {
    t = await startTestServer();
    await agent('worker', () => 'ok', 4);
    const observer = await RawClient.open(t.url, OBSERVER_TOKEN);
    const byTicket = (await observer.request({ type: 'subscribe', filter: { ticketId: 'T-1' } }))
      .subscription as string;
    const byTask = (await observer.request({ type: 'subscribe', filter: { taskId: 'solo' } })).subscription as string;
    const byType = (await observer.request({ type: 'subscribe', filter: { types: ['task.completed', 'ticket.*'] } }))
      .subscription as string;
    const all = (await observer.request({ type: 'subscribe' })).subscription as string;
    const before = (await t.runtime.events.read({ order: 'newest', limit: 1 }))[0]?.seq ?? 0;
    await t.runtime.tickets.create({
      id: 'T-1',
      title: 'one',
      phases: [{ name: 'only', tasks: [{ id: 'T-1-a', type: 'a' }] }],
    });
    await t.runtime.tasks.create({ id: 'solo', type: 'b' });
    await t.runtime.tickets.wait('T-1');
    await t.runtime.tasks.wait('solo');
    await t.runtime.idle();
    const committed = (await t.runtime.events.read({ order: 'oldest', afterSeq: before, limit: 10_000 })).filter(
      (e) => e.seq > before,
    );
    const lastSeq = committed[committed.length - 1]?.seq;
    // Streams are written in order: once the catch-all has the last event, the others are in too.
    const everything = await eventsUntil(observer, all, (e) => e.seq === lastSeq);
    const seqsOf = (s: string) =>
      observer.pending.filter((f) => f.subscription === s).map((f) => (f.event as { seq: number }).seq);
    const expected = (keep: (e: (typeof committed)[number]) => boolean) => committed.filter(keep).map((e) => e.seq);
    expect(everything.map((e) => e.seq)).toEqual(expected(() => true));
    expect(seqsOf(byTicket)).toEqual(expected((e) => e.ticketId === 'T-1'));
    expect(seqsOf(byTask)).toEqual(expected((e) => e.taskId === 'solo'));
    expect(seqsOf(byType)).toEqual(expected((e) => e.type === 'task.completed' || e.type.startsWith('ticket.')));
    expect(seqsOf(byTicket).length).toBeGreaterThan(3);
    expect(seqsOf(byTask).length).toBeGreaterThan(3);
    expect(seqsOf(byType).length).toBe(4); // ticket.created, two task.completed, ticket.completed
    await observer.close();
  });

  it('stop receiving after unsubscribing', async () => {
    t = await startTestServer();
    const observer = await RawClient.open(t.url, OBSERVER_TOKEN);
    const first = (await observer.request({ type: 'subscribe', filter: { types: ['task.created'] } }))
      .subscription as string;
    const barrier = (await observer.request({ type: 'subscribe', filter: { types: ['task.created'] } }))
      .subscription as string;
    await t.runtime.tasks.create({ id: 'x1', type: 'x' });
    await eventsUntil(observer, first, (e) => e.taskId === 'x1');
    expect(await observer.request({ type: 'unsubscribe', subscription: first })).toMatchObject({
      type: 'ack',
      of: 'unsubscribe',
    });
    await t.runtime.tasks.create({ id: 'x2', type: 'x' });
    await eventsUntil(observer, barrier, (e) => e.taskId === 'x2');
    expect(
      observer.pending.filter((f) => f.subscription === first && (f.event as { taskId: string }).taskId === 'x2'),
    ).toEqual([]);
    expect(await observer.request({ type: 'unsubscribe', subscription: first })).toMatchObject({
      code: 'E_UNKNOWN_SUBSCRIPTION',
    });
    await observer.close();
  });

  it('query the current state of tickets, tasks and agents', async () => {
    t = await startTestServer();
    await agent('reader', () => ({ answer: 42 }));
    await t.runtime.tickets.create({
      id: 'T-2',
      title: 'two',
      phases: [{ name: 'p', tasks: [{ id: 'T-2-a', type: 'a' }] }],
    });
    await t.runtime.tickets.wait('T-2');
    const observer = await RawClient.open(t.url, OBSERVER_TOKEN);
    expect(await observer.request({ type: 'query', target: 'ticket', id: 'T-2' })).toMatchObject({
      type: 'ack',
      of: 'query',
      target: 'ticket',
      view: { id: 'T-2', status: 'completed', phases: [{ name: 'p', status: 'passed' }] },
    });
    expect(await observer.request({ type: 'query', target: 'task', id: 'T-2-a' })).toMatchObject({
      view: { id: 'T-2-a', status: 'succeeded', result: { answer: 42 }, agentId: null },
    });
    expect(await observer.request({ type: 'query', target: 'agent', id: 'reader' })).toMatchObject({
      view: { id: 'reader', status: 'idle', transport: 'websocket' },
    });
    expect(await observer.request({ type: 'query', target: 'task', id: 'missing' })).toMatchObject({
      code: 'E_UNKNOWN_TASK',
    });
    expect(await observer.request({ type: 'query', target: 'ticket', id: 'missing' })).toMatchObject({
      code: 'E_UNKNOWN_TICKET',
    });
    expect(await observer.request({ type: 'query', target: 'agent', id: 'missing' })).toMatchObject({
      code: 'E_UNKNOWN_AGENT',
    });
    await observer.close();
  });

  it('hold a bounded number of subscriptions', async () => {
    t = await startTestServer({ server: { maxSubscriptions: 2 } });
    const observer = await RawClient.open(t.url, OBSERVER_TOKEN);
    await observer.request({ type: 'subscribe' });
    await observer.request({ type: 'subscribe' });
    expect(await observer.request({ type: 'subscribe' })).toMatchObject({ code: 'E_TOO_MANY_SUBSCRIPTIONS' });
    await observer.close();
  });

  it('a slow observer is dropped with 4001 while agents carry on', async () => {
    t = await startTestServer({ server: { maxBufferedBytes: 256 * 1024 } });
    const slow = await RawClient.open(t.url, OBSERVER_TOKEN);
    await slow.request({ type: 'subscribe' });
    slow.socket.pause(); // reads nothing from here on
    // A chatty agent floods the event stream with large progress events...
    await agent('chatty', async (_task, ctx) => {
      for (let i = 0; i < 300; i++) ctx.progress(i, 'x'.repeat(60_000));
      ctx.heartbeat();
      return 'said a lot';
    });
    // ...and a busy one runs ordinary tasks meanwhile.
    await agent('busy', () => 'done', 4);
    await t.runtime.tasks.create({ id: 'flood', type: 'chatty', requires: [] });
    const tasks = await t.runtime.tasks.createMany(
      Array.from({ length: 40 }, (_, i) => ({ id: `w${i}`, type: 'work' })),
    );
    const settled = await Promise.all([
      ...tasks.map((task) => t.runtime.tasks.wait(task.id)),
      t.runtime.tasks.wait('flood'),
    ]);
    expect(settled.every((task) => task.status === 'succeeded')).toBe(true);
    const health = (await (await fetch(`${t.server.httpUrl}/healthz`)).json()) as { observers: number };
    expect(health.observers).toBe(0);
    slow.socket.resume();
    expect((await slow.closed).code).toBe(4001);
  });
});
