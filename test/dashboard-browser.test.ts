import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NonRetryableError } from '../src/index.js';
import { connectAgent, type RemoteAgent } from '../src/edge/sdk/index.js';
import {
  AGENT_TOKEN,
  call,
  CLIENT_TOKEN,
  OBSERVER_TOKEN,
  ROOT,
  startServe,
  type ServeProcess,
} from './support/serve-process.js';

/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core) against a real
 * `troupe serve` process with real work: what the pages show is checked against the API, the
 * statechart's lit state against the stored actor, and cancel is clicked and seen to happen.
 * Screenshots of every view go to test-results/dashboard/.
 */
const SHOTS = join(ROOT, 'test-results', 'dashboard');
const CHROMIUM = process.env.TROUPE_CHROMIUM ?? '/usr/bin/chromium';

let serve: ServeProcess;
let browser: Browser;
let page: Page;
const agents: RemoteAgent[] = [];
const refusedOnce = new Set<string>();
// The `type_check` branch of the pattern run waits for the test to let it finish.
let finishTypeCheck!: () => void;
const typeCheckHeld = new Promise<void>((resolve) => (finishTypeCheck = resolve));
const api = (method: string, path: string, body?: unknown) =>
  call(serve.url, method, path, body === undefined ? {} : { body });

/** Polls the API until `check` holds (real processes: no clock to move). */
async function until<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function signIn(token: string): Promise<void> {
  await page.goto(`${serve.url}/ui`);
  await page.locator('input[name=token]').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('[data-testid=role]').waitFor();
}

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  console.log(`dashboard screenshots: ${SHOTS}`);
  serve = await startServe();
  const base = { url: serve.wsUrl, token: AGENT_TOKEN };
  agents.push(
    await connectAgent({
      ...base,
      id: 'worker',
      capabilities: ['work', 'review'],
      capacity: 4,
      handler: async (task, ctx) => {
        ctx.artifact('notes', `did ${task.type}`);
        ctx.quality(0.9);
        return { done: task.type };
      },
    }),
    await connectAgent({
      ...base,
      id: 'slow',
      capabilities: ['slow'],
      handler: (_task, ctx) =>
        new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped')))),
    }),
    await connectAgent({
      ...base,
      id: 'ci',
      capabilities: ['ci'],
      capacity: 4,
      handler: async (task) => {
        const check = (task.input as { check?: string } | null)?.check;
        if (check === 'type_check') await typeCheckHeld;
        return { passed: check ?? task.type };
      },
    }),
    // Fails each task the first time it sees it, for good: a retry from the dashboard then succeeds.
    await connectAgent({
      ...base,
      id: 'broken',
      capabilities: ['broken'],
      handler: (task) => {
        if (!refusedOnce.has(task.id)) {
          refusedOnce.add(task.id);
          throw new NonRetryableError('the provider said no');
        }
        return { done: task.type, retried: true };
      },
    }),
  );
  const ticket = await api('POST', '/v1/tickets', {
    id: 'roles',
    title: 'Add user roles',
    phases: [
      { name: 'design', tasks: [{ id: 'spec', type: 'write-spec', requires: ['work'] }] },
      {
        name: 'build',
        gate: { requiredArtifacts: ['notes'], minQuality: 0.8 },
        tasks: [
          { id: 'code', type: 'implement', requires: ['work'] },
          { id: 'tests', type: 'test', requires: ['work'], dependsOn: ['code'] },
        ],
      },
    ],
  });
  expect(ticket.status).toBe(201);
  expect(
    (
      await api('POST', '/v1/tasks', {
        tasks: [
          { id: 'long', type: 'crawl', requires: ['slow'] },
          { id: 'bad', type: 'call-provider', requires: ['broken'] },
        ],
      })
    ).status,
  ).toBe(201);
  await until(
    () => api('GET', '/v1/tickets/roles'),
    (r) => r.body.status === 'completed',
    'the ticket to complete',
  );
  await until(
    () => api('GET', '/v1/tasks/long'),
    (r) => r.body.status === 'running',
    'the long task to run',
  );
  await until(
    () => api('GET', '/v1/tasks/bad'),
    (r) => r.body.status === 'dead_lettered',
    'the bad task to be dead-lettered',
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  for (const a of agents) await a.close();
  await serve?.dispose();
});

