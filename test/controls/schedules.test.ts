import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock, type Runtime, type RuntimeOptions, type TroupeEvent } from '../../src/index.js';
import { SqliteStore } from '../../src/engine/store/sqlite-store.js';
import type { ScheduleContext } from '../../src/features/schedules/schedule-machine.js';
import { CrashableStore } from '../fixtures/durability/crashable-store.js';

const HOUR = 3_600_000;
const utc = (iso: string) => Date.parse(iso);

/** Schedules on SQLite and the simulated clock: fire times, time zones, restarts, catch-up. */
describe('schedules', () => {
  let dir: string;
  let runtimes: Runtime[];
  let events: TroupeEvent[];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-schedules-'));
    runtimes = [];
    events = [];
  });
  afterEach(async () => {
    for (const r of runtimes) await r.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function open(clock: SimulatedClock, options: RuntimeOptions = {}): Promise<Runtime> {
    const runtime = createRuntime({
      store: new SqliteStore({ path: join(dir, 'troupe.db') }),
      clock,
      logger: pino({ level: 'silent' }),
      heartbeatIntervalMs: 24 * HOUR,
      staleAfterMs: 72 * HOUR,
      ...options,
    });
    runtimes.push(runtime);
    runtime.events.subscribe({}, (e) => events.push(e));
    await runtime.start();
    return runtime;
  }

  /** Tasks created by schedules (their ids say which fire time), with the instant each was created. */
  async function runsOf(runtime: Runtime, scheduleId: string): Promise<Array<[string, string]>> {
    const tasks = await runtime.store.listActors({ kind: 'task' });
    return tasks
      .filter((t) => t.id.startsWith(`${scheduleId}@`))
      .map(
        (t) =>
          [
            t.id.slice(scheduleId.length + 1),
            new Date((t.context as { spec: { createdAt: number } }).spec.createdAt).toISOString(),
          ] as [string, string],
      )
      .sort();
  }

  it('fires at the fire times of the expression in its time zone, across both DST changes (Europe/Berlin)', async () => {
    const clock = new SimulatedClock(utc('2026-03-27T00:00:00Z'));
    const runtime = await open(clock);
    await runtime.schedules.create({
      id: 'nightly',
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      target: { task: { type: 'report' } },
    });
    await runtime.schedules.create({
      id: 'hourly',
      cron: '0 * * * *',
      timezone: 'Europe/Berlin',
      target: { task: { type: 'tick' } },
    });
    expect((await runtime.schedules.get('nightly')).nextAt).toBe(utc('2026-03-27T01:30:00Z'));
    for (let day = 0; day < 4; day++) await clock.advance(24 * HOUR);
    // 02:30 local each night: CET (+1), then on the 29th 02:30 does not exist and 03:00 CEST is taken, then CEST (+2).
    expect(await runsOf(runtime, 'nightly')).toEqual([
      ['2026-03-27T01:30:00.000Z', '2026-03-27T01:30:00.000Z'],
      ['2026-03-28T01:30:00.000Z', '2026-03-28T01:30:00.000Z'],
      ['2026-03-29T01:00:00.000Z', '2026-03-29T01:00:00.000Z'],
      ['2026-03-30T00:30:00.000Z', '2026-03-30T00:30:00.000Z'],
    ]);
    // The night the clocks go forward has 23 hours, so 23 hourly runs on the 29th (local day).
    const hourlyOn29 = (await runsOf(runtime, 'hourly')).filter(
      ([at]) => at >= '2026-03-28T23:00' && at < '2026-03-29T22:00',
    );
    expect(hourlyOn29).toHaveLength(23);
    await runtime.schedules.remove('hourly');

    // Autumn: 02:30 happens twice on 25 October; the nightly run comes once, at the first.
    await clock.advanceTo(utc('2026-10-24T00:00:00Z'));
    const before = (await runsOf(runtime, 'nightly')).length;
    for (let day = 0; day < 3; day++) await clock.advance(24 * HOUR);
    expect((await runsOf(runtime, 'nightly')).slice(before).map(([at]) => at)).toEqual([
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
    const view = await runtime.schedules.get('nightly');
    expect(view).toMatchObject({ status: 'active', missed: 0, pending: [], nextAt: utc('2026-10-27T01:30:00Z') });
    expect(view.fired).toBe((await runsOf(runtime, 'nightly')).length);
  });

  it('after a restart past fire times: catchUp once runs the latest missed one, skip runs none; both carry on', async () => {
    const clock = new SimulatedClock(utc('2026-06-01T00:10:00Z'));
    let runtime = await open(clock);
    await runtime.schedules.create({
      id: 'once',
      cron: '0 * * * *',
      catchUp: 'once',
      target: { task: { type: 'sync' } },
    });
    await runtime.schedules.create({
      id: 'skip',
      cron: '0 * * * *',
      catchUp: 'skip',
      target: { task: { type: 'sync' } },
    });
    await clock.advanceTo(utc('2026-06-01T01:30:00Z'));
    await runtime.stop();

    // Down from 01:30 to 04:30: 02:00, 03:00 and 04:00 pass with no process.
    await clock.advanceTo(utc('2026-06-01T04:30:00Z'));
    runtime = await open(clock);
    // Timers due while the process was down fire at once: on the simulated clock, at its next move.
    await clock.advance(0);
    expect(await runsOf(runtime, 'once')).toEqual([
      ['2026-06-01T01:00:00.000Z', '2026-06-01T01:00:00.000Z'],
      ['2026-06-01T04:00:00.000Z', '2026-06-01T04:30:00.000Z'],
    ]);
    expect(await runsOf(runtime, 'skip')).toEqual([['2026-06-01T01:00:00.000Z', '2026-06-01T01:00:00.000Z']]);
    const missed = events.filter((e) => e.type === 'schedule.missed').map((e) => e.data);
    expect(missed).toEqual([
      expect.objectContaining({
        scheduleId: 'once',
        missed: 2,
        from: utc('2026-06-01T02:00:00Z'),
        to: utc('2026-06-01T03:00:00Z'),
        catchUp: 'once',
      }),
      expect.objectContaining({
        scheduleId: 'skip',
        missed: 3,
        from: utc('2026-06-01T02:00:00Z'),
        to: utc('2026-06-01T04:00:00Z'),
        catchUp: 'skip',
      }),
    ]);

    await clock.advanceTo(utc('2026-06-01T05:00:00Z'));
    expect((await runsOf(runtime, 'once')).map(([at]) => at)).toEqual([
      '2026-06-01T01:00:00.000Z',
      '2026-06-01T04:00:00.000Z',
      '2026-06-01T05:00:00.000Z',
    ]);
    expect((await runsOf(runtime, 'skip')).map(([at]) => at)).toEqual([
      '2026-06-01T01:00:00.000Z',
      '2026-06-01T05:00:00.000Z',
    ]);
    expect(await runtime.schedules.get('skip')).toMatchObject({ fired: 2, missed: 3 });
    expect(await runtime.schedules.get('once')).toMatchObject({ fired: 3, missed: 2 });
  });

  it('a fire the process died after (its run decided, not created) is created once on the next start; two restarts double nothing', async () => {
    const clock = new SimulatedClock(utc('2026-06-01T00:59:00Z'));
    const path = join(dir, 'troupe.db');
    // The commit that creates the run fails, as if the process died between the fire and the launch.
    const inner = new SqliteStore({ path });
    const crashing = new CrashableStore(inner, (batch) =>
      batch.actors.some((a) => a.kind === 'schedule' && (a.context as ScheduleContext).pending.length > 0),
    );
    const first = createRuntime({ store: crashing, clock, logger: pino({ level: 'silent' }) });
    await first.schedules.create({ id: 'job', cron: '0 * * * *', target: { task: { type: 'sync' } } });
    await clock.advanceTo(utc('2026-06-01T01:00:30Z'));
    expect(crashing.crashed).toBe(true);
    await first.stop();
    await inner.close();

    // Restart 1 (same minute): the pending run is launched, the 01:00 fire is not made again.
    let runtime = await open(clock);
    await clock.advance(0);
    expect((await runsOf(runtime, 'job')).map(([at]) => at)).toEqual(['2026-06-01T01:00:00.000Z']);
    expect((await runtime.schedules.get('job')).pending).toEqual([]);
    await runtime.stop();
    // Restart 2: nothing new until 02:00, then exactly one.
    runtime = await open(clock);
    await clock.advance(0);
    expect((await runsOf(runtime, 'job')).map(([at]) => at)).toEqual(['2026-06-01T01:00:00.000Z']);
    await clock.advanceTo(utc('2026-06-01T02:00:00Z'));
    expect((await runsOf(runtime, 'job')).map(([at]) => at)).toEqual([
      '2026-06-01T01:00:00.000Z',
      '2026-06-01T02:00:00.000Z',
    ]);
    expect(events.filter((e) => e.type === 'task.created').map((e) => e.taskId)).toEqual([
      'job@2026-06-01T01:00:00.000Z',
      'job@2026-06-01T02:00:00.000Z',
    ]);
    expect(await runtime.schedules.get('job')).toMatchObject({ fired: 2, missed: 0, pending: [] });
  });

  it('creates tickets and pattern runs; lists, removes, and refuses bad expressions, zones and targets', async () => {
    const clock = new SimulatedClock(utc('2026-06-01T00:00:00Z'));
    const runtime = await open(clock);
    expect(
      runtime.patterns.add(`name: hello\nsteps:\n  - id: greet\n    task: { type: greet }\n`, 'hello.yaml').problems,
    ).toEqual([]);
    await runtime.schedules.create({
      id: 'tickets',
      cron: '*/30 * * * *',
      target: { ticket: { title: 'triage', phases: ['triage'] } },
    });
    await runtime.schedules.create({ id: 'runs', cron: '0 * * * *', target: { pattern: 'hello' } });
    await clock.advance(HOUR);
    expect((await runtime.tickets.list()).map((t) => t.id).sort()).toEqual([
      'tickets@2026-06-01T00:30:00.000Z',
      'tickets@2026-06-01T01:00:00.000Z',
    ]);
    expect((await runtime.patterns.get('runs@2026-06-01T01:00:00.000Z')).pattern).toBe('hello');
    expect((await runtime.schedules.list()).map((s) => [s.id, s.fired])).toEqual([
      ['runs', 1],
      ['tickets', 2],
    ]);

    expect(await runtime.schedules.remove('tickets')).toMatchObject({ status: 'removed' });
    await clock.advance(HOUR);
    expect((await runtime.tickets.list()).length).toBe(2);
    expect((await runtime.schedules.list()).map((s) => s.id)).toEqual(['runs']);

    await expect(
      runtime.schedules.create({ cron: '61 * * * *', target: { task: { type: 't' } } }),
    ).rejects.toMatchObject({ code: 'E_INVALID_INPUT' });
    await expect(
      runtime.schedules.create({ cron: '0 * * * *', timezone: 'Mars/Base', target: { task: { type: 't' } } }),
    ).rejects.toMatchObject({ code: 'E_INVALID_INPUT' });
    await expect(runtime.schedules.create({ cron: '0 * * * *', target: { pattern: 'nope' } })).rejects.toMatchObject({
      code: 'E_INVALID_INPUT',
    });
    await expect(
      runtime.schedules.create({ cron: '0 * * * *', target: { task: { type: 't', id: 'fixed' } } as never }),
    ).rejects.toMatchObject({ code: 'E_INVALID_INPUT' });
    await expect(runtime.schedules.get('never')).rejects.toMatchObject({ code: 'E_UNKNOWN_SCHEDULE' });
    expect((await runtime.schedules.list()).map((s) => s.id)).toEqual(['runs']);
  });
});
