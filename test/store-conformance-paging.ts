import { describe, expect, it } from 'vitest';
import type { ActorCursor, ActorPageQuery, Store, StoredActor } from '../src/engine/store/store.js';
import { actor, batch } from './store-conformance.js';

const T0 = 1_700_000_000_000;

/** Every page of a query, followed to the end: ids in the order given, and the sizes of the pages. */
async function allPages(
  store: Store,
  query: Omit<ActorPageQuery, 'after'>,
): Promise<{ ids: string[]; sizes: number[] }> {
  const ids: string[] = [];
  const sizes: number[] = [];
  let after: ActorCursor | undefined;
  for (;;) {
    const page = await store.pageActors({ ...query, ...(after ? { after } : {}) });
    sizes.push(page.items.length);
    ids.push(...page.items.map((i) => i.actor.id));
    if (page.next === null) return { ids, sizes };
    expect(page.next).toEqual({ id: page.items.at(-1)?.actor.id, createdAt: page.items.at(-1)?.createdAt });
    after = page.next;
  }
}

/**
 * Keyset paging of actors in creation order (`Store.pageActors`): part of the store conformance
 * suite (see `describeStoreConformance`), run for every implementation.
 */
export function describePagingConformance(current: () => Store): void {
  describe('pageActors', () => {
    /** Tasks t0..t5 first written at T0 + 10 * (i div 2): pairs share a creation time. */
    const tasks = (settled = true): StoredActor[] =>
      Array.from({ length: 6 }, (_, i) =>
        actor(`t${i}`, {
          ticketId: null,
          settled,
          state: settled ? 'succeeded' : 'running',
          updatedAt: T0 + 10 * Math.floor(i / 2),
        }),
      );

    it('pages in creation order, then id, both ways, each actor once, with the creation time of each', async () => {
      const store = current();
      // Written out of id order: the order of creation, not of ids or of writes, is the page order.
      const [t0, t1, t2, t3, t4, t5] = tasks();
      await store.commit(batch({ actors: [t5 as StoredActor, t4 as StoredActor] }));
      await store.commit(
        batch({ actors: [t0 as StoredActor, t3 as StoredActor, t1 as StoredActor, t2 as StoredActor] }),
      );
      const oldest = await allPages(store, { kinds: ['task'], order: 'oldest', limit: 4 });
      expect(oldest).toEqual({ ids: ['t0', 't1', 't2', 't3', 't4', 't5'], sizes: [4, 2] });
      const newest = await allPages(store, { kinds: ['task'], order: 'newest', limit: 2 });
      expect(newest).toEqual({ ids: ['t5', 't4', 't3', 't2', 't1', 't0'], sizes: [2, 2, 2] });
      const first = await store.pageActors({ kinds: ['task'], order: 'oldest', limit: 1 });
      expect(first.items).toEqual([{ actor: t0, createdAt: T0 }]);
    });

    it('keeps the creation time of the first write through later writes', async () => {
      const store = current();
      await store.commit(batch({ actors: tasks(false) }));
      // t0 settles long after the others were created: it stays first.
      await store.commit(
        batch({ actors: [actor('t0', { settled: true, state: 'succeeded', updatedAt: T0 + 1_000 })] }),
      );
      const page = await store.pageActors({ kinds: ['task'], order: 'oldest', limit: 1 });
      expect(page.items.map((i) => [i.actor.id, i.createdAt, i.actor.updatedAt, i.actor.settled])).toEqual([
        ['t0', T0, T0 + 1_000, true],
      ]);
    });

    it('takes the creation time the batch gives for an actor it creates, and no later one', async () => {
      const store = current();
      await store.commit(
        batch({
          actors: [actor('a', { updatedAt: T0 + 9 }), actor('b', { updatedAt: T0 + 9 })],
          created: new Map([
            ['a', T0 + 2],
            ['b', T0 + 1],
          ]),
        }),
      );
      await store.commit(batch({ actors: [actor('a', { updatedAt: T0 + 20 })], created: new Map([['a', T0 + 30]]) }));
      const page = await store.pageActors({ kinds: ['task'], order: 'oldest', limit: 5 });
      expect(page.items.map((i) => [i.actor.id, i.createdAt])).toEqual([
        ['b', T0 + 1],
        ['a', T0 + 2],
      ]);
    });

    it('filters by kinds, ticket and settled, alone and together', async () => {
      const store = current();
      await store.commit(
        batch({
          actors: [
            actor('k1', { kind: 'ticket', ticketId: 'k1', settled: true, updatedAt: T0 }),
            actor('k1-a', { ticketId: 'k1', settled: true, updatedAt: T0 + 1 }),
            actor('k1-b', { ticketId: 'k1', settled: false, updatedAt: T0 + 2 }),
            actor('k2-a', { ticketId: 'k2', settled: true, updatedAt: T0 + 3 }),
            actor('run-1', { kind: 'pattern:a', ticketId: null, settled: true, updatedAt: T0 + 4 }),
            actor('run-2', { kind: 'pattern:b', ticketId: null, settled: false, updatedAt: T0 + 5 }),
          ],
        }),
      );
      const ids = async (q: Partial<ActorPageQuery>) =>
        (await allPages(store, { kinds: ['task'], order: 'oldest', limit: 10, ...q })).ids;
      expect(await ids({})).toEqual(['k1-a', 'k1-b', 'k2-a']);
      expect(await ids({ settled: true })).toEqual(['k1-a', 'k2-a']);
      expect(await ids({ settled: false })).toEqual(['k1-b']);
      expect(await ids({ ticketId: 'k1' })).toEqual(['k1-a', 'k1-b']);
      expect(await ids({ ticketId: 'k1', settled: true })).toEqual(['k1-a']);
      expect(await ids({ kinds: ['pattern:a', 'pattern:b'], order: 'newest' })).toEqual(['run-2', 'run-1']);
      expect(await ids({ kinds: ['pattern:a', 'ticket'], settled: true, limit: 1 })).toEqual(['k1', 'run-1']);
      expect(await ids({ kinds: ['nothing'] })).toEqual([]);
    });

    it('says no page follows exactly when none does', async () => {
      const store = current();
      await store.commit(batch({ actors: tasks() }));
      expect((await store.pageActors({ kinds: ['task'], order: 'oldest', limit: 6 })).next).toBeNull();
      expect((await store.pageActors({ kinds: ['task'], order: 'oldest', limit: 5 })).next).toEqual({
        id: 't4',
        createdAt: T0 + 20,
      });
      const last = { id: 't5', createdAt: T0 + 20 };
      expect(await store.pageActors({ kinds: ['task'], order: 'oldest', limit: 3, after: last })).toEqual({
        items: [],
        next: null,
      });
    });

    it('neither repeats nor skips an actor when others are created or deleted between pages', async () => {
      const store = current();
      await store.commit(batch({ actors: tasks() }));
      const first = await store.pageActors({ kinds: ['task'], order: 'newest', limit: 3 });
      expect(first.items.map((i) => i.actor.id)).toEqual(['t5', 't4', 't3']);
      await store.commit(
        batch({
          actors: [
            actor('t9', { settled: true, updatedAt: T0 + 99 }),
            actor('t00', { settled: true, updatedAt: T0 - 1 }),
          ],
        }),
      );
      expect((await store.deleteUnits([{ kind: 'actor', id: 't1', lastUpdatedAt: T0 }])).actors).toBe(1);
      const rest = await allPages(store, {
        kinds: ['task'],
        order: 'newest',
        limit: 2,
        ...(first.next ? { after: first.next } : {}),
      });
      // t9 was created after the first page began: newest first, it is before the cursor.
      expect(rest.ids).toEqual(['t2', 't0', 't00']);
    });

    it('gives an imported actor its updatedAt as its creation time', async () => {
      const store = current();
      await store.importUnits([
        {
          kind: 'actor',
          id: 'old',
          actors: [actor('old', { ticketId: null, settled: true, updatedAt: T0 - 5 })],
          events: [],
        },
      ]);
      await store.commit(batch({ actors: [actor('new', { settled: true, updatedAt: T0 })] }));
      const page = await store.pageActors({ kinds: ['task'], order: 'oldest', limit: 10 });
      expect(page.items.map((i) => [i.actor.id, i.createdAt])).toEqual([
        ['old', T0 - 5],
        ['new', T0],
      ]);
    });

    it('pages through 10,500 settled actors, one page of rows at a time', async () => {
      const store = current();
      const count = 10_500;
      for (let from = 0; from < count; from += 1_500) {
        // Three actors per millisecond: ties broken by id, across batch boundaries too.
        const actors = Array.from({ length: Math.min(1_500, count - from) }, (_, i) => {
          const n = from + i;
          return actor(`s-${String(n).padStart(5, '0')}`, {
            ticketId: null,
            settled: true,
            state: 'succeeded',
            updatedAt: T0 + Math.floor(n / 3),
            context: { n },
          });
        });
        await store.commit(batch({ actors }));
      }
      await store.commit(batch({ actors: [actor('live', { ticketId: null, updatedAt: T0 + 5 })] }));
      const { ids, sizes } = await allPages(store, { kinds: ['task'], settled: true, order: 'newest', limit: 1_000 });
      expect(sizes).toEqual([...Array(10).fill(1_000), 500]);
      expect(ids).toEqual(Array.from({ length: count }, (_, i) => `s-${String(count - 1 - i).padStart(5, '0')}`));
    }, 60_000);
  });
}
