import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_TOKEN, RawClient, nextEvent, startTestServer, type TestServer } from './agent-conformance-helpers.js';

let t: TestServer;
afterEach(async () => t?.close());

describe('task lifecycle over WebSocket', () => {
  it('hello, assign, accept, progress, complete, with an ack for every request', async () => {
    t = await startTestServer();
    const { client, welcome } = await RawClient.agent(t.url, { agentId: 'raw-1', capabilities: ['code'], capacity: 2 });
    expect(welcome).toMatchObject({
      type: 'welcome',
      protocol: 1,
      agentId: 'raw-1',
      capabilities: ['code'],
      capacity: 2,
      resumed: [],
      revoked: [],
    });
    const task = await t.runtime.tasks.create({ id: 'one', type: 'build', requires: ['code'], input: { n: 1 } });
    const assign = await client.nextOfType('assign');
    expect(assign).toMatchObject({
      taskId: 'one',
      attempt: 1,
      task: { id: 'one', type: 'build', input: { n: 1 } },
      context: { ticket: null, attempt: 1 },
    });
    const leaseId = assign.leaseId as string;
    expect(await client.request({ type: 'accept', taskId: task.id, leaseId })).toMatchObject({
      type: 'ack',
      of: 'accept',
      applied: true,
      status: 'running',
    });
    const progressed = nextEvent(t.runtime, { types: ['task.progress'] });
    expect(
      await client.request({ type: 'progress', taskId: task.id, leaseId, value: 0.5, message: 'half' }),
    ).toMatchObject({ type: 'ack', of: 'progress' });
    expect((await progressed).data).toEqual({ value: 0.5, message: 'half' });
    expect(await client.request({ type: 'heartbeat' })).toMatchObject({ type: 'ack', of: 'heartbeat' });
    expect(await client.request({ type: 'heartbeat', taskId: task.id, leaseId })).toMatchObject({
      type: 'ack',
      of: 'heartbeat',
      status: 'running',
    });
    const done = await client.request({
      type: 'complete',
      taskId: task.id,
      leaseId,
      result: { ok: true },
      artifacts: { log: 'x' },
      quality: 0.9,
    });
    expect(done).toMatchObject({ type: 'ack', of: 'complete', applied: true, status: 'succeeded' });
    const view = await t.runtime.tasks.get(task.id);
    expect(view).toMatchObject({ status: 'succeeded', result: { ok: true }, artifacts: { log: 'x' }, quality: 0.9 });
    await client.close();
  });

  it('serves a health check', async () => {
    t = await startTestServer();
    const response = await fetch(`${t.server.httpUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', protocol: 'troupe.v1' });
    expect(AGENT_TOKEN).toBeTruthy();
  });
});
