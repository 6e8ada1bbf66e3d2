import { afterEach, beforeEach, describe, expect, it as test } from 'vitest';
import { emptyBatch } from '../src/engine/store/store.js';
import { describeRetentionConformance } from './store-conformance-retention.js';
import { describePagingConformance } from './store-conformance-paging.js';
import type {
  CommitBatch,
  OutboxEntry,
  Store,
  StoredActor,
  StoredEvent,
  StoredTimer,
} from '../src/engine/store/store.js';

export interface ConformanceOptions {
  /** The store keeps data across a close and a reopen; the factory must then give `reopen`. */
  persistent?: boolean;
  /**
   * The store keeps the objects handed to `commit` (the contract allows it: the runtime never
   * mutates what it committed), so mutating them afterwards is the caller's bug, not checked.
   */
  keepsCommittedObjects?: boolean;
}

/** What a conformance factory hands back: a fresh, empty, unopened store. */
export interface StoreUnderTest {
  store: Store;
  /** Removes whatever the store left behind (files, schemas); runs after the store is closed. */
  cleanup?: () => Promise<void>;
  /**
   * For stores that persist: a new, unopened store on the same location. When present, the suite
   * checks that everything committed survives a close and a reopen.
   */
  reopen?: () => Promise<Store>;
}

export function actor(id: string, over: Partial<StoredActor> = {}): StoredActor {
  return {
    id,
    kind: 'task',
    machineId: 'troupe.task',
    version: 1,
    state: 'idle',
    context: { id, attempt: 0 },
    settled: false,
    ticketId: 'T1',
    updatedAt: 1_700_000_000_000,
    ...over,
  };
}

export function event(seq: number, over: Partial<StoredEvent> = {}): StoredEvent {
  return {
    seq,
    type: 'task.created',
    at: 1_700_000_000_000 + seq,
    ticketId: 'T1',
    taskId: 'task-1',
    agentId: null,
    phase: null,
    data: { seq },
    ...over,
  };
}

export function outbox(id: string, over: Partial<OutboxEntry> = {}): OutboxEntry {
  return { id, target: 'agent-1', kind: 'task.assign', payload: { task: id }, createdAt: 1000, ...over };
}

export function batch(part: Partial<CommitBatch>): CommitBatch {
  return { ...emptyBatch(), ...part };
}

const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const byTimer = (a: StoredTimer, b: StoredTimer): number =>
  a.actorId < b.actorId ? -1 : a.actorId > b.actorId ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/** Everything a store holds, in a canonical order, to compare before and after. */
export async function snapshotOf(store: Store) {
  return {
    actors: await store.listActors({}),
    live: (await store.loadLive()).sort(byId),
    timers: (await store.loadTimers()).sort(byTimer),
    outbox: (await store.loadOutbox()).sort(byId),
    events: await store.readEvents({ order: 'oldest' }),
    lastSeq: await store.lastEventSeq(),
  };
}

const seqs = (events: StoredEvent[]): number[] => events.map((e) => e.seq);
const ids = (rows: Array<{ id: string }>): string[] => rows.map((r) => r.id);

function cyclic(): Record<string, unknown> {
  const value: Record<string, unknown> = { a: 1 };
  value['self'] = value;
  return value;
}

/** A value that exercises JSON: nesting, unicode, awkward numbers and keys. */
export const awkwardValue = {
  nested: { list: [1, [2, [3, [4, { deep: true }]]]], empty: {}, none: [], nothing: null },
  text: ['', 'plain', 'é ñ ü', '日本語のテキスト', '👩‍💻🚀', 'مرحبا', 'a\u0301', '\ud800 lone', 'tab\tnl\n"q"\\'],
  numbers: [
    0,
    -1,
    1.5,
    0.1 + 0.2,
    1e-7,
    1e21,
    5e-324,
    1.7976931348623157e308,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
  ],
  flags: [true, false],
  'key with spaces.and.dots': 'k',
  'it\'s "quoted"; DROP TABLE actors; --': 'sql',
  '': 'empty key',
  big: 'x'.repeat(100_000),
  chain: Array.from({ length: 40 }).reduce<unknown>((inner) => ({ inner }), 'bottom'),
};

/**
 * Registers the shared Store conformance suite. Every implementation of `Store` runs it.
 *
 * @example
 * ```ts
 * describeStoreConformance('MemoryStore', async () => ({ store: new MemoryStore() }));
 * ```
 */
