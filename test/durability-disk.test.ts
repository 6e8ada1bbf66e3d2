import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock, TroupeError, type Runtime } from '../src/index.js';
import { SqliteStore } from '../src/engine/store/sqlite-store.js';
import { checkHistory } from './fixtures/durability/outcome.js';

/**
 * A disk that fills up in the middle of a run (SQLite's `max_page_count` makes the file "full"
 * at a chosen size: SQLITE_FULL, as on a full disk). The runtime stops accepting work with
 * E_STORE, and nothing it reported done is missing from the file: a fresh runtime on the same file
 * finds every task it reported succeeded, and carries on with the rest.
 */
const silent = pino({ level: 'silent' });
const PAD = 'x'.repeat(600);

describe('the disk fills up while the runtime works', () => {
  let dir: string;
  let path: string;
  const runtimes: Runtime[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-disk-'));
    path = join(dir, 'troupe.db');
  });
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function pagesNow(): number {
    const db = new Database(path);
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.close();
    return pages;
  }

  it('stops accepting work with E_STORE and never reports done what was not stored', async () => {
    const empty = new SqliteStore({ path });
    await empty.open();
    await empty.close();
    // Room for a few hundred tasks beyond the empty schema.
    const store = new SqliteStore({ path, maxPageCount: pagesNow() + 150 });
    const runtime = createRuntime({ store, clock: new SimulatedClock(0), logger: silent });
    runtimes.push(runtime);

    const reported = new Set<string>();
    runtime.events.subscribe({ types: ['task.completed'] }, (e) => reported.add(e.taskId as string));
    const waited = new Set<string>();
    // Each handler finishes a turn later, so that work is still in flight when the disk fills.
    const later = <T>(value: T): Promise<T> => new Promise((resolve) => setImmediate(() => resolve(value)));
    for (let i = 0; i < 3; i++) {
      await runtime.agents.register({
        id: `a${i}`,
        capacity: 4,
        handler: (task) => later({ echo: (task.input as { n: number }).n, pad: PAD }),
      });
    }
    let created = 0;
    let refusal: unknown;
    for (let chunk = 0; chunk < 200 && refusal === undefined; chunk++) {
      const inputs = Array.from({ length: 20 }, (_, i) => ({
        id: `t-${chunk}-${i}`,
        type: 'work',
        input: { n: chunk * 20 + i, pad: PAD },
      }));
      try {
        const views = await runtime.tasks.createMany(inputs);
        created += views.length;
        for (const v of views) {
          runtime.tasks.wait(v.id).then(
            (done) => done.status === 'succeeded' && waited.add(done.id),
            () => undefined,
          );
        }
      } catch (error) {
        refusal = error;
      }
    }
    // The disk filled in the middle of the run, after real work was done.
    expect(refusal).toBeInstanceOf(TroupeError);
    expect(refusal).toMatchObject({ code: 'E_STORE' });
    expect(created).toBeGreaterThan(40);
    expect(reported.size).toBeGreaterThan(20);
    const failure = runtime.core.host.failed;
    expect(failure?.code).toBe('E_STORE');
    expect(failure?.message).toContain(path);
    expect(failure?.message).toContain('SQLITE_FULL');

    // It takes no more work, and says why.
    await expect(runtime.tasks.create({ type: 'more' })).rejects.toMatchObject({ code: 'E_STORE' });
    await expect(runtime.tasks.get('t-0-0')).rejects.toMatchObject({ code: 'E_STORE' });
    await expect(runtime.agents.register({ id: 'late', handler: () => 1 })).rejects.toMatchObject({ code: 'E_STORE' });
    await expect(runtime.tickets.create({ title: 'more' })).rejects.toMatchObject({ code: 'E_STORE' });
    await expect(runtime.events.read({})).rejects.toMatchObject({ code: 'E_STORE' });
    await runtime.stop();
    runtimes.splice(0);

    // A fresh runtime on the same file (with room now): everything reported done is there.
    const clock = new SimulatedClock(0);
    const next = createRuntime({ store: new SqliteStore({ path }), clock, logger: silent });
    runtimes.push(next);
    await next.start();
    for (const id of waited) expect(reported.has(id), id).toBe(true);
    const stored = await next.store.getActors([...reported]);
    const notStored = [...reported].filter((id) => stored.get(id)?.state !== 'succeeded');
    expect(notStored).toEqual([]);
    for (const id of reported) {
      expect((await next.tasks.get(id)).result).toEqual({
        echo: Number(id.split('-')[1]) * 20 + Number(id.split('-')[2]),
        pad: PAD,
      });
    }
    const history = await checkHistory(next.store);
    expect(history.gaps).toEqual([]);
    expect(history.completedNotOnce).toEqual({});

    // And it carries on with what the file holds unfinished.
    const unfinished = (await next.tasks.list({ includeSettled: false })).map((t) => t.id);
    expect(unfinished.length).toBeGreaterThan(0);
    await next.agents.register({
      id: 'b',
      capacity: 8,
      handler: (task) => ({ echo: (task.input as { n: number }).n, pad: PAD }),
    });
    await clock.advance(60_000); // the lost agents' tasks wait out their retry backoff
    await next.idle();
    for (const id of unfinished) expect((await next.tasks.get(id)).status, id).toBe('succeeded');
  });
});
