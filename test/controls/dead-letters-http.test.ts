import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startServe, type ServeProcess } from '../support/serve-process.js';

/** The dead-letter queue over the HTTP API of a real `troupe serve` process. */
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

describe('/v1/dead-letters', () => {
  it('lists dead letters by filter and redrives them with a new input', async () => {
    // A child whose parent must succeed: cancelling the parent dead-letters the child.
    await api('POST', '/v1/tasks', {
      body: {
        tasks: [
          { id: 'parent', type: 'fetch' },
          { id: 'child', type: 'report', dependsOn: [{ id: 'parent', onFailure: 'fail' }] },
        ],
      },
    });
    await api('POST', '/v1/tasks/parent/cancel', { body: {} });
    const listed = await api('GET', '/v1/dead-letters?code=E_DEPENDENCY_FAILED');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((d: { id: string; error: { code: string } }) => [d.id, d.error.code])).toEqual([
      ['child', 'E_DEPENDENCY_FAILED'],
    ]);
    expect((await api('GET', '/v1/dead-letters?type=fetch')).body.items).toEqual([]);

    const refused = await api('POST', '/v1/dead-letters/redrive', { body: {} });
    expect([refused.status, refused.body.error.code]).toEqual([400, 'E_INVALID_INPUT']);
    const redriven = await api('POST', '/v1/dead-letters/redrive', {
      body: { ids: ['child'], input: { fixed: true }, reason: 'parent not needed' },
    });
    expect(redriven.status).toBe(200);
    expect(redriven.body.redriven.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual([
      ['child', 'queued'],
    ]);
    const child = (await api('GET', '/v1/tasks/child')).body;
    expect([child.input, child.redrives[0].reason, child.redrives[0].inputChanged]).toEqual([
      { fixed: true },
      'parent not needed',
      true,
    ]);
    expect((await api('GET', '/v1/dead-letters')).body.items).toEqual([]);
    // The redrive is in the audit log under the task it redrove.
    const audit = (await api('GET', '/v1/audit?action=task.redriven')).body.entries;
    expect(audit.map((e: { action: string; target: string }) => [e.action, e.target])).toEqual([
      ['task.redriven', 'child'],
    ]);
    const again = await api('POST', '/v1/dead-letters/redrive', { body: { ids: ['child'] } });
    expect([again.status, again.body.error.code]).toEqual([409, 'E_INVALID_STATE']);
  });
});
