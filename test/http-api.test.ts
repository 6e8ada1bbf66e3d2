import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upgradeStatus } from './agent-conformance-helpers.js';
import {
  AGENT_TOKEN,
  call,
  CLIENT_TOKEN,
  OBSERVER_TOKEN,
  startServe,
  type ServeProcess,
} from './support/serve-process.js';

/**
 * The HTTP API of a real `troupe serve` process (SQLite file, loopback port): submitting,
 * reading and cancelling, each refusal with its documented code and status, and nothing changed
 * by a refused request.
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
const countTasks = async () => (await api('GET', '/v1/tasks?limit=1000')).body.items.length as number;

describe('tasks over HTTP', () => {
  it('creates a task, reads it whole, and answers a resubmission with the same task', async () => {
    const body = { id: 'h1', type: 'hello', input: { n: 1 }, priority: 'high', retry: { maxAttempts: 2 } };
    const first = await api('POST', '/v1/tasks', { body });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      created: ['h1'],
      tasks: [{ id: 'h1', status: 'queued', priority: 75, maxAttempts: 2, input: { n: 1 } }],
    });
    // The answer was lost: the same body again is the same task, created once.
    const again = await api('POST', '/v1/tasks', { body });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: [], tasks: [{ id: 'h1', createdAt: first.body.tasks[0].createdAt }] });
    const one = await api('GET', '/v1/tasks/h1');
    expect(one.status).toBe(200);
    expect(Object.keys(one.body)).toEqual(
      expect.arrayContaining([
        'attempts',
        'result',
        'artifacts',
        'error',
        'createdAt',
        'queuedAt',
        'startedAt',
        'settledAt',
      ]),
    );
  });

  it('refuses another body under a used id with 409 and changes nothing', async () => {
    await api('POST', '/v1/tasks', { body: { id: 'h2', type: 'hello', input: 1 } });
    const before = await countTasks();
    const other = await api('POST', '/v1/tasks', { body: { id: 'h2', type: 'hello', input: 2 } });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: 'E_DUPLICATE_ID', path: ['body', 'id'], retryable: false });
    expect((await api('GET', '/v1/tasks/h2')).body.input).toBe(1);
    expect(await countTasks()).toBe(before);
  });

  it('creates a batch with dependencies together, and none of it when one task is bad', async () => {
    const before = await countTasks();
    const bad = await api('POST', '/v1/tasks', {
      body: {
        tasks: [
          { id: 'b1', type: 'x' },
          { id: 'b2', type: 'y', dependsOn: ['nowhere'] },
        ],
      },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('E_MISSING_DEPENDENCY');
    expect(await countTasks()).toBe(before);
    const good = await api('POST', '/v1/tasks', {
      body: {
        tasks: [
          { id: 'b1', type: 'x' },
          { id: 'b2', type: 'y', dependsOn: ['b1'] },
        ],
      },
    });
    expect(good.status).toBe(201);
    expect(good.body.tasks.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual([
      ['b1', 'queued'],
      ['b2', 'waiting'],
    ]);
  });

  it('lists with filters and cursor paging', async () => {
    await api('POST', '/v1/tasks', { body: { tasks: [1, 2, 3, 4, 5].map((i) => ({ id: `p${i}`, type: 'paged' })) } });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await api(
        'GET',
        `/v1/tasks?type=paged&limit=2&order=oldest${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((t) => t.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    const waiting = await api('GET', '/v1/tasks?status=waiting,running');
    expect(waiting.body.items.map((t: { id: string }) => t.id)).toEqual(['b2']);
    const badCursor = await api('GET', '/v1/tasks?cursor=nonsense');
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error).toMatchObject({ code: 'E_INVALID_INPUT', path: ['query', 'cursor'] });
  });

  it('cancels a task once; a second cancel is 409 E_INVALID_STATE', async () => {
    await api('POST', '/v1/tasks', { body: { id: 'c1', type: 'to-cancel' } });
    const cancelled = await api('POST', '/v1/tasks/c1/cancel', { body: { reason: 'not needed' } });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', reason: 'not needed' });
    const again = await api('POST', '/v1/tasks/c1/cancel');
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('E_INVALID_STATE');
  });
});

describe('refusals: documented code, status, and nothing changed', () => {
  it('bad bodies name the field', async () => {
    const before = await countTasks();
    const wrongType = await api('POST', '/v1/tasks', { body: { type: 7 } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error).toMatchObject({ code: 'E_INVALID_INPUT', path: ['body', 'type'] });
    const unknownKey = await api('POST', '/v1/tasks', { body: { tasks: [{ type: 'a', colour: 'red' }] } });
    expect(unknownKey.body.error).toMatchObject({ code: 'E_INVALID_INPUT', path: ['body', 'tasks', 0, 'colour'] });
    const notJson = await api('POST', '/v1/tasks', {
      raw: '{"type":',
      headers: { 'Content-Type': 'application/json' },
    });
    expect([notJson.status, notJson.body.error.code]).toEqual([400, 'E_NOT_JSON']);
    const form = await api('POST', '/v1/tasks', {
      raw: 'type=a',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect([form.status, form.body.error.code]).toEqual([415, 'E_UNSUPPORTED_MEDIA_TYPE']);
    const badQuery = await api('GET', '/v1/tasks?limit=0');
    expect(badQuery.body.error).toMatchObject({ code: 'E_INVALID_INPUT', path: ['query', 'limit'] });
    expect(await countTasks()).toBe(before);
  });

  it('an oversized body is 413 and is not read to the end', async () => {
    const before = await countTasks();
    const big = await api('POST', '/v1/tasks', { body: { type: 'big', input: 'x'.repeat(5 * 1024 * 1024) } });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('E_PAYLOAD_TOO_LARGE');
    expect(await countTasks()).toBe(before);
  });

  it('unknown ids are 404 with the code of their kind; unknown routes E_NOT_FOUND', async () => {
    for (const [path, code] of [
      ['/v1/tasks/nope', 'E_UNKNOWN_TASK'],
      ['/v1/tickets/nope', 'E_UNKNOWN_TICKET'],
      ['/v1/runs/nope', 'E_UNKNOWN_RUN'],
      ['/v1/agents/nope', 'E_UNKNOWN_AGENT'],
      ['/v1/nothing-here', 'E_NOT_FOUND'],
    ] as const) {
      const answer = await api('GET', path);
      expect([path, answer.status, answer.body.error.code]).toEqual([path, 404, code]);
    }
    const cancel = await api('POST', '/v1/tasks/nope/cancel');
    expect([cancel.status, cancel.body.error.code]).toEqual([404, 'E_UNKNOWN_TASK']);
  });

  it('tokens act only in their role', async () => {
    const before = await countTasks();
    const none = await api('GET', '/v1/tasks', { token: null });
    expect([none.status, none.body.error.code]).toEqual([401, 'E_UNAUTHORIZED']);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const unknown = await api('GET', '/v1/tasks', { token: 'not-a-token-anyone-knows-0' });
    expect(unknown.status).toBe(401);
    const agent = await api('POST', '/v1/tasks', { token: AGENT_TOKEN, body: { type: 'from-agent' } });
    expect([agent.status, agent.body.error.code]).toEqual([403, 'E_FORBIDDEN']);
    const observerWrite = await api('POST', '/v1/tasks', { token: OBSERVER_TOKEN, body: { type: 'from-observer' } });
    expect([observerWrite.status, observerWrite.body.error.code]).toEqual([403, 'E_FORBIDDEN']);
    const observerRead = await api('GET', '/v1/tasks', { token: OBSERVER_TOKEN });
    expect(observerRead.status).toBe(200);
    expect(await countTasks()).toBe(before);
    // A client token cannot connect to the WebSocket endpoint as an agent or an observer.
    expect(await upgradeStatus(serve.wsUrl, { Authorization: `Bearer ${CLIENT_TOKEN}` })).toBe(403);
  });
});

describe('the documents and operations routes', () => {
  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const doc = (await api('GET', '/v1/openapi.json', { token: null })).body;
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/v1/tasks',
      '/v1/tasks/{id}',
      '/v1/tasks/{id}/cancel',
      '/v1/tickets',
      '/v1/tickets/{id}',
      '/v1/tickets/{id}/cancel',
      '/v1/runs',
      '/v1/runs/{id}',
      '/v1/agents',
      '/v1/events',
      '/metrics',
      '/healthz',
      '/readyz',
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    const created = doc.paths['/v1/tasks'].post;
    expect(Object.keys(created.responses)).toEqual(
      expect.arrayContaining(['201', '200', '400', '401', '403', '409', '413', '415', '429']),
    );
    const bodySchema = JSON.stringify(created.requestBody.content['application/json'].schema);
    expect(bodySchema).toContain('"dependsOn"');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('answers /healthz, /readyz and /metrics without a token', async () => {
    expect((await api('GET', '/healthz', { token: null })).body).toMatchObject({ status: 'ok', protocol: 'troupe.v1' });
    expect((await api('GET', '/readyz', { token: null })).body).toEqual({ status: 'ready' });
    const metrics = await api('GET', '/metrics', { token: null });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.body).toMatch(/^troupe_tasks_created_total \d+$/m);
  });
});

describe('docs/errors.md', () => {
  it('gives the HTTP status of every code the API answers with', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { HTTP_STATUS_OF_CODE } = await import('../src/edge/http/shared/http-errors.js');
    const { ERROR_CODES } = await import('../src/core/errors.js');
    const { PROTOCOL_ERROR_CODES } = await import('../src/edge/server/protocol/codes.js');
    const doc = readFileSync(join(import.meta.dirname, '..', 'docs/errors.md'), 'utf8');
    for (const [code, status] of Object.entries(HTTP_STATUS_OF_CODE)) {
      expect(doc).toContain(`| \`${code}\` | ${status} |`);
      expect(code in ERROR_CODES || code in PROTOCOL_ERROR_CODES, code).toBe(true);
    }
  });
});
