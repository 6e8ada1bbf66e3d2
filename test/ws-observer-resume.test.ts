import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TroupeError } from '../src/core/errors.js';
import { eventMatcher, type EventFilter, type TroupeEvent } from '../src/engine/event-bus.js';
import { DelegatingStore } from '../src/engine/store/delegating-store.js';
import { MemoryStore } from '../src/engine/store/memory-store.js';
import type { EventQuery, StoredEvent } from '../src/engine/store/store.js';
import { connectAgent, type RemoteAgent } from '../src/edge/sdk/index.js';
import { BACKLOG_PAGE_SIZE } from '../src/edge/server/shared/event-stream.js';
import {
  AGENT_TOKEN,
  OBSERVER_TOKEN,
  RawClient,
  startTestServer,
  type TestServer,
} from './agent-conformance-helpers.js';

/**
 * Observers that resume a stream with `afterSeq`: the stored events after it, then the live
 * ones, every seq once and none missing, across reconnects and the stored-to-live switch.
 */

let t: TestServer | undefined;
const agents: RemoteAgent[] = [];
const clients: RawClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(agents.splice(0).map((a) => a.close()));
  await t?.close();
  t = undefined;
});

/** A memory store whose backlog reads (pages of the server's size) can run work first. */
class HookedStore extends DelegatingStore {
  beforePage: ((query: EventQuery) => Promise<void>) | null = null;
  pagesRead = 0;
  failReads: ((query: EventQuery) => boolean) | null = null;

  constructor() {
    super(new MemoryStore());
  }

  override async readEvents(query: EventQuery): Promise<StoredEvent[]> {
    if (query.limit === BACKLOG_PAGE_SIZE && query.order === 'oldest') {
      this.pagesRead += 1;
      if (this.failReads?.(query)) throw new TroupeError('E_STORE', 'the disk is on fire');
      await this.beforePage?.(query);
    }
    return super.readEvents(query);
  }
}

async function server(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  t = await startTestServer(options);
  return t;
}

async function observer(): Promise<RawClient> {
  const client = await RawClient.open((t as TestServer).url, OBSERVER_TOKEN);
  clients.push(client);
  return client;
}

async function agent(id: string): Promise<RemoteAgent> {
  const a = await connectAgent({
    url: (t as TestServer).url,
    token: AGENT_TOKEN,
    id,
    capacity: 4,
    clock: (t as TestServer).clock,
    handler: () => 'ok',
  });
  agents.push(a);
  return a;
}

async function subscribe(client: RawClient, fields: Record<string, unknown>): Promise<string> {
  const ack = await client.request({ type: 'subscribe', ...fields });
  expect(ack).toMatchObject({ type: 'ack', of: 'subscribe' });
  return ack.subscription as string;
}

/** The seqs of one subscription's event frames, up to and including `lastSeq`. */
async function seqsUntil(client: RawClient, subscription: string, lastSeq: number): Promise<number[]> {
  const seqs: number[] = [];
  for (;;) {
    const frame = await client.next((f) => f.type === 'event' && f.subscription === subscription);
    const seq = (frame.event as TroupeEvent).seq;
    seqs.push(seq);
    if (seq >= lastSeq) return seqs;
  }
}

/** The whole stored log, oldest first. */
async function storedLog(after = 0): Promise<TroupeEvent[]> {
  const runtime = (t as TestServer).runtime;
  await runtime.idle();
  return runtime.events.read({ afterSeq: after, order: 'oldest', limit: 1_000_000 });
}

async function lastSeq(): Promise<number> {
  return (await storedLog()).at(-1)?.seq ?? 0;
}

/** Tasks nobody can take: two events each (created, queued), cheap filler for the log. */
function filler(prefix: string, count: number) {
  return Array.from({ length: count }, (_, i) => ({ id: `${prefix}-${i}`, type: 'fill', requires: ['nobody'] }));
}