describe('the dashboard', () => {
  it('refuses a wrong token and says so', async () => {
    await page.goto(`${serve.url}/ui`);
    await page.locator('input[name=token]').fill('not-a-token-of-this-server');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/token/);
  });

  it('overview: task counts, tickets and agents as the API has them', async () => {
    await signIn(OBSERVER_TOKEN);
    await expect(page.locator('[data-testid=role]').textContent()).resolves.toBe('observer');
    const tasks = (await api('GET', '/v1/tasks?limit=1000')).body.items as Array<{ status: string }>;
    const count = (s: string) => tasks.filter((t) => t.status === s).length;
    const shown = async (label: string) =>
      Number(await page.locator(`[data-testid=task-counts] [data-status="${label}"] .n`).textContent());
    expect(await shown('succeeded')).toBe(count('succeeded'));
    expect(await shown('running')).toBe(1);
    expect(await shown('dead-lettered')).toBe(1);
    expect(count('succeeded')).toBeGreaterThanOrEqual(3);
    expect(await page.locator('[data-testid=tickets] tr[data-id=roles] .badge').textContent()).toBe('completed');
    const agentRows = await page
      .locator('[data-testid=agents] tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    expect(agentRows.sort()).toEqual(['broken', 'ci', 'slow', 'worker']);
    expect(await page.locator('[data-testid=agents] tr[data-id=slow]').textContent()).toContain('1/1');
    await shot('overview-light');
    await page.getByRole('button', { name: /switch to dark theme/ }).click();
    // The theme is applied in an effect after the render: wait for it rather than read at once.
    await page.locator('html[data-theme=dark]').waitFor({ state: 'attached', timeout: 5_000 });
    await shot('overview-dark');
    await page.getByRole('button', { name: /switch to light theme/ }).click();
  });

  it('ticket: phases with gates and verdicts, tasks as a dependency graph coloured by state', async () => {
    // By keyboard: focus the ticket's link and follow it.
    await page.locator('[data-testid=tickets] a[href="#/tickets/roles"]').focus();
    await page.keyboard.press('Enter');
    await page.locator('[data-testid=ticket-page]').waitFor();
    const phases = await page
      .locator('[data-testid=phases] > li')
      .evaluateAll((items) => items.map((i) => [i.getAttribute('data-phase'), i.getAttribute('data-status')]));
    expect(phases).toEqual([
      ['design', 'passed'],
      ['build', 'passed'],
    ]);
    expect(await page.locator('[data-phase=build]').textContent()).toContain('requiredArtifacts');
    const ticketTasks = (await api('GET', '/v1/tasks?ticket=roles&limit=1000')).body.items as Array<{
      id: string;
      status: string;
    }>;
    const nodes = await page
      .locator('[data-testid=task-graph] g.node')
      .evaluateAll((gs) => gs.map((g) => [g.getAttribute('data-id'), g.getAttribute('class')]));
    expect(nodes.map(([id]) => id).sort()).toEqual(ticketTasks.map((t) => t.id).sort());
    for (const [id, cls] of nodes) expect(cls).toContain(`s-${ticketTasks.find((t) => t.id === id)?.status}`);
    // The dependency code -> tests is an edge of the graph.
    expect(await page.locator('[data-testid=task-graph] g.edge').count()).toBeGreaterThanOrEqual(1);
    await shot('ticket');
  });

  it('task: its statechart drawn from the machine with the stored state lit, attempts and result', async () => {
    await page.goto(`${serve.url}/ui#/tasks/bad`);
    await page.locator('[data-testid=task-page][data-id=bad] [data-testid=statechart]').waitFor();
    const stored = (await api('GET', '/v1/actors/task/bad')).body;
    expect(stored.state).toBe('dead_lettered');
    const lit = await page
      .locator('[data-testid=statechart] g.node.current')
      .evaluateAll((gs) => gs.map((g) => g.getAttribute('data-id')));
    expect(lit).toEqual(stored.active.slice(-1));
    // Every state of the task machine is drawn.
    expect(await page.locator('[data-testid=statechart] g.node').count()).toBe(
      stored.chart.nodes.filter((n: { type: string }) => n.type !== 'compound').length,
    );
    expect(await page.locator('[data-testid=attempts]').textContent()).toContain('the provider said no');
    await shot('task-dead-lettered');
    await page.goto(`${serve.url}/ui#/tasks/code`);
    await page.locator('[data-testid=task-page][data-id=code]').waitFor();
    expect(await page.locator('[data-testid=result]').textContent()).toContain('implement');
    await shot('task-succeeded');
  });

  it('phase: any actor drawn as its statechart', async () => {
    const actors = (await api('GET', '/v1/actors?ticket=roles&kind=phase')).body.items as Array<{
      id: string;
      state: string;
    }>;
    expect(actors).toHaveLength(2);
    await page.goto(`${serve.url}/ui#/actors/phase/${encodeURIComponent(actors[0]!.id)}`);
    await page.locator('[data-testid=statechart]').waitFor();
    expect(await page.locator('[data-testid=current-state]').textContent()).toBe(actors[0]!.state);
    expect(await page.locator('[data-testid=statechart] g.node.current').count()).toBeGreaterThanOrEqual(1);
    await shot('phase-statechart');
  });

  it('an observer sees no actions; a client cancels a running task and the page follows', async () => {
    await page.goto(`${serve.url}/ui#/tasks/long`);
    await page.locator('[data-testid=task-page][data-id=long]').waitFor();
    expect(await page.getByRole('button', { name: 'Cancel task' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(CLIENT_TOKEN);
    await page.goto(`${serve.url}/ui#/tasks/long`);
    await page.getByRole('button', { name: 'Cancel task' }).click();
    await until(
      () => api('GET', '/v1/tasks/long'),
      (r) => r.body.status === 'cancelled',
      'the task to be cancelled',
    );
    await page.locator('[data-testid=task-page][data-status=cancelled]').waitFor({ timeout: 10_000 });
    await shot('task-cancelled');
  });

  it('a dead-lettered task: an observer has no retry (and its redrive is refused); a client retries it by keyboard and it runs again', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(OBSERVER_TOKEN);
    await page.goto(`${serve.url}/ui#/tasks/bad`);
    await page.locator('[data-testid=task-page][data-id=bad][data-status=dead_lettered]').waitFor();
    expect(await page.getByRole('button', { name: 'Retry task' }).count()).toBe(0);
    const refused = await call(serve.url, 'POST', '/v1/dead-letters/redrive', {
      token: OBSERVER_TOKEN,
      body: { ids: ['bad'] },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('E_FORBIDDEN');
    expect((await api('GET', '/v1/tasks/bad')).body).toMatchObject({
      status: 'dead_lettered',
      attempts: [expect.anything()],
    });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(CLIENT_TOKEN);
    await page.goto(`${serve.url}/ui#/tasks/bad`);
    await page.locator('[data-testid=task-page][data-id=bad][data-status=dead_lettered]').waitFor();
    await shot('task-dead-lettered-client');
    await page.getByRole('button', { name: 'Retry task' }).focus();
    await page.keyboard.press('Enter');
    // The store has it run again: a second attempt, by the agent, that succeeded.
    const done = await until(
      () => api('GET', '/v1/tasks/bad'),
      (r) => r.body.status === 'succeeded',
      'the retried task to succeed',
    );
    expect(done.body.attempts.map((a: { agentId: string }) => a.agentId)).toEqual(['broken', 'broken']);
    expect(done.body.result).toEqual({ done: 'call-provider', retried: true });
    expect((await api('GET', '/v1/dead-letters')).body.items.map((d: { id: string }) => d.id)).not.toContain('bad');
    await page.locator('[data-testid=task-page][data-id=bad][data-status=succeeded]').waitFor({ timeout: 10_000 });
    expect(await page.locator('[data-testid=attempts] tbody tr').count()).toBe(2);
    expect(await page.locator('[data-testid=current-state]').textContent()).toBe('succeeded');
    await shot('task-retried');
  });
});

describe('a pattern run and its coordinators', () => {
  const RUN = 'ci-run';
  const SYNC = `${RUN}/checkpoint/sync`;
  const JOIN = `${RUN}/join/join`;
  type Task = { id: string; status: string; attempts: unknown[] };
  const runTasks = async () =>
    ((await api('GET', '/v1/tasks?ticket=checks&limit=1000')).body.items as Task[]).filter((t) =>
      t.id.startsWith(`${RUN}/`),
    );
  /** The ids of the statechart's lit states on the page. */
  const litStates = () =>
    page
      .locator('[data-testid=statechart] g.node.current')
      .evaluateAll((gs) => gs.map((g) => g.getAttribute('data-id')));
  /** Each task row of a table on the page as [id, status]. */
  const rows = (testId: string) =>
    page
      .locator(`[data-testid=${testId}] tbody tr`)
      .evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-id'), tr.getAttribute('data-status')]));
  const settled = new Set(['succeeded', 'dead_lettered', 'cancelled', 'skipped']);

  beforeAll(async () => {
    const ticket = await api('POST', '/v1/tickets', {
      id: 'checks',
      title: 'Check the release',
      // The phase's own task is held with the type_check branch, so the phase cannot pass before
      // the run has joined it (a run applied to a phase that has just passed goes on outside it).
      phases: [
        {
          name: 'verify',
          tasks: [{ id: 'plan-checks', type: 'plan', requires: ['ci'], input: { check: 'type_check' } }],
        },
      ],
    });
    expect(ticket.status).toBe(201);
    const run = await api('POST', '/v1/runs', {
      pattern: 'fork_join',
      runId: RUN,
      ticketId: 'checks',
      phase: 'verify',
    });
    expect(run.status).toBe(201);
    // Two branches done, type_check held running: the sync point waits for it.
    await until(
      runTasks,
      (tasks) =>
        tasks.filter((t) => t.status === 'succeeded').length === 2 &&
        tasks.some((t) => t.id === `${RUN}/fork/2` && t.status === 'running'),
      'two branches to succeed and the third to run',
    );
    await until(
      () => api('GET', `/v1/actors/coordination.join/${encodeURIComponent(SYNC)}`),
      (r) => r.status === 200,
      'the sync point',
    );
  }, 60_000);

  it('run page, reached by keyboard from the overview: the lit state, the path, the tasks and the coordinators as stored', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(OBSERVER_TOKEN);
    await page.goto(`${serve.url}/ui#/`);
    const link = page.locator(`[data-testid=runs] a[href="#/runs/${RUN}"]`);
    await link.focus();
    await page.keyboard.press('Enter');
    await page.locator(`[data-testid=run-page][data-id="${RUN}"]`).waitFor();
    const view = (await api('GET', `/v1/runs/${RUN}`)).body;
    expect(view.status).toBe('running');
    const stored = (await api('GET', `/v1/actors/${encodeURIComponent(view.kind)}/${RUN}`)).body;
    expect(stored.chart).not.toBeNull();
    await page.locator(`[data-testid=statechart][data-state="${stored.state}"]`).waitFor();
    expect(await litStates()).toEqual(stored.active.slice(-1));
    expect(await page.locator('[data-testid=current-state]').textContent()).toBe(view.state);
    expect(await page.locator('[data-testid=run-status]').textContent()).toBe('running');
    // The path: the steps the run's events say it started, in order, each with its last outcome.
    const events = (await api('GET', '/v1/events?ticket=checks&types=pattern.step.*&limit=1000')).body.events as Array<{
      type: string;
      data: { runId: string; step: string };
    }>;
    const steps = [...new Set(events.filter((e) => e.data.runId === RUN).map((e) => e.data.step))];
    expect(steps.slice(0, 2)).toEqual(['fork', 'checkpoint']);
    const path = await page
      .locator('[data-testid=path] > li')
      .evaluateAll((lis) => lis.map((li) => [li.getAttribute('data-step'), li.getAttribute('data-outcome')]));
    expect(path.map(([step]) => step)).toEqual(steps);
    expect(path.find(([step]) => step === 'checkpoint')?.[1]).toBe('started');
    // Its tasks with their statuses as the store has them.
    const tasks = await runTasks();
    expect((await rows('run-tasks')).sort()).toEqual(tasks.map((t) => [t.id, t.status]).sort());
    expect(
      await page
        .locator('[data-testid=run-coordinators] li')
        .evaluateAll((l) => l.map((li) => li.getAttribute('data-id'))),
    ).toEqual([SYNC]);
    await shot('run-running');
  });

  it('coordinator page, reached by keyboard from the run, and its ticket: the lit state as stored and what it waits for; both follow when the branch finishes', async () => {
    await page.locator(`[data-testid=run-coordinators] a`).first().focus();
    await page.keyboard.press('Enter');
    await page.locator(`[data-testid=coordinator-page][data-id="${SYNC}"]`).waitFor();
    const stored = (await api('GET', `/v1/actors/coordination.join/${encodeURIComponent(SYNC)}`)).body;
    expect(stored.view).toMatchObject({ kind: 'sync', status: 'waiting' });
    expect(await litStates()).toEqual(stored.active.slice(-1));
    expect(await page.locator('[data-testid=coordinator-status]').textContent()).toBe('waiting');
    // What it waits for: its sources the store has not settled; every source with its status.
    const tasks = await runTasks();
    const statusOf = (id: string) => tasks.find((t) => t.id === id)?.status;
    const open = (stored.view.sources as string[]).filter((id) => !settled.has(statusOf(id) ?? ''));
    expect(open).toEqual([`${RUN}/fork/2`]);
    expect(await page.locator('[data-testid=waiting-for]').getAttribute('data-open')).toBe(open.join(' '));
    expect(await page.locator('[data-testid=waiting-for]').textContent()).toContain('Waiting for 1 of 3');
    expect(await rows('coordinator-tasks')).toEqual((stored.view.sources as string[]).map((id) => [id, statusOf(id)]));
    expect(
      await page.locator('[data-testid=events] li').evaluateAll((l) => l.map((li) => li.getAttribute('data-type'))),
    ).toContain('coordination.sync.created');
    await shot('coordinator-waiting');

    // Its ticket, by keyboard: the run and the coordinators with what they wait for, as stored.
    await page.locator('[data-testid=coordinator-page] a[href="#/tickets/checks"]').focus();
    await page.keyboard.press('Enter');
    await page.locator('[data-testid=ticket-page] [data-testid=coordinators]').waitFor();
    const actors = (await api('GET', '/v1/actors?ticket=checks')).body.items as Array<{
      kind: string;
      id: string;
      state: string;
    }>;
    const coordinatorRows = await page
      .locator('[data-testid=coordinators] tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [
          tr.getAttribute('data-id'),
          tr.getAttribute('data-state'),
          tr.querySelector('[data-testid=coordinator-waiting]')?.getAttribute('data-open'),
        ]),
      );
    expect(coordinatorRows).toEqual(
      actors.filter((a) => a.kind.startsWith('coordination.')).map((a) => [a.id, a.state, `${RUN}/fork/2`]),
    );
    expect(
      await page
        .locator('[data-testid=ticket-runs] li')
        .evaluateAll((lis) => lis.map((li) => [li.getAttribute('data-id'), li.getAttribute('data-status')])),
    ).toEqual([[RUN, 'running']]);
    await shot('ticket-with-run');
    await page.goBack();
    await page.locator(`[data-testid=coordinator-page][data-id="${SYNC}"]`).waitFor();

    // The held branch finishes: the page follows the sync point to ready, and the run completes.
    finishTypeCheck();
    await until(
      () => api('GET', `/v1/runs/${RUN}`),
      (r) => r.body.status === 'completed',
      'the run to complete',
    );
    await page.locator(`[data-testid=coordinator-page][data-status=ready]`).waitFor({ timeout: 10_000 });
    const ready = (await api('GET', `/v1/actors/coordination.join/${encodeURIComponent(SYNC)}`)).body;
    expect(await litStates()).toEqual(ready.active.slice(-1));
    expect(await page.locator('[data-testid=current-state]').textContent()).toBe(ready.state);
    await shot('coordinator-ready');
  });

  it('the join and the completed run: result, lit final state, every step completed', async () => {
    await page.goto(`${serve.url}/ui#/actors/coordination.join/${encodeURIComponent(JOIN)}`);
    await page.locator(`[data-testid=coordinator-page][data-id="${JOIN}"][data-status=ready]`).waitFor();
    const join = (await api('GET', `/v1/actors/coordination.join/${encodeURIComponent(JOIN)}`)).body;
    // k-of-n with k = 2: ready as soon as two branches had succeeded.
    expect(join.view).toMatchObject({ kind: 'join', status: 'ready', needed: 2 });
    expect(await page.locator('[data-testid=waiting-for]').textContent()).toContain(
      `needs 2, ${join.view.succeeded} succeeded, ${join.view.failed} failed`,
    );
    expect(await litStates()).toEqual(join.active.slice(-1));
    expect(JSON.parse((await page.locator('[data-testid=coordinator-result]').textContent()) ?? 'null')).toEqual(
      join.view.result,
    );
    expect(await rows('coordinator-held')).toEqual([[`${RUN}/join/then`, 'succeeded']]);
    await shot('coordinator-join');

    await page.goto(`${serve.url}/ui#/runs/${RUN}`);
    await page.locator(`[data-testid=run-page][data-id="${RUN}"][data-status=completed]`).waitFor();
    const view = (await api('GET', `/v1/runs/${RUN}`)).body;
    const stored = (await api('GET', `/v1/actors/${encodeURIComponent(view.kind)}/${RUN}`)).body;
    expect(await litStates()).toEqual(stored.active.slice(-1));
    const path = await page
      .locator('[data-testid=path] > li')
      .evaluateAll((lis) => lis.map((li) => [li.getAttribute('data-step'), li.getAttribute('data-outcome')]));
    expect(path).toEqual([
      ['fork', 'completed'],
      ['checkpoint', 'completed'],
      ['join', 'completed'],
    ]);
    const tasks = await runTasks();
    expect(tasks.every((t) => t.status === 'succeeded')).toBe(true);
    expect((await rows('run-tasks')).sort()).toEqual(tasks.map((t) => [t.id, t.status]).sort());
    // Each task's result, as the store has it (the continuation's is the run's outcome).
    const then = (await api('GET', `/v1/tasks/${encodeURIComponent(`${RUN}/join/then`)}`)).body;
    expect(then.result).toEqual({ passed: 'report' });
    expect(await page.locator(`[data-testid=run-tasks] tr[data-id="${RUN}/join/then"] code`).textContent()).toBe(
      JSON.stringify(then.result),
    );
    expect(JSON.parse((await page.locator('[data-testid=run-result]').textContent()) ?? 'null')).toMatchObject({
      results: view.results,
      failure: null,
    });
    await shot('run-completed');
  });

  it('a run of no ticket: its page finds its tasks and events by its id', async () => {
    const yaml = [
      'name: solo',
      'steps:',
      '  - id: only',
      '    task:',
      '      type: solo_step',
      '      requires: [work]',
    ].join('\n');
    expect((await api('POST', '/v1/runs', { yaml, runId: 'solo-run' })).status).toBe(201);
    await until(
      () => api('GET', '/v1/runs/solo-run'),
      (r) => r.body.status === 'completed',
      'the run of no ticket to complete',
    );
    await page.goto(`${serve.url}/ui#/runs/solo-run`);
    await page.locator('[data-testid=run-page][data-id=solo-run][data-status=completed]').waitFor();
    const view = (await api('GET', '/v1/runs/solo-run')).body;
    expect(view.ticketId).toBeNull();
    const stored = (await api('GET', `/v1/actors/${encodeURIComponent(view.kind)}/solo-run`)).body;
    expect(await litStates()).toEqual(stored.active.slice(-1));
    expect(await rows('run-tasks')).toEqual([['solo-run/only', 'succeeded']]);
    expect(
      await page
        .locator('[data-testid=path] > li')
        .evaluateAll((lis) => lis.map((li) => [li.getAttribute('data-step'), li.getAttribute('data-outcome')])),
    ).toEqual([['only', 'completed']]);
    const types = await page
      .locator('[data-testid=events] li')
      .evaluateAll((l) => l.map((li) => li.getAttribute('data-type')));
    expect(types[0]).toBe('pattern.started');
    expect(types).toContain('task.completed');
    expect(types.at(-1)).toBe('pattern.completed');
    await shot('run-no-ticket');
  });
});
