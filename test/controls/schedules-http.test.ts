import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSchedule } from '../../src/edge/cli/commands/schedule.js';
import { ApiError, createClient } from '../../src/edge/client/index.js';
import { call, CLIENT_TOKEN, OBSERVER_TOKEN, startServe, type ServeProcess } from '../support/serve-process.js';
import { runInProcess } from '../support/cli-in-process.js';

/**
 * Schedules over the HTTP API, the client and `troupe schedule`, against a real `troupe serve`
 * process with real tokens: clients create and remove, observers only read, bad input is refused
 * with its documented code and changes nothing, every write is audited.
 */
let serve: ServeProcess;
beforeAll(async () => {
  serve = await startServe();
}, 30_000);
afterAll(async () => {
  expect(await serve.stop()).toBe(0);
  await serve.dispose();
});

const api = (method: string, path: string, options: Parameters<typeof call>[3] = {}) =>
  call(serve.url, method, path, options);
const ids = async () => ((await api('GET', '/v1/schedules')).body.items as Array<{ id: string }>).map((s) => s.id);

/** Polls the server (a real process on the system clock: nothing to move). */
async function until<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs one `troupe` command in this process: what it printed and its exit status. */
const troupe = (...args: string[]) => runInProcess([registerSchedule], args);

describe('/v1/schedules', () => {
  it('a client creates a schedule that fires, lists and reads it, removes it; each write is audited', async () => {
    const created = await api('POST', '/v1/schedules', {
      body: {
        id: 'every-second',
        cron: '* * * * * *',
        timezone: 'Europe/Berlin',
        catchUp: 'skip',
        target: { task: { type: 'ping', input: { from: 'schedule' } } },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      id: 'every-second',
      cron: '* * * * * *',
      timezone: 'Europe/Berlin',
      catchUp: 'skip',
      graceMs: 60_000,
      status: 'active',
      fired: 0,
    });
    expect(created.body.nextAt).toBeGreaterThan(created.body.createdAt);
    expect(await ids()).toContain('every-second');
    // It fires on the server's clock: a task `<schedule>@<fire time>` per fire.
    const tasks = await until(
      async () => (await api('GET', '/v1/tasks?type=ping')).body.items as Array<{ id: string; input: unknown }>,
      (items) => items.length > 0,
      'the schedule to create a task',
    );
    expect(tasks[0]!.id).toMatch(/^every-second@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    expect(tasks[0]!.input).toEqual({ from: 'schedule' });
    expect((await api('GET', '/v1/schedules/every-second', { token: OBSERVER_TOKEN })).body.fired).toBeGreaterThan(0);

    const removed = await api('DELETE', '/v1/schedules/every-second');
    expect([removed.status, removed.body.status]).toEqual([200, 'removed']);
    expect(await ids()).not.toContain('every-second');
    // Read back after removal: removed, and no fire after it gets a run.
    const fired = removed.body.fired as number;
    expect((await api('GET', '/v1/schedules/every-second')).body).toMatchObject({ status: 'removed', fired });
    // Removing again answers it as it is.
    expect((await api('DELETE', '/v1/schedules/every-second')).body).toMatchObject({ status: 'removed', fired });

    const audit = (await api('GET', '/v1/audit?target=every-second&after=0')).body.entries as Array<{
      action: string;
      target: string;
    }>;
    expect(audit.map((e) => e.action)).toEqual(['schedule.created', 'schedule.removed', 'schedule.removed']);
  });

  it('an observer reads schedules but may not create or remove one: 403, nothing changes', async () => {
    const nightly = await api('POST', '/v1/schedules', {
      body: {
        id: 'nightly',
        cron: '0 2 * * *',
        target: { pattern: 'fork_join', inputs: { branches: ['lint', 'unit_tests'] } },
      },
    });
    expect(nightly.status, JSON.stringify(nightly.body)).toBe(201);
    const before = (await api('GET', '/v1/schedules')).body;
    const create = await api('POST', '/v1/schedules', {
      token: OBSERVER_TOKEN,
      body: { id: 'sneaky', cron: '0 * * * *', target: { task: { type: 'x' } } },
    });
    expect([create.status, create.body.error.code]).toEqual([403, 'E_FORBIDDEN']);
    const remove = await api('DELETE', '/v1/schedules/nightly', { token: OBSERVER_TOKEN });
    expect([remove.status, remove.body.error.code]).toEqual([403, 'E_FORBIDDEN']);
    expect((await api('GET', '/v1/schedules', { token: OBSERVER_TOKEN })).body).toEqual(before);
    expect((await api('GET', '/v1/schedules/sneaky')).status).toBe(404);
    expect(
      (await api('GET', '/v1/audit?target=nightly')).body.entries.map((e: { action: string }) => e.action),
    ).toEqual(['schedule.created']);
  });

  it('a bad cron expression, time zone or target is 400 E_INVALID_INPUT; a taken id 409; an unknown one 404; nothing changes', async () => {
    const before = (await api('GET', '/v1/schedules')).body;
    const refusals: Array<[unknown, number, string]> = [
      [{ id: 'bad', cron: '61 * * * *', target: { task: { type: 'x' } } }, 400, 'E_INVALID_INPUT'],
      [{ id: 'bad', cron: 'every day', target: { task: { type: 'x' } } }, 400, 'E_INVALID_INPUT'],
      [
        { id: 'bad', cron: '0 2 * * *', timezone: 'Mars/Olympus', target: { task: { type: 'x' } } },
        400,
        'E_INVALID_INPUT',
      ],
      [{ id: 'bad', cron: '0 2 * * *', target: { pattern: 'no_such_pattern' } }, 400, 'E_INVALID_INPUT'],
      [{ id: 'bad', cron: '0 2 * * *', target: { task: { requires: ['x'] } } }, 400, 'E_INVALID_INPUT'],
      [{ id: 'bad', cron: '0 2 * * *', target: { job: { type: 'x' } } }, 400, 'E_INVALID_INPUT'],
      [{ id: 'bad', cron: '0 2 * * *', catchUp: 'always', target: { task: { type: 'x' } } }, 400, 'E_INVALID_INPUT'],
      [{ id: 'bad/slash', cron: '0 2 * * *', target: { task: { type: 'x' } } }, 400, 'E_INVALID_INPUT'],
      [{ id: 'nightly', cron: '0 3 * * *', target: { task: { type: 'x' } } }, 409, 'E_DUPLICATE_ID'],
    ];
    for (const [body, status, code] of refusals) {
      const answer = await api('POST', '/v1/schedules', { body });
      expect([answer.status, answer.body.error?.code], JSON.stringify(body)).toEqual([status, code]);
    }
    expect((await api('GET', '/v1/schedules')).body).toEqual(before);
    expect((await api('GET', '/v1/schedules/bad')).body.error.code).toBe('E_UNKNOWN_SCHEDULE');
    const unknown = await api('DELETE', '/v1/schedules/never-made');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'E_UNKNOWN_SCHEDULE']);
    expect(
      (await api('GET', '/v1/audit?action=schedule.created')).body.entries.map((e: { target: string }) => e.target),
    ).not.toContain('bad');
  });

  it('the OpenAPI document has the routes; the client creates, lists, reads and removes', async () => {
    const paths = (await api('GET', '/v1/openapi.json', { token: null })).body.paths;
    expect(Object.keys(paths['/v1/schedules']).sort()).toEqual(['get', 'post']);
    expect(Object.keys(paths['/v1/schedules/{id}']).sort()).toEqual(['delete', 'get']);

    const client = createClient({ url: serve.url, token: CLIENT_TOKEN });
    const made = await client.schedules.create({
      id: 'weekly',
      cron: '0 9 * * 1',
      timezone: 'America/New_York',
      target: { ticket: { title: 'Weekly review', phases: ['review'] } },
    });
    expect(made).toMatchObject({ id: 'weekly', status: 'active', timezone: 'America/New_York' });
    expect((await client.schedules.list()).map((s) => s.id)).toEqual(['nightly', 'weekly']);
    expect((await client.schedules.get('weekly')).nextAt).toBe(made.nextAt);
    expect((await client.schedules.remove('weekly')).status).toBe('removed');
    const observer = createClient({ url: serve.url, token: OBSERVER_TOKEN });
    await expect(observer.schedules.remove('nightly')).rejects.toSatisfy(
      (e) => e instanceof ApiError && e.code === 'E_FORBIDDEN' && e.status === 403,
    );
  });
});

