import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock, type Runtime } from '../../src/index.js';
import { restoreSqliteFile } from '../../src/engine/store/sqlite-backup.js';
import { SqliteStore } from '../../src/engine/store/sqlite-store.js';

const silent = pino({ level: 'silent' });

/** A handler that lets the event loop turn before finishing: work stays in flight. */
const slowly = async (task: { id: string }) => {
  await new Promise((resolve) => setImmediate(resolve));
  return { done: task.id };
};

describe('backup while work runs, restore, carry on', () => {
  let dir: string;
  const runtimes: Runtime[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-backup-'));
  });
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('restores a backup taken mid-run and finishes everything it held, losing nothing of it', async () => {
    const live = new SqliteStore({ path: join(dir, 'live.db') });
    const first = createRuntime({ store: live, clock: new SimulatedClock(1_000), logger: silent });
    runtimes.push(first);
    await first.agents.register({ id: 'worker', capabilities: ['work'], capacity: 4, handler: slowly });
    const ticket = await first.tickets.create({
      title: 'two phases',
      phases: [
        {
          name: 'one',
          tasks: Array.from({ length: 10 }, (_, i) => ({ id: `p1-${i}`, type: 'w', requires: ['work'] })),
        },
        {
          name: 'two',
          tasks: Array.from({ length: 10 }, (_, i) => ({ id: `p2-${i}`, type: 'w', requires: ['work'] })),
        },
      ],
    });
    const free = Array.from({ length: 400 }, (_, i) => ({ id: `free-${i}`, type: 'w', requires: ['work'] }));
    await first.tasks.createMany(free.slice(0, 200));
    await first.audit.record({ actor: 'ci', action: 'task.submitted', target: 'free-0' });
    // The backup runs in small steps while the agent keeps finishing tasks and more arrive.
    const backupFile = join(dir, 'backups', 'mid-run.db');
    const backup = live.backup(backupFile, { pagesPerStep: 2 });
    await first.tasks.createMany(free.slice(200));
    await backup;
    await first.tickets.wait(ticket.id);
    for (const t of free) await first.tasks.wait(t.id);
    await first.stop();

    // What the backup holds: some work finished, some not yet.
    const held = new SqliteStore({ path: backupFile, readonly: true });
    await held.open();
    const heldActors = await held.listActors({});
    const heldEvents = await held.readEvents({ order: 'oldest' });
    const heldAudit = await held.readAudit({});
    await held.close();
    const heldTasks = heldActors.filter((a) => a.kind === 'task');
    expect(heldTasks.some((a) => a.settled)).toBe(true);
    expect(heldTasks.some((a) => !a.settled)).toBe(true);
    expect(heldAudit).toHaveLength(1);

    const restoredPath = join(dir, 'restored.db');
    await restoreSqliteFile(backupFile, restoredPath);
    const store = new SqliteStore({ path: restoredPath });
    const clock = new SimulatedClock(2_000);
    const second = createRuntime({ store, clock, logger: silent });
    runtimes.push(second);
    await second.start();
    await second.agents.register({ id: 'worker-2', capabilities: ['work'], capacity: 4, handler: slowly });
    // Tasks the old process's agent held come back through a retry backoff: let it pass.
    await clock.advance(3_600_000);
    for (const t of heldTasks) expect((await second.tasks.wait(t.id)).status).toBe('succeeded');
    if (heldActors.some((a) => a.id === ticket.id))
      expect((await second.tickets.wait(ticket.id)).status).toBe('completed');

    // Nothing the backup held was lost or changed: settled records as they were, every event kept.
    for (const a of heldActors.filter((x) => x.settled)) expect(await store.getActor(a.id)).toEqual(a);
    const after = await store.readEvents({ order: 'oldest' });
    const bySeq = new Map(after.map((e) => [e.seq, e]));
    for (const e of heldEvents) expect(bySeq.get(e.seq)).toEqual(e);
    expect(after.length).toBeGreaterThan(heldEvents.length);
    expect(await store.readAudit({})).toEqual(heldAudit);
  });

  it('refuses to restore over an existing store without force, and a file that is not a store', async () => {
    const store = new SqliteStore({ path: join(dir, 'a.db') });
    await store.open();
    await store.backup(join(dir, 'copy.db'));
    await store.close();
    await expect(restoreSqliteFile(join(dir, 'copy.db'), join(dir, 'a.db'))).rejects.toThrow(/--force/);
    await expect(restoreSqliteFile(join(dir, 'copy.db'), join(dir, 'a.db'), { force: true })).resolves.toMatchObject({
      totalPages: expect.any(Number),
    });
    await expect(restoreSqliteFile(join(dir, 'missing.db'), join(dir, 'b.db'))).rejects.toThrow(/no backup/);
  });
});