export function describeStoreConformance(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
  options: ConformanceOptions = {},
): void {
  const it = test;

  describe(`Store conformance: ${name}`, () => {
    let made: StoreUnderTest;
    let store: Store;
    let open: Store[];

    beforeEach(async () => {
      made = await makeStore();
      store = made.store;
      await store.open();
      open = [store];
    });

    afterEach(async () => {
      for (const s of open) await s.close();
      await made.cleanup?.();
    });

    /** Closes the store and opens a new one on the same location; undefined if it does not persist. */
    async function reopened(): Promise<Store | undefined> {
      if (made.reopen === undefined) return undefined;
      await store.close();
      open = [];
      const next = await made.reopen();
      await next.open();
      open = [next];
      return next;
    }

    describe('an empty store', () => {
      it('holds nothing', async () => {
        expect(await store.getActor('nope')).toBeUndefined();
        expect((await store.getActors(['a', 'b'])).size).toBe(0);
        expect(await snapshotOf(store)).toEqual({
          actors: [],
          live: [],
          timers: [],
          outbox: [],
          events: [],
          lastSeq: 0,
        });
      });

      it('accepts an empty batch without changing anything', async () => {
        await store.commit(emptyBatch());
        expect(await snapshotOf(store)).toEqual({
          actors: [],
          live: [],
          timers: [],
          outbox: [],
          events: [],
          lastSeq: 0,
        });
      });
    });

    describe('actors', () => {
      it('returns a committed actor exactly as written', async () => {
        const a = actor('task-1', { state: { running: 'working' }, context: { lease: 'L1', n: [1, 2] } });
        await store.commit(batch({ actors: [a] }));
        expect(await store.getActor('task-1')).toEqual(a);
      });

      it('upserts: a second write replaces every field of the actor but its kind', async () => {
        await store.commit(batch({ actors: [actor('x')] }));
        const replaced = actor('x', {
          machineId: 'troupe.task2',
          version: 2,
          state: 'busy',
          context: { other: true },
          settled: true,
          ticketId: null,
          updatedAt: 1_700_000_000_999,
        });
        await store.commit(batch({ actors: [replaced] }));
        expect(await store.getActor('x')).toEqual(replaced);
        expect(await store.listActors({})).toEqual([replaced]);
      });

      for (const settled of [false, true]) {
        it(`refuses to write an actor under the id of a ${settled ? 'settled' : 'live'} actor of another kind, writing nothing of the batch (E_ID_KIND_CONFLICT)`, async () => {
          const task = actor('shared', {
            settled,
            state: settled ? 'succeeded' : 'running',
            context: { id: 'shared', result: { kept: true } },
          });
          await store.commit(batch({ actors: [task], events: [event(1)] }));
          const before = await snapshotOf(store);
          const agent = actor('shared', {
            kind: 'agent',
            machineId: 'troupe.agent',
            state: 'idle',
            context: { id: 'shared' },
            ticketId: null,
          });
          const refused = batch({
            actors: [actor('innocent'), agent],
            events: [event(2)],
            timersSet: [{ actorId: 'innocent', name: 't', at: 5 }],
            outbox: [outbox('o-1')],
          });
          await expect(store.commit(refused)).rejects.toMatchObject({
            code: 'E_ID_KIND_CONFLICT',
            details: { id: 'shared', heldBy: 'task', written: 'agent' },
          });
          expect(await snapshotOf(store)).toEqual(before);
          expect(await store.getActor('shared')).toEqual(task);
          // The store keeps working: the refusal was the batch's fault.
          await store.commit(batch({ actors: [actor('innocent')], events: [event(2)] }));
          expect(ids(await store.listActors({}))).toEqual(['innocent', 'shared']);
        });
      }

      it('refuses one batch that writes an id as two kinds', async () => {
        const twice = batch({ actors: [actor('dual'), actor('dual', { kind: 'ticket', machineId: 'troupe.ticket' })] });
        await expect(store.commit(twice)).rejects.toMatchObject({ code: 'E_ID_KIND_CONFLICT' });
        expect(await store.listActors({})).toEqual([]);
      });

      it('keeps the last write when one batch holds the same actor twice', async () => {
        await store.commit(batch({ actors: [actor('x', { state: 'first' }), actor('x', { state: 'second' })] }));
        expect(await store.listActors({})).toEqual([actor('x', { state: 'second' })]);
      });

      it('moves settled actors out of loadLive and back when unsettled', async () => {
        await store.commit(batch({ actors: [actor('a'), actor('b'), actor('c')] }));
        expect(ids((await store.loadLive()).sort(byId))).toEqual(['a', 'b', 'c']);

        await store.commit(batch({ actors: [actor('b', { settled: true, state: 'done' })] }));
        expect(ids((await store.loadLive()).sort(byId))).toEqual(['a', 'c']);
        expect(await store.getActor('b')).toEqual(actor('b', { settled: true, state: 'done' }));
        expect(ids(await store.listActors({ settled: true }))).toEqual(['b']);

        await store.commit(batch({ actors: [actor('b', { settled: false, state: 'reworking' })] }));
        expect(ids((await store.loadLive()).sort(byId))).toEqual(['a', 'b', 'c']);
        expect(await store.listActors({ settled: true })).toEqual([]);
      });

      it('lists actors by flat state value', async () => {
        await store.commit(
          batch({
            actors: [
              actor('a', { settled: true, state: 'dead_lettered' }),
              actor('b', { settled: true, state: 'succeeded' }),
              actor('c', { state: { leased: 'running' } }),
              actor('d', { settled: true, state: 'dead_lettered', kind: 'agent' }),
            ],
          }),
        );
        expect(ids(await store.listActors({ state: 'dead_lettered' }))).toEqual(['a', 'd']);
        expect(ids(await store.listActors({ kind: 'task', state: 'dead_lettered' }))).toEqual(['a']);
        expect(ids(await store.listActors({ state: 'running' }))).toEqual([]);
      });

      it('loadLive returns whole actors', async () => {
        const a = actor('a', { context: { deep: { x: 1 } }, ticketId: null });
        await store.commit(batch({ actors: [a, actor('b', { settled: true })] }));
        expect(await store.loadLive()).toEqual([a]);
      });

      it('getActors returns the ids found and leaves out the missing ones', async () => {
        await store.commit(batch({ actors: [actor('a'), actor('b'), actor('c')] }));
        const found = await store.getActors(['c', 'missing', 'a', 'a']);
        expect([...found.keys()].sort()).toEqual(['a', 'c']);
        expect(found.get('a')).toEqual(actor('a'));
        expect(found.get('c')).toEqual(actor('c'));
        expect((await store.getActors([])).size).toBe(0);
      });
    });

    describe('listActors', () => {
      const population = [
        actor('t-10', { kind: 'task', ticketId: 'T1' }),
        actor('t-2', { kind: 'task', ticketId: 'T1', settled: true }),
        actor('t-3', { kind: 'task', ticketId: 'T2' }),
        actor('agent-b', { kind: 'agent', ticketId: null }),
        actor('agent-a', { kind: 'agent', ticketId: null, settled: true }),
        actor('ticket-T1', { kind: 'ticket', ticketId: 'T1' }),
        actor('phase-T1-build', { kind: 'phase', ticketId: 'T1', settled: true }),
      ];
      const sorted = [...population].sort(byId);
      const allIds = ids(sorted);

      beforeEach(async () => {
        // Two commits, out of id order, so that order must come from the query.
        await store.commit(batch({ actors: population.slice(0, 4) }));
        await store.commit(batch({ actors: population.slice(4) }));
      });

      it('lists every actor in id order', async () => {
        expect(await store.listActors({})).toEqual(sorted);
        expect(allIds).toEqual(['agent-a', 'agent-b', 'phase-T1-build', 't-10', 't-2', 't-3', 'ticket-T1']);
      });

      it('filters by kind, ticket and settled, alone and together', async () => {
        expect(ids(await store.listActors({ kind: 'task' }))).toEqual(['t-10', 't-2', 't-3']);
        expect(ids(await store.listActors({ kind: 'agent' }))).toEqual(['agent-a', 'agent-b']);
        expect(await store.listActors({ kind: 'coordinator' })).toEqual([]);
        expect(ids(await store.listActors({ ticketId: 'T1' }))).toEqual(['phase-T1-build', 't-10', 't-2', 'ticket-T1']);
        expect(ids(await store.listActors({ ticketId: 'T9' }))).toEqual([]);
        expect(ids(await store.listActors({ settled: true }))).toEqual(['agent-a', 'phase-T1-build', 't-2']);
        expect(ids(await store.listActors({ settled: false }))).toEqual(['agent-b', 't-10', 't-3', 'ticket-T1']);
        expect(ids(await store.listActors({ kind: 'task', ticketId: 'T1' }))).toEqual(['t-10', 't-2']);
        expect(ids(await store.listActors({ kind: 'task', ticketId: 'T1', settled: false }))).toEqual(['t-10']);
        expect(ids(await store.listActors({ kind: 'agent', settled: false }))).toEqual(['agent-b']);
      });

      it('limits the number of actors returned', async () => {
        expect(ids(await store.listActors({ limit: 3 }))).toEqual(allIds.slice(0, 3));
        expect(ids(await store.listActors({ limit: 3, afterId: 'phase' }))).toEqual(['phase-T1-build', 't-10', 't-2']);
        expect(ids(await store.listActors({ limit: 1, settled: false }))).toEqual(['agent-b']);
        expect(ids(await store.listActors({ limit: 100 }))).toEqual(allIds);
      });

      it('a limit of 0 returns no actors', async () => {
        expect(await store.listActors({ limit: 0 })).toEqual([]);
        expect(await store.listActors({ limit: 0, settled: false })).toEqual([]);
      });

      it('pages with afterId and limit through every actor exactly once', async () => {
        const seen: string[] = [];
        let afterId: string | undefined;
        for (let page = 0; page < 10; page++) {
          const rows = await store.listActors(afterId === undefined ? { limit: 2 } : { afterId, limit: 2 });
          if (rows.length === 0) break;
          expect(rows.length).toBeLessThanOrEqual(2);
          seen.push(...ids(rows));
          afterId = rows[rows.length - 1]?.id;
        }
        expect(seen).toEqual(allIds);
      });

      it('afterId is exclusive and combines with the filters', async () => {
        expect(ids(await store.listActors({ afterId: 't-10' }))).toEqual(['t-2', 't-3', 'ticket-T1']);
        expect(ids(await store.listActors({ afterId: 't-10', kind: 'task' }))).toEqual(['t-2', 't-3']);
        expect(ids(await store.listActors({ afterId: 'a', ticketId: 'T1', settled: true }))).toEqual([
          'phase-T1-build',
          't-2',
        ]);
        expect(ids(await store.listActors({ afterId: 'zzz' }))).toEqual([]);
        expect(ids(await store.listActors({ afterId: '' }))).toEqual(allIds);
      });
    });

    describe('timers', () => {
      it('keeps the timers that were set', async () => {
        const timers = [
          { actorId: 'a', name: 'timeout', at: 5000 },
          { actorId: 'a', name: 'retry', at: 6000 },
          { actorId: 'b', name: 'timeout', at: 7000.5 },
        ];
        await store.commit(batch({ timersSet: timers }));
        expect((await store.loadTimers()).sort(byTimer)).toEqual([...timers].sort(byTimer));
      });

      it('replaces a timer with the same actorId and name', async () => {
        await store.commit(
          batch({
            timersSet: [
              { actorId: 'a', name: 'timeout', at: 5000 },
              { actorId: 'b', name: 'timeout', at: 1 },
            ],
          }),
        );
        await store.commit(batch({ timersSet: [{ actorId: 'a', name: 'timeout', at: 9000 }] }));
        expect((await store.loadTimers()).sort(byTimer)).toEqual([
          { actorId: 'a', name: 'timeout', at: 9000 },
          { actorId: 'b', name: 'timeout', at: 1 },
        ]);
        await store.commit(
          batch({
            timersSet: [
              { actorId: 'c', name: 't', at: 1 },
              { actorId: 'c', name: 't', at: 2 },
            ],
          }),
        );
        expect((await store.loadTimers()).filter((t) => t.actorId === 'c')).toEqual([
          { actorId: 'c', name: 't', at: 2 },
        ]);
      });

      it('clears exactly the named timer; clearing an unknown timer is harmless', async () => {
        await store.commit(
          batch({
            timersSet: [
              { actorId: 'a', name: 'timeout', at: 1 },
              { actorId: 'a', name: 'retry', at: 2 },
              { actorId: 'b', name: 'timeout', at: 3 },
            ],
          }),
        );
        await store.commit(
          batch({
            timersCleared: [
              { actorId: 'a', name: 'timeout' },
              { actorId: 'zz', name: 'nope' },
            ],
          }),
        );
        expect((await store.loadTimers()).sort(byTimer)).toEqual([
          { actorId: 'a', name: 'retry', at: 2 },
          { actorId: 'b', name: 'timeout', at: 3 },
        ]);
      });

      it('applies clears before sets within one batch, so a re-armed timer stays', async () => {
        await store.commit(batch({ timersSet: [{ actorId: 'a', name: 'timeout', at: 1 }] }));
        await store.commit(
          batch({
            timersCleared: [{ actorId: 'a', name: 'timeout' }],
            timersSet: [{ actorId: 'a', name: 'timeout', at: 2 }],
          }),
        );
        expect(await store.loadTimers()).toEqual([{ actorId: 'a', name: 'timeout', at: 2 }]);
      });
    });

    describe('outbox', () => {
      it('keeps added entries until they are delivered', async () => {
        const entries = [
          outbox('m1', { payload: { nested: { list: [1, 'two', null] } } }),
          outbox('m2', { target: 'agent-2' }),
          outbox('m3'),
        ];
        await store.commit(batch({ outbox: entries }));
        expect((await store.loadOutbox()).sort(byId)).toEqual(entries);

        await store.commit(batch({ outboxDelivered: ['m2', 'unknown'] }));
        expect((await store.loadOutbox()).sort(byId)).toEqual([entries[0], entries[2]]);

        await store.commit(batch({ outboxDelivered: ['m1', 'm3'] }));
        expect(await store.loadOutbox()).toEqual([]);
      });

      it('replaces an entry added again under the same id', async () => {
        await store.commit(batch({ outbox: [outbox('m1')] }));
        await store.commit(
          batch({ outbox: [outbox('m1', { kind: 'task.cancel', payload: { v: 2 }, createdAt: 2000 })] }),
        );
        expect(await store.loadOutbox()).toEqual([
          outbox('m1', { kind: 'task.cancel', payload: { v: 2 }, createdAt: 2000 }),
        ]);
      });

      it('applies additions before deliveries within one batch', async () => {
        await store.commit(batch({ outbox: [outbox('m1'), outbox('m2')], outboxDelivered: ['m1'] }));
        expect(await store.loadOutbox()).toEqual([outbox('m2')]);
      });
    });

    describe('events', () => {
      const history = [
        event(1, { type: 'ticket.created', taskId: null }),
        event(2, { type: 'task.created', taskId: 'task-1' }),
        event(3, { type: 'task.created', taskId: 'task-2' }),
        event(4, { type: 'task.assigned', taskId: 'task-1', agentId: 'agent-1' }),
        event(5, { type: 'task.assigned', taskId: 'task-2', agentId: 'agent-2', phase: 'build' }),
        event(6, { type: 'agent.stale', ticketId: null, taskId: null, agentId: 'agent-2' }),
        event(7, { type: 'task.completed', taskId: 'task-1', agentId: 'agent-1', phase: 'build' }),
        event(8, { type: 'ticket.created', ticketId: 'T2', taskId: null }),
        event(9, { type: 'task.created', ticketId: 'T2', taskId: 'task-9' }),
        event(10, {
          type: 'task.failed',
          taskId: 'task-2',
          agentId: 'agent-2',
          data: { error: { code: 'E_TIMEOUT' } },
        }),
      ];

      beforeEach(async () => {
        await store.commit(batch({ events: history.slice(0, 4) }));
        await store.commit(batch({ events: history.slice(4, 5) }));
        await store.commit(batch({ events: history.slice(5) }));
      });

      it('returns events exactly as written, newest first by default', async () => {
        expect(await store.readEvents({})).toEqual([...history].reverse());
        expect(await store.readEvents({ order: 'newest' })).toEqual([...history].reverse());
        expect(await store.readEvents({ order: 'oldest' })).toEqual(history);
      });

      it('limits from the chosen end', async () => {
        expect(seqs(await store.readEvents({ limit: 3 }))).toEqual([10, 9, 8]);
        expect(seqs(await store.readEvents({ limit: 3, order: 'oldest' }))).toEqual([1, 2, 3]);
        expect(seqs(await store.readEvents({ limit: 50 }))).toHaveLength(10);
        expect(await store.readEvents({ limit: 0 })).toEqual([]);
      });

      it('afterSeq is exclusive and pages forward with oldest order', async () => {
        expect(seqs(await store.readEvents({ afterSeq: 7 }))).toEqual([10, 9, 8]);
        expect(seqs(await store.readEvents({ afterSeq: 3, order: 'oldest', limit: 2 }))).toEqual([4, 5]);
        expect(seqs(await store.readEvents({ afterSeq: 0, order: 'oldest' }))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(await store.readEvents({ afterSeq: 10 })).toEqual([]);
      });

      it('filters by ticket, task, agent and types', async () => {
        expect(seqs(await store.readEvents({ ticketId: 'T2' }))).toEqual([9, 8]);
        expect(seqs(await store.readEvents({ ticketId: 'T1', order: 'oldest' }))).toEqual([1, 2, 3, 4, 5, 7, 10]);
        expect(seqs(await store.readEvents({ taskId: 'task-2' }))).toEqual([10, 5, 3]);
        expect(seqs(await store.readEvents({ agentId: 'agent-2' }))).toEqual([10, 6, 5]);
        expect(seqs(await store.readEvents({ types: ['task.created'] }))).toEqual([9, 3, 2]);
        expect(seqs(await store.readEvents({ types: ['ticket.created', 'agent.stale'] }))).toEqual([8, 6, 1]);
        expect(seqs(await store.readEvents({ types: ['no.such.type'] }))).toEqual([]);
        expect(await store.readEvents({ taskId: 'task-404' })).toEqual([]);
      });

      it('an empty types list matches no event', async () => {
        expect(await store.readEvents({ types: [] })).toEqual([]);
      });

      it('combines every filter with order, afterSeq and limit', async () => {
        expect(
          seqs(await store.readEvents({ ticketId: 'T1', agentId: 'agent-2', types: ['task.assigned', 'task.failed'] })),
        ).toEqual([10, 5]);
        expect(
          seqs(await store.readEvents({ ticketId: 'T1', taskId: 'task-1', afterSeq: 2, order: 'oldest', limit: 1 })),
        ).toEqual([4]);
        expect(
          seqs(
            await store.readEvents({ ticketId: 'T1', types: ['task.created', 'task.assigned'], afterSeq: 2, limit: 2 }),
          ),
        ).toEqual([5, 4]);
      });

      it('lastEventSeq follows the highest committed seq', async () => {
        expect(await store.lastEventSeq()).toBe(10);
        await store.commit(batch({ events: [event(11), event(12)] }));
        expect(await store.lastEventSeq()).toBe(12);
        await store.commit(batch({ actors: [actor('a')] }));
        expect(await store.lastEventSeq()).toBe(12);
      });
    });

    describe('atomicity', () => {
      const baseline = batch({
        actors: [actor('keep'), actor('settled', { settled: true })],
        timersSet: [{ actorId: 'keep', name: 'timeout', at: 100 }],
        outbox: [outbox('o-keep')],
        events: [event(1)],
      });

      /** A batch touching every part of the store, with the bad value placed last of its kind. */
      function mixedBatch(bad: { where: 'context' | 'state' | 'event' | 'outbox'; value: unknown }): CommitBatch {
        const b = batch({
          actors: [actor('new-1'), actor('keep', { state: 'changed' }), actor('settled', { settled: false })],
          timersSet: [
            { actorId: 'new-1', name: 'timeout', at: 200 },
            { actorId: 'keep', name: 'timeout', at: 999 },
          ],
          timersCleared: [{ actorId: 'keep', name: 'timeout' }],
          events: [event(2), event(3)],
          outbox: [outbox('o-new')],
          outboxDelivered: ['o-keep'],
        });
        if (bad.where === 'context') b.actors.push(actor('new-bad', { context: { ok: 1, bad: bad.value } }));
        if (bad.where === 'state') b.actors.push(actor('new-bad', { state: bad.value }));
        if (bad.where === 'event') b.events.push(event(4, { data: { bad: bad.value } }));
        if (bad.where === 'outbox') b.outbox.push(outbox('o-bad', { payload: { bad: bad.value } }));
        return b;
      }

      const cases = [
        { label: 'a BigInt', make: () => 10n },
        { label: 'a cyclic object', make: cyclic },
      ];
      const places = ['context', 'state', 'event', 'outbox'] as const;

      for (const { label, make } of cases) {
        for (const where of places) {
          it(`a batch with ${label} in ${where === 'event' || where === 'outbox' ? `an ${where} entry` : `an actor's ${where}`} throws and changes nothing`, async () => {
            await store.commit(baseline);
            const before = await snapshotOf(store);
            await expect(store.commit(mixedBatch({ where, value: make() }))).rejects.toThrow();
            expect(await snapshotOf(store)).toEqual(before);
            expect(await store.getActor('new-1')).toBeUndefined();
            expect(await store.getActor('new-bad')).toBeUndefined();
          });
        }
      }

      it("keeps working after a rejected batch: the bad value was the caller's fault", async () => {
        await store.commit(baseline);
        await expect(store.commit(mixedBatch({ where: 'context', value: 1n }))).rejects.toThrow();
        await store.commit(mixedBatch({ where: 'context', value: 'fine' }));
        const after = await snapshotOf(store);
        expect(ids(after.actors)).toEqual(['keep', 'new-1', 'new-bad', 'settled']);
        expect(after.timers).toEqual([
          { actorId: 'keep', name: 'timeout', at: 999 },
          { actorId: 'new-1', name: 'timeout', at: 200 },
        ]);
        expect(ids(after.outbox)).toEqual(['o-new']);
        expect(seqs(after.events)).toEqual([1, 2, 3]);
        expect(after.lastSeq).toBe(3);
      });

      it('commits a large mixed batch in one piece', async () => {
        const actors = Array.from({ length: 500 }, (_, i) =>
          actor(`a-${String(i).padStart(4, '0')}`, { settled: i % 5 === 0 }),
        );
        const events = Array.from({ length: 500 }, (_, i) => event(i + 1, { taskId: `a-${i}` }));
        const timersSet = actors.slice(0, 100).map((a) => ({ actorId: a.id, name: 'timeout', at: 1 }));
        await store.commit(batch({ actors, events, timersSet, outbox: [outbox('m')] }));
        expect(await store.listActors({})).toEqual(actors);
        expect(await store.loadLive()).toHaveLength(400);
        expect(await store.loadTimers()).toHaveLength(100);
        expect(await store.readEvents({ order: 'oldest' })).toEqual(events);
        expect(await store.lastEventSeq()).toBe(500);
      });
    });

    describe('values', () => {
      it('round-trip exactly through actors, events and outbox', async () => {
        const a = actor('it\'s "odd" 日本 👩‍💻', {
          kind: 'coordinator.vote',
          state: { parallel: { left: 'a', right: { nested: 'b' } } },
          context: awkwardValue,
          ticketId: 'T-ü',
          version: 7,
          updatedAt: 1_700_000_000_123,
        });
        const e = event(1, {
          type: 'coordination.sync.ready',
          ticketId: 'T-ü',
          taskId: 'τ',
          agentId: 'a👩',
          phase: 'ré',
          data: awkwardValue,
        });
        const o = outbox('o-ü', { target: 'agent-日本', payload: awkwardValue, createdAt: 1_700_000_000_456 });
        await store.commit(batch({ actors: [a], events: [e], outbox: [o] }));
        expect(await store.getActor(a.id)).toEqual(a);
        expect(await store.readEvents({})).toEqual([e]);
        expect(await store.loadOutbox()).toEqual([o]);
        expect(await store.listActors({ ticketId: 'T-ü' })).toEqual([a]);
        expect(await store.readEvents({ taskId: 'τ', agentId: 'a👩' })).toEqual([e]);
      });

      it('keeps primitive states and contexts as they are', async () => {
        const list = [
          actor('s-string', { state: 'idle', context: 'text' }),
          actor('s-number', { state: 3, context: 0 }),
          actor('s-null', { state: null, context: null }),
          actor('s-array', { state: ['a', 'b'], context: [] }),
          actor('s-bool', { state: false, context: true }),
        ];
        await store.commit(batch({ actors: list }));
        expect(await store.listActors({})).toEqual([...list].sort(byId));
      });
    });

    describe('copies', () => {
      if (!options.keepsCommittedObjects)
        it('is not changed by mutating what was committed', async () => {
          const a = actor('a', { context: { list: [1], inner: { v: 1 } } });
          const e = event(1, { data: { list: [1] } });
          const o = outbox('o', { payload: { list: [1] } });
          const t = { actorId: 'a', name: 'timeout', at: 1 };
          await store.commit(batch({ actors: [a], events: [e], outbox: [o], timersSet: [t] }));
          (a.context as { list: number[] }).list.push(2);
          a.state = 'mutated';
          (e.data['list'] as number[]).push(2);
          (o.payload['list'] as number[]).push(2);
          t.at = 999;
          expect(await store.getActor('a')).toEqual(actor('a', { context: { list: [1], inner: { v: 1 } } }));
          expect(await store.readEvents({})).toEqual([event(1, { data: { list: [1] } })]);
          expect(await store.loadOutbox()).toEqual([outbox('o', { payload: { list: [1] } })]);
          expect(await store.loadTimers()).toEqual([{ actorId: 'a', name: 'timeout', at: 1 }]);
        });

      it('hands out copies: mutating what was read changes nothing', async () => {
        await store.commit(
          batch({
            actors: [actor('a', { context: { inner: { v: 1 } } })],
            events: [event(1, { data: { inner: { v: 1 } } })],
            outbox: [outbox('o', { payload: { inner: { v: 1 } } })],
            timersSet: [{ actorId: 'a', name: 'timeout', at: 1 }],
          }),
        );
        const before = await snapshotOf(store);
        const mutate = (value: unknown): void => {
          const v = value as {
            context?: { inner: { v: number } };
            data?: { inner: { v: number } };
            payload?: { inner: { v: number } };
            at?: number;
            state?: unknown;
          };
          if (v.context) v.context.inner.v = 2;
          if (v.data) v.data.inner.v = 2;
          if (v.payload) v.payload.inner.v = 2;
          if (v.at !== undefined) v.at = 2;
          v.state = 'mutated';
        };
        mutate(await store.getActor('a'));
        (await store.getActors(['a'])).forEach(mutate);
        (await store.listActors({})).forEach(mutate);
        (await store.loadLive()).forEach(mutate);
        (await store.loadTimers()).forEach(mutate);
        (await store.loadOutbox()).forEach(mutate);
        (await store.readEvents({})).forEach(mutate);
        expect(await snapshotOf(store)).toEqual(before);
      });
    });

    describeRetentionConformance(() => store);
    describePagingConformance(() => store);

    if (options.persistent)
      describe('persistence', () => {
        it('keeps everything committed across a close and a reopen', async () => {
          if (made.reopen === undefined) throw new Error('a persistent store must give reopen');
          await store.commit(
            batch({
              actors: [
                actor('a', { context: awkwardValue }),
                actor('b'),
                actor('c', { kind: 'agent', ticketId: null }),
              ],
              timersSet: [
                { actorId: 'a', name: 'timeout', at: 10 },
                { actorId: 'b', name: 'retry', at: 20 },
              ],
              outbox: [outbox('m1'), outbox('m2')],
              events: [event(1, { data: awkwardValue }), event(2)],
            }),
          );
          await store.commit(
            batch({
              actors: [actor('b', { settled: true, state: 'done' })],
              timersCleared: [{ actorId: 'b', name: 'retry' }],
              outboxDelivered: ['m1'],
              events: [event(3, { type: 'task.completed' })],
            }),
          );
          const before = await snapshotOf(store);

          const again = await reopened();
          if (again === undefined) throw new Error('unreachable: reopen was checked above');
          expect(await snapshotOf(again)).toEqual(before);
          expect(ids((await again.loadLive()).sort(byId))).toEqual(['a', 'c']);
          expect(await again.lastEventSeq()).toBe(3);

          await again.commit(batch({ actors: [actor('d')], events: [event(4)] }));
          expect(await again.lastEventSeq()).toBe(4);
          expect(await again.getActor('d')).toEqual(actor('d'));
        });

        it('keeps nothing of a batch that was rejected before the close', async () => {
          if (made.reopen === undefined) throw new Error('a persistent store must give reopen');
          await store.commit(batch({ actors: [actor('a')], events: [event(1)] }));
          await expect(
            store.commit(batch({ actors: [actor('b'), actor('c', { context: { n: 1n } })], events: [event(2)] })),
          ).rejects.toThrow();
          const again = await reopened();
          if (again === undefined) throw new Error('unreachable: reopen was checked above');
          expect(ids(await again.listActors({}))).toEqual(['a']);
          expect(await again.lastEventSeq()).toBe(1);
        });
      });
  });
}
