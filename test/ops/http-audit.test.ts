import { startServer } from '../../src/edge/server/server.js';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/index.js';
import type { TroupeServer } from '../../src/edge/server/server.js';

const CI = 'ci-client-token-for-audit-01';
const OTHER = 'unnamed-client-token-audit-1';
const WATCH = 'observer-token-for-audit-001';

describe('the audit log over HTTP', () => {
  let runtime: Runtime;
  let server: TroupeServer;
  afterEach(async () => {
    await server?.close();
    await runtime?.stop();
  });

  it('records who submitted and cancelled what, under the configured token name, and serves it at /v1/audit', async () => {
    runtime = createRuntime({ logger: pino({ level: 'silent' }) });
    server = await startServer(runtime, {
      port: 0,
      clientTokens: [CI, OTHER],
      observerTokens: [WATCH],
      tokenNames: { [CI]: 'ci', [WATCH]: 'dashboard' },
    });
    const call = async (token: string, method: string, path: string, body?: unknown) => {
      const response = await fetch(`${server.httpUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    expect((await call(CI, 'POST', '/v1/tasks', { id: 'a1', type: 'build' })).status).toBe(201);
    expect(
      (
        await call(CI, 'POST', '/v1/tasks', {
          tasks: [
            { id: 'b1', type: 'x' },
            { id: 'b2', type: 'y' },
          ],
        })
      ).status,
    ).toBe(201);
    expect((await call(OTHER, 'POST', '/v1/tasks/a1/cancel', { reason: 'wrong branch' })).status).toBe(200);
    // Refused and read-only requests are not audited.
    expect((await call(CI, 'POST', '/v1/tasks/nope/cancel')).status).toBe(404);
    expect((await call(CI, 'GET', '/v1/tasks/a1')).status).toBe(200);

    const page = await call(WATCH, 'GET', '/v1/audit?limit=10');
    expect(page.status).toBe(200);
    const entries = page.body.entries as Array<{
      actor: string;
      action: string;
      target: string | null;
      details: Record<string, unknown>;
    }>;
    expect(entries.map((e) => [e.actor, e.action, e.target])).toEqual([
      [expect.stringMatching(/^token:[0-9a-f]{12}$/), 'task.cancelled', 'a1'],
      ['ci', 'task.submitted', null],
      ['ci', 'task.submitted', 'a1'],
    ]);
    expect(entries[1]?.details).toMatchObject({ ids: ['b1', 'b2'] });
    expect(JSON.stringify(entries)).not.toContain(OTHER);
    expect((await call(CI, 'GET', '/v1/audit?actor=ci&action=task.submitted')).body.entries).toHaveLength(2);
    const first = entries[2] as unknown as { seq: number };
    expect(((await call(CI, 'GET', `/v1/audit?after=${first.seq}`)).body.entries as unknown[]).length).toBe(2);

    // A reload renames at once.
    server.reload({
      clientTokens: [CI, OTHER],
      observerTokens: [WATCH],
      tokenNames: { [CI]: 'ci', [OTHER]: 'release-bot' },
    });
    await call(OTHER, 'POST', '/v1/tasks', { id: 'c1', type: 'ship' });
    expect((await runtime.audit.read({ limit: 1 }))[0]).toMatchObject({
      actor: 'release-bot',
      action: 'task.submitted',
      target: 'c1',
    });
  });
});
