import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createRuntime,
  NonRetryableError,
  readArchive,
  SimulatedClock,
  type Runtime,
  type UnitRecord,
} from '../../src/index.js';
import { SqliteStore } from '../../src/engine/store/sqlite-store.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 86_400_000;

describe('retention on a runtime (SQLite, simulated clock)', () => {
  let dir: string;
  let runtime: Runtime;
  let clock: SimulatedClock;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-retention-'));
  });
  afterEach(async () => {
    await runtime?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(archive = false): Promise<SqliteStore> {
    clock = new SimulatedClock(Date.UTC(2026, 11, 1));
    const store = new SqliteStore({ path: join(dir, 'troupe.db') });
    runtime = createRuntime({
      store,
      clock,
      logger: pino({ level: 'silent' }),
      // Beats and sweeps far apart: days of simulated time pass in a few hundred steps.
      heartbeatIntervalMs: HOUR,
      staleAfterMs: 3 * HOUR,
      retention: {
        finishedMs: DAY,
        deadLetteredMs: 3 * DAY,
        eventsMs: DAY,
        auditMs: 2 * DAY,
        intervalMs: 10 * MINUTE,
        batchSize: 2,
        ...(archive ? { archive: { dir: join(dir, 'archive') } } : {}),
      },
    });
    await runtime.agents.register({
      id: 'worker',
      capabilities: ['work'],
      capacity: 4,
      handler: (task) => {
        if (task.type === 'doomed') throw new NonRetryableError('cannot be done');
        return { done: task.id };
      },
    });
    return store;
  }

  it('keeps live work and its events, removes finished units whole after their age, dead-lettered ones later', async () => {
    const store = await start();
    const ticket = await runtime.tickets.create({
      title: 'finished',
      phases: [
        {
          name: 'build',
          tasks: [
            { id: 'build-1', type: 'build', requires: ['work'] },
            { id: 'build-2', type: 'build', requires: ['work'] },
          ],
        },
      ],
    });
    const live = await runtime.tickets.create({
      title: 'still running',
      phases: [{ name: 'wait', tasks: [{ id: 'blocked', type: 'needs-a-human', requires: ['human'] }] }],
    });
    for (let i = 0; i < 5; i++) await runtime.tasks.create({ id: `free-${i}`, type: 'chore', requires: ['work'] });
    await runtime.tasks.create({ id: 'doomed', type: 'doomed', requires: ['work'] });
    await runtime.tickets.wait(ticket.id);
    await runtime.tasks.wait('doomed');
    await runtime.audit.record({ actor: 'ops', action: 'ticket.created', target: ticket.id });
    const liveEvents = (await runtime.events.read({ ticketId: live.id })).length;
    expect(liveEvents).toBeGreaterThan(0);

    // Within the day nothing goes.
    await clock.advance(DAY - 20 * MINUTE);
    expect(await store.getActor(ticket.id)).toBeDefined();

    await clock.advance(30 * MINUTE);
    expect(await store.getActor(ticket.id)).toBeUndefined();
    expect(await store.listActors({ ticketId: ticket.id })).toEqual([]);
    expect(await runtime.events.read({ ticketId: ticket.id })).toEqual([]);
    for (let i = 0; i < 5; i++) expect(await store.getActor(`free-${i}`)).toBeUndefined();
    expect(await runtime.events.read({ taskId: 'free-0' })).toEqual([]);
    // Live work and all its events stay; so does the dead-lettered task (3 days).
    expect((await store.listActors({ ticketId: live.id })).length).toBe(3);
    expect((await runtime.events.read({ ticketId: live.id })).length).toBe(liveEvents);
    expect((await runtime.tasks.get('doomed')).status).toBe('dead_lettered');
    expect(await runtime.audit.read({})).toHaveLength(1);

    await clock.advance(DAY);
    expect(await runtime.audit.read({})).toEqual([]);
    await clock.advance(DAY);
    await expect(runtime.tasks.get('doomed')).rejects.toMatchObject({ code: 'E_UNKNOWN_TASK' });
    expect((await store.listActors({ ticketId: live.id })).length).toBe(3);
    // Agent events (no ticket, no task) go by age; the registration is older than a day.
    expect(await runtime.events.read({ agentId: 'worker', types: ['agent.registered'] })).toEqual([]);

    const metrics = await runtime.metrics.text();
    expect(metrics).toMatch(/troupe_retention_swept_units_total \d+/);
    expect(metrics).toMatch(/troupe_retention_swept_rows_total\{table="actors"\} (\d+)/);
    expect(Number(/troupe_retention_swept_units_total (\d+)/.exec(metrics)?.[1])).toBe(7);
    expect(metrics).toMatch(/troupe_store_rows\{table="live_actors"\} \d+/);
    expect(Number(/troupe_store_bytes (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
  });

  it('archives each unit before deleting it, and an import brings it back whole', async () => {
    const store = await start(true);
    const ticket = await runtime.tickets.create({
      title: 'archived',
      phases: [{ name: 'build', tasks: [{ id: 'arch-1', type: 'build', requires: ['work'] }] }],
    });
    await runtime.tasks.create({ id: 'arch-free', type: 'chore', requires: ['work'] });
    await runtime.tickets.wait(ticket.id);
    await runtime.tasks.wait('arch-free');
    const before = await store.readUnit({ kind: 'ticket', id: ticket.id });
    const freeBefore = await store.readUnit({ kind: 'actor', id: 'arch-free' });

    const report = await (async () => {
      await clock.advance(DAY + 10 * MINUTE);
      return runtime.retention.sweep();
    })();
    expect(report.more).toBe(false);
    expect(await store.getActor(ticket.id)).toBeUndefined();
    const files = await readdir(join(dir, 'archive'));
    expect(files).toEqual(['troupe-archive-2026-12-02.jsonl']);
    const units: UnitRecord[] = [];
    for await (const unit of readArchive(join(dir, 'archive', files[0] as string))) units.push(unit);
    expect(units.find((u) => u.id === ticket.id)).toEqual(before);
    expect(units.find((u) => u.id === 'arch-free')).toEqual(freeBefore);

    expect(await store.importUnits(units)).toMatchObject({ actors: before.actors.length + 1 });
    expect((await runtime.tickets.get(ticket.id)).status).toBe('completed');
    expect((await runtime.tasks.get('arch-free')).status).toBe('succeeded');
    expect(await runtime.events.read({ ticketId: ticket.id, order: 'oldest' })).toEqual(before.events);
  });

  it('changes policy live and sweeps on demand only when not scheduled', async () => {
    await start();
    await runtime.tasks.create({ id: 'x', type: 'chore', requires: ['work'] });
    await runtime.tasks.wait('x');
    runtime.retention.update({ finishedMs: DAY, schedule: false });
    await clock.advance(2 * DAY);
    expect((await runtime.tasks.get('x')).status).toBe('succeeded');
    const report = await runtime.retention.sweep();
    expect(report.units.units).toBe(1);
    await expect(runtime.tasks.get('x')).rejects.toMatchObject({ code: 'E_UNKNOWN_TASK' });
    expect(() => runtime.retention.update({ finishedMs: -1 })).toThrow(/finishedMs/);
    expect(runtime.retention.policy.finishedMs).toBe(DAY);
  });
});
