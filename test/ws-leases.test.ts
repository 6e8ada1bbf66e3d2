import { afterEach, describe, expect, it } from 'vitest';
import { RawClient, countEvents, startTestServer, type Frame, type TestServer } from './agent-conformance-helpers.js';

/** Leases make results count once: repeats are answered alike, anything else is refused. */
let t: TestServer;
afterEach(async () => t?.close());

async function leased(client: RawClient, taskId: string, accept = true): Promise<string> {
  const assign = await client.next((f) => f.type === 'assign' && f.taskId === taskId);
  const leaseId = assign.leaseId as string;
  if (accept)
    expect(await client.request({ type: 'accept', taskId, leaseId })).toMatchObject({ type: 'ack', applied: true });
  return leaseId;
}

const withoutRef = ({ ref: _ref, ...rest }: Frame) => rest;

describe('leases over WebSocket', () => {
  it('answers a duplicate completion with the same ack and applies it once', async () => {
    t = await startTestServer();
    const { client } = await RawClient.agent(t.url, { agentId: 'a' });
    const completed = countEvents(t.runtime, { types: ['task.completed'] }, 1);
    await t.runtime.tasks.create({ id: 'once', type: 'job' });
    const leaseId = await leased(client, 'once');
    const first = await client.request({ type: 'complete', taskId: 'once', leaseId, result: 'first' });
    const second = await client.request({ type: 'complete', taskId: 'once', leaseId, result: 'second' });
    expect(first).toMatchObject({ type: 'ack', of: 'complete', applied: true, status: 'succeeded' });
    expect(withoutRef(second)).toEqual({ ...withoutRef(first), applied: false });
    await completed;
    await t.runtime.idle();
    expect((await t.runtime.tasks.get('once')).result).toBe('first');
    expect(t.runtime.events.history({ types: ['task.completed'] })).toHaveLength(1);
    await client.close();
  });

  it('answers a duplicate failure alike, and counts the attempt once', async () => {
    t = await startTestServer();
    const { client } = await RawClient.agent(t.url, { agentId: 'a' });
    await t.runtime.tasks.create({ id: 'twice', type: 'job', retry: { maxAttempts: 3 } });
    const leaseId = await leased(client, 'twice');
    const fail = { type: 'fail', taskId: 'twice', leaseId, error: 'disk full', category: 'transient' };
    const first = await client.request(fail);
    const second = await client.request(fail);
    expect(first).toMatchObject({ type: 'ack', applied: true, status: 'retrying' });
    expect(second).toMatchObject({ type: 'ack', applied: false, status: 'retrying' });
    expect((await t.runtime.tasks.get('twice')).attempts).toHaveLength(1);
    await client.close();
  });

  it('refuses a late completion after the task was cancelled', async () => {
    t = await startTestServer();
    const { client } = await RawClient.agent(t.url, { agentId: 'a' });
    await t.runtime.tasks.create({ id: 'late', type: 'job' });
    const leaseId = await leased(client, 'late');
    await t.runtime.tasks.cancel('late', 'changed our minds');
    expect(await client.nextOfType('cancel')).toMatchObject({ taskId: 'late', leaseId, reason: 'changed our minds' });
    const late = await client.request({ type: 'complete', taskId: 'late', leaseId, result: 'too late' });
    expect(late).toMatchObject({
      type: 'error',
      code: 'E_LEASE_MISMATCH',
      details: { taskId: 'late', status: 'cancelled' },
    });
    expect(await t.runtime.tasks.get('late')).toMatchObject({ status: 'cancelled', result: null });
    await client.close();
  });

  it('an agent touches only its own leases', async () => {
    t = await startTestServer();
    const a = await RawClient.agent(t.url, { agentId: 'a' });
    const b = await RawClient.agent(t.url, { agentId: 'b', capabilities: ['other'] });
    await t.runtime.tasks.create({ id: 'mine', type: 'job' });
    const leaseId = await leased(a.client, 'mine');
    for (const frame of [
      { type: 'complete', taskId: 'mine', leaseId, result: 'stolen' },
      { type: 'fail', taskId: 'mine', leaseId, error: 'sabotage' },
      { type: 'progress', taskId: 'mine', leaseId, value: 1 },
      { type: 'heartbeat', taskId: 'mine', leaseId },
      { type: 'reject', taskId: 'mine', leaseId },
    ]) {
      expect(await b.client.request(frame)).toMatchObject({ type: 'error', code: 'E_FORBIDDEN' });
    }
    expect(await t.runtime.tasks.get('mine')).toMatchObject({ status: 'running', agentId: 'a' });
    expect(await a.client.request({ type: 'complete', taskId: 'mine', leaseId, result: 'mine' })).toMatchObject({
      applied: true,
    });
    await Promise.all([a.client.close(), b.client.close()]);
  });

  it('refuses made-up leases, unknown tasks and reports before accepting', async () => {
    t = await startTestServer();
    const { client } = await RawClient.agent(t.url, { agentId: 'a' });
    await t.runtime.tasks.create({ id: 'real', type: 'job' });
    const leaseId = await leased(client, 'real', false);
    expect(await client.request({ type: 'complete', taskId: 'real', leaseId: 'real#forged', result: 1 })).toMatchObject(
      {
        code: 'E_LEASE_MISMATCH',
      },
    );
    expect(await client.request({ type: 'accept', taskId: 'nope', leaseId: 'nope#1' })).toMatchObject({
      code: 'E_UNKNOWN_TASK',
    });
    expect(await client.request({ type: 'accept', taskId: 'real', leaseId })).toMatchObject({ applied: true });
    expect(await client.request({ type: 'accept', taskId: 'real', leaseId })).toMatchObject({
      type: 'error',
      code: 'E_LEASE_MISMATCH',
    });
    await client.close();
  });

  it('takes a report on a task still only offered as its accept', async () => {
    t = await startTestServer();
    const { client } = await RawClient.agent(t.url, { agentId: 'hasty' });
    await t.runtime.tasks.create({ id: 'quick', type: 'job' });
    const leaseId = await leased(client, 'quick', false);
    expect(
      await client.request({ type: 'complete', taskId: 'quick', leaseId, result: 'no accept needed' }),
    ).toMatchObject({
      applied: true,
      status: 'succeeded',
    });
    await client.close();
  });

  it('a rejected task goes back to the queue without using up an attempt', async () => {
    t = await startTestServer();
    const { client } = await RawClient.agent(t.url, { agentId: 'picky' });
    await t.runtime.tasks.create({ id: 'hot-potato', type: 'job' });
    const leaseId = await leased(client, 'hot-potato', false);
    expect(await client.request({ type: 'reject', taskId: 'hot-potato', leaseId, reason: 'not now' })).toMatchObject({
      applied: true,
      status: 'queued',
    });
    // The only agent gets it again once the reject cooldown (5 s by default) has passed, as
    // attempt 1 still, under a new lease.
    await t.clock.advance(5_000);
    const again = await client.nextOfType('assign');
    expect(again).toMatchObject({ taskId: 'hot-potato', attempt: 1 });
    expect(again.leaseId).not.toBe(leaseId);
    await client.request({ type: 'accept', taskId: 'hot-potato', leaseId: again.leaseId });
    expect(await client.request({ type: 'complete', taskId: 'hot-potato', leaseId: again.leaseId })).toMatchObject({
      applied: true,
    });
    expect((await t.runtime.tasks.get('hot-potato')).attempts).toHaveLength(1);
    await client.close();
  });
});
