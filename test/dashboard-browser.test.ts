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
    expect(agentRows.sort()).toEqual(['broken', 'slow', 'worker']);
    expect(await page.locator('[data-testid=agents] tr[data-id=slow]').textContent()).toContain('1/1');
    await shot('overview-light');
    await page.getByRole('button', { name: /switch to dark theme/ }).click();
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
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