describe('observers resume with afterSeq', () => {
  it('get exactly the events they missed while away, in order, then the live ones', async () => {
    const { runtime } = await server();
    await agent('worker');
    const first = await observer();
    const stream = await subscribe(first, {});
    await runtime.tasks.create({ id: 'before', type: 'a' });
    await runtime.tasks.wait('before');
    const seen = await seqsUntil(first, stream, await lastSeq());
    const lastSeen = seen.at(-1) as number;
    await first.close();

    // While the observer is away, work goes on.
    await runtime.tasks.createMany([{ id: 'away-1', type: 'a' }, { id: 'away-2', type: 'b' }, ...filler('gone', 30)]);
    await Promise.all([runtime.tasks.wait('away-1'), runtime.tasks.wait('away-2')]);
    const missed = await storedLog(lastSeen);
    expect(missed.length).toBeGreaterThan(60);

    const again = await observer();
    const resumed = await subscribe(again, { afterSeq: lastSeen });
    const backlog = await seqsUntil(again, resumed, (missed.at(-1) as TroupeEvent).seq);
    expect(backlog).toEqual(missed.map((e) => e.seq));

    await runtime.tasks.create({ id: 'later', type: 'a' });
    await runtime.tasks.wait('later');
    const live = await seqsUntil(again, resumed, await lastSeq());
    // Before the disconnect, the backlog and the live events together: the whole log, once each.
    const all = [...seen, ...backlog, ...live];
    expect(all).toEqual((await storedLog()).filter((e) => e.seq > seen[0]! - 1).map((e) => e.seq));
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => seen[0]! + i));
    expect(again.pending.filter((f) => f.type === 'event')).toEqual([]);
  });

  it('lose and repeat nothing that is published while the backlog is being sent', async () => {
    const store = new HookedStore();
    const { runtime } = await server({ runtime: { store } });
    await agent('worker');
    for (let i = 0; i < 4; i++) await runtime.tasks.createMany(filler(`old${i}`, 500));
    const stored = await lastSeq();
    expect(stored).toBeGreaterThanOrEqual(4000);

    // During the backlog: work committed (and published) before a page is read, so that it is
    // both held and read; and work started as a page is read, committed after it.
    const during: Array<Promise<unknown>> = [];
    let lastHook = () => {};
    const hooksRan = new Promise<void>((resolve) => (lastHook = resolve));
    store.beforePage = async () => {
      const page = store.pagesRead;
      if (page === 2 || page === 5) {
        await runtime.tasks.createMany([...filler(`during${page}`, 100), { id: `work${page}`, type: 'a' }]);
      } else if (page === 3 || page === 4) {
        during.push(runtime.tasks.createMany([...filler(`racing${page}`, 100), { id: `work${page}`, type: 'a' }]));
      }
      if (page === 5) lastHook();
    };
    const client = await observer();
    const subscription = await subscribe(client, { afterSeq: 0 });
    await hooksRan;
    await Promise.all(during);
    await Promise.all([2, 3, 4, 5].map((page) => runtime.tasks.wait(`work${page}`)));
    store.beforePage = null;
    expect(store.pagesRead).toBeGreaterThanOrEqual(5);

    const log = await storedLog();
    expect(log.length).toBeGreaterThan(stored + 800);
    const received = await seqsUntil(client, subscription, (log.at(-1) as TroupeEvent).seq);
    expect(received).toEqual(log.map((e) => e.seq));

    // And the stream is live, with nothing left over from the switch.
    await runtime.tasks.create({ id: 'after', type: 'fill', requires: ['nobody'] });
    const after = await seqsUntil(client, subscription, await lastSeq());
    expect(after).toEqual((await storedLog(log.at(-1)!.seq)).map((e) => e.seq));
    expect(client.pending.filter((f) => f.type === 'event')).toEqual([]);
  });

  it('apply the filter to the stored events as to the live ones', async () => {
    const { runtime } = await server();
    await agent('worker');
    await runtime.tasks.createMany(filler('pad', 400)); // the backlog spans pages
    await runtime.tickets.create({
      id: 'T-1',
      title: 'one',
      phases: [
        {
          name: 'p',
          tasks: [
            { id: 'T-1-a', type: 'a' },
            { id: 'T-1-b', type: 'b' },
          ],
        },
      ],
    });
    await runtime.tasks.create({ id: 'solo', type: 'c' });
    await runtime.tickets.wait('T-1');
    await runtime.tasks.wait('solo');
    await runtime.tasks.createMany(filler('more', 300));

    const filters: EventFilter[] = [
      { ticketId: 'T-1', types: ['task.*'] }, // a prefix: matched by the server
      { types: ['ticket.created', 'task.completed'] }, // exact types: matched by the store
      { taskId: 'solo' },
      { agentId: 'worker', types: ['task.comp*', 'task.started'] },
    ];
    const client = await observer();
    const subscriptions: string[] = [];
    for (const filter of filters) subscriptions.push(await subscribe(client, { filter, afterSeq: 0 }));

    // Live events after the backlog: a second ticket and a second run of 'solo'-like work.
    await runtime.tickets.create({
      id: 'T-2',
      title: 'two',
      phases: [{ name: 'p', tasks: [{ id: 'T-2-a', type: 'a' }] }],
    });
    await runtime.tickets.wait('T-2');
    const log = await storedLog();
    // A barrier: a catch-all stream resumed from the start has everything once it has the last seq.
    const all = await subscribe(client, { afterSeq: 0 });
    await seqsUntil(client, all, (log.at(-1) as TroupeEvent).seq);

    for (const [i, filter] of filters.entries()) {
      const expected = log.filter(eventMatcher(filter)).map((e) => e.seq);
      expect(expected.length, JSON.stringify(filter)).toBeGreaterThan(1);
      const got = client.pending
        .filter((f) => f.type === 'event' && f.subscription === subscriptions[i])
        .map((f) => (f.event as TroupeEvent).seq);
      expect(got, JSON.stringify(filter)).toEqual(expected);
    }
  });

  it('is part of the subscribe frame in the published JSON Schema', async () => {
    const { server: troupe } = await server();
    const schema = (await (await fetch(`${troupe.httpUrl}/v1/protocol.schema.json`)).json()) as {
      observerMessages: { subscribe: { properties: Record<string, Record<string, unknown>>; required: string[] } };
    };
    const subscribeSchema = schema.observerMessages.subscribe;
    expect(Object.keys(subscribeSchema.properties)).toEqual(['type', 'ref', 'filter', 'afterSeq']);
    expect(subscribeSchema.properties.afterSeq).toMatchObject({ type: 'integer', minimum: 0 });
    expect(subscribeSchema.required).toEqual(['type']);
  });

  it('refuse an afterSeq that is not a non-negative integer, and the connection carries on', async () => {
    const { runtime } = await server();
    const client = await observer();
    for (const afterSeq of [-1, 1.5, '7', null, 2 ** 60]) {
      const answer = await client.request({ type: 'subscribe', filter: { types: ['task.created'] }, afterSeq });
      expect(answer, JSON.stringify(afterSeq)).toMatchObject({ type: 'error', code: 'E_INVALID_MESSAGE' });
      expect(answer.message as string).toContain('afterSeq');
    }
    await runtime.tasks.create({ id: 'seen', type: 'fill', requires: ['nobody'] });
    const subscription = await subscribe(client, { filter: { types: ['task.created'] }, afterSeq: 0 });
    const frame = await client.next((f) => f.type === 'event' && f.subscription === subscription);
    expect(frame.event).toMatchObject({ type: 'task.created', taskId: 'seen' });
    // None of the refused subscribes made a stream: only this one's events arrive.
    await runtime.tasks.create({ id: 'next', type: 'fill', requires: ['nobody'] });
    expect(await client.next((f) => f.type === 'event')).toMatchObject({ subscription, event: { taskId: 'next' } });
    expect(client.pending).toEqual([]);
  });

  it('an afterSeq at or beyond the newest event gives live events only', async () => {
    const { runtime } = await server();
    await runtime.tasks.createMany(filler('old', 10));
    const newest = await lastSeq();
    const client = await observer();
    const now = await subscribe(client, { afterSeq: newest });
    const ahead = await subscribe(client, { afterSeq: newest + 2 });
    await runtime.tasks.create({ id: 'new', type: 'fill', requires: ['nobody'] }); // newest + 1 and + 2
    await runtime.tasks.create({ id: 'newer', type: 'fill', requires: ['nobody'] }); // + 3 and + 4
    expect(await seqsUntil(client, now, newest + 4)).toEqual([newest + 1, newest + 2, newest + 3, newest + 4]);
    expect(await seqsUntil(client, ahead, newest + 4)).toEqual([newest + 3, newest + 4]);
  });

  it('a backlog that overflows the send buffer drops the observer with 4001', async () => {
    const { runtime } = await server({ server: { maxBufferedBytes: 32 * 1024 } });
    await runtime.tasks.createMany(filler('big', 1000));
    const client = await observer();
    client.send({ type: 'subscribe', ref: 1, afterSeq: 0 });
    expect((await client.closed).code).toBe(4001);
    // The runtime carries on, and other observers too.
    const other = await observer();
    const stream = await subscribe(other, {});
    await runtime.tasks.create({ id: 'still', type: 'fill', requires: ['nobody'] });
    expect(await seqsUntil(other, stream, await lastSeq())).toHaveLength(2);
  });

  it('a store that cannot be read: an error before the ack, a close (1011) after it', async () => {
    const store = new HookedStore();
    const { runtime } = await server({ runtime: { store, logger: pino({ level: 'silent' }) } });
    await runtime.tasks.createMany(filler('f', 600));
    const client = await observer();
    store.failReads = () => true;
    expect(await client.request({ type: 'subscribe', afterSeq: 0 })).toMatchObject({ type: 'error', code: 'E_STORE' });
    // Still usable; the second page fails after the first was acked and sent: the stream would have a gap.
    store.failReads = (query) => (query.afterSeq ?? 0) > 0;
    const subscription = await subscribe(client, { afterSeq: 0 });
    expect(await client.closed).toMatchObject({ code: 1011 });
    const received = client.pending.filter((f) => f.type === 'event' && f.subscription === subscription);
    expect(received.map((f) => (f.event as TroupeEvent).seq)).toEqual(
      Array.from({ length: BACKLOG_PAGE_SIZE }, (_, i) => i + 1),
    );
  });
});
