import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock } from '../src/index.js';
import { DelegatingStore } from '../src/engine/store/delegating-store.js';
import { SqliteStore } from '../src/engine/store/sqlite-store.js';
import type { ActorPage, ActorPageQuery, ActorQuery, StoredActor } from '../src/engine/store/store.js';
import { call, startServe, type ServeProcess } from './support/serve-process.js';

/**
 * Lists page by keyset over the store, settled work included: 10,500 settled tasks in a SQLite
 * file are paged through by a real `troupe serve`, each once and in creation order, and a page
 * reads a page of rows, never all of them.
 */
const SETTLED = 10_500;
const T0 = 1_750_000_000_000;
const id = (n: number) => `bulk-${String(n).padStart(5, '0')}`;
const silent = pino({ level: 'silent' });

/** Counts the rows the runtime reads from the store's actor lists. */
class CountingStore extends DelegatingStore {
  paged = 0;
  listed = 0;
  override async pageActors(query: ActorPageQuery): Promise<ActorPage> {
    const page = await super.pageActors(query);
    this.paged += page.items.length;
    return page;
  }
  override async listActors(query: ActorQuery): Promise<StoredActor[]> {
    const actors = await super.listActors(query);
    this.listed += actors.length;
    return actors;
  }
}

let dir: string;
let db: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'troupe-paging-'));
  db = join(dir, 'troupe.db');
  // One real task, cancelled (settled), whose record is the model of 10,500 more.
  const runtime = createRuntime({
    store: new SqliteStore({ path: db }),
    clock: new SimulatedClock(T0),
    logger: silent,
  });
  await runtime.start();
  await runtime.tasks.create({ id: 'model', type: 'bulk', input: { n: 0 } });
  await runtime.tasks.cancel('model', 'a model to copy');
  await runtime.stop();
  const store = new SqliteStore({ path: db });
  await store.open();
  const model = JSON.stringify(await store.getActor('model'));
  for (let from = 0; from < SETTLED; from += 1_500) {
    const actors: StoredActor[] = [];
    const created = new Map<string, number>();
    for (let n = from; n < Math.min(from + 1_500, SETTLED); n++) {
      actors.push(JSON.parse(model.replaceAll('"model"', JSON.stringify(id(n)))) as StoredActor);
      // Two tasks per millisecond: ties are broken by id.
      created.set(id(n), T0 + 1 + Math.floor(n / 2));
    }
    await store.commit({
      actors,
      created,
      timersSet: [],
      timersCleared: [],
      events: [],
      outbox: [],
      outboxDelivered: [],
    });
  }
  await store.close();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('paging settled work', () => {
  it('a page of settled tasks reads a page of rows, not all of them', async () => {
    const store = new CountingStore(new SqliteStore({ path: db }));
    const runtime = createRuntime({ store, clock: new SimulatedClock(T0 + 60_000), logger: silent });
    await runtime.start();
    try {
      store.paged = 0;
      store.listed = 0;
      const first = await runtime.tasks.page({ status: 'cancelled' }, { limit: 100, order: 'newest' });
      expect(first.items.map((t) => t.id)).toEqual(Array.from({ length: 100 }, (_, i) => id(SETTLED - 1 - i)));
      expect(first.items.every((t) => t.status === 'cancelled' && t.type === 'bulk')).toBe(true);
      // One read of the page and one row more (to know that a next page exists).
      expect(store.paged).toBe(101);
      expect(store.listed).toBe(0);
      const second = await runtime.tasks.page(
        { status: 'cancelled' },
        { limit: 100, order: 'newest', after: first.next ?? undefined },
      );
      expect(second.items[0]?.id).toBe(id(SETTLED - 101));
      expect(store.paged).toBe(202);
    } finally {
      await runtime.stop();
    }
  });

  describe('through the HTTP API of troupe serve', () => {
    let serve: ServeProcess;
    beforeAll(async () => {
      serve = await startServe([], dir);
    }, 30_000);
    afterAll(async () => {
      await serve.stop();
    });

    it('pages through all 10,501 tasks, each once, in creation order, live ones among them', async () => {
      const live = await call(serve.url, 'POST', '/v1/tasks', { body: { id: 'live-1', type: 'fresh' } });
      expect(live.status).toBe(201);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { status: number; body: { items: Array<{ id: string }>; nextCursor: string | null } } = await call(
          serve.url,
          'GET',
          `/v1/tasks?limit=1000&order=oldest${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(1_000);
        seen.push(...page.body.items.map((t) => t.id));
        cursor = page.body.nextCursor;
        pages += 1;
      } while (cursor !== null);
      expect(pages).toBe(11);
      expect(seen).toEqual(['model', ...Array.from({ length: SETTLED }, (_, n) => id(n)), 'live-1']);
      // Filters the store cannot apply read on until the page is full: the one queued task.
      const queued = await call(serve.url, 'GET', '/v1/tasks?status=queued&limit=5');
      expect(queued.body).toEqual({
        items: [expect.objectContaining({ id: 'live-1', status: 'queued' })],
        nextCursor: null,
      });
      const typed = await call(serve.url, 'GET', '/v1/tasks?type=bulk&limit=3&order=newest');
      expect(typed.body.items.map((t: { id: string }) => t.id)).toEqual([
        id(SETTLED - 1),
        id(SETTLED - 2),
        id(SETTLED - 3),
      ]);
      expect(typed.body.nextCursor).not.toBeNull();
    }, 120_000);
  });
});