describe('troupe schedule', () => {
  const as = (token: string) => ['--url', serve.url, '--token', token];

  it('adds, lists, shows and removes schedules of a running server', async () => {
    const added = await troupe(
      'schedule',
      'add',
      ...as(CLIENT_TOKEN),
      '--id',
      'cli-report',
      '--cron',
      '30 6 * * 1-5',
      '--tz',
      'Europe/Berlin',
      '--catch-up',
      'skip',
      '--task',
      '{"type":"report","requires":["writer"]}',
    );
    expect(added.status, added.err).toBe(0);
    expect(added.out).toMatch(/^ID\s+STATUS\s+CRON/);
    expect(added.out).toMatch(/cli-report\s+active\s+30 6 \* \* 1-5\s+Europe\/Berlin/);
    expect((await api('GET', '/v1/schedules/cli-report')).body).toMatchObject({
      catchUp: 'skip',
      target: { task: { type: 'report', requires: ['writer'] } },
    });

    const listed = await troupe('schedule', 'ls', ...as(OBSERVER_TOKEN), '--json');
    expect(listed.status, listed.err).toBe(0);
    expect((JSON.parse(listed.out) as Array<{ id: string }>).map((s) => s.id)).toEqual(await ids());
    const shown = await troupe('schedule', 'show', 'cli-report', ...as(OBSERVER_TOKEN), '--json');
    expect(JSON.parse(shown.out)).toEqual((await api('GET', '/v1/schedules/cli-report')).body);

    const removed = await troupe('schedule', 'rm', 'cli-report', ...as(CLIENT_TOKEN));
    expect(removed.status, removed.err).toBe(0);
    expect(removed.out).toMatch(/cli-report\s+removed/);
    expect(await ids()).not.toContain('cli-report');
  });

  it('says what was refused and exits non-zero; nothing changes', async () => {
    const before = await ids();
    const observer = await troupe(
      'schedule',
      'add',
      ...as(OBSERVER_TOKEN),
      '--cron',
      '0 * * * *',
      '--task',
      '{"type":"x"}',
    );
    expect(observer.status).toBe(1);
    expect(observer.err).toContain('E_FORBIDDEN');
    const badCron = await troupe(
      'schedule',
      'add',
      ...as(CLIENT_TOKEN),
      '--cron',
      '0 25 * * *',
      '--task',
      '{"type":"x"}',
    );
    expect(badCron.status).toBe(1);
    expect(badCron.err).toMatch(/E_INVALID_INPUT/);
    const noTarget = await troupe('schedule', 'add', ...as(CLIENT_TOKEN), '--cron', '0 2 * * *');
    expect(noTarget.status).toBe(2);
    expect(noTarget.err).toContain('give exactly one of --task');
    const notJson = await troupe('schedule', 'add', ...as(CLIENT_TOKEN), '--cron', '0 2 * * *', '--task', '{type');
    expect(notJson.status).toBe(2);
    expect(notJson.err).toContain('--task: not JSON');
    const unknown = await troupe('schedule', 'rm', 'never-made', ...as(CLIENT_TOKEN));
    expect(unknown.status).toBe(1);
    expect(unknown.err).toContain('E_UNKNOWN_SCHEDULE');
    expect(await ids()).toEqual(before);
  });
});
