import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../src/runtime.js';
import { SimulatedClock } from '../src/engine/clock.js';
import { SqliteStore } from '../src/engine/store/sqlite-store.js';
import { startServer } from '../src/edge/server/server.js';
import { connectAgent, type RemoteAgent } from '../src/edge/sdk/index.js';
import type { WelcomeMessage } from '../src/edge/server/protocol/server-messages.js';
import { AGENT_TOKEN, RawClient, nextEvent, startTestServer, type TestServer } from './agent-conformance-helpers.js';

/** Everything time-dependent here runs on the runtime's simulated clock: nothing sleeps. */
let t: TestServer;
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await t?.close();
});

async function runningRawAgent(agentId: string, taskId: string) {
  const { client, welcome } = await RawClient.agent(t.url, { agentId });
  await t.runtime.tasks.create({ id: taskId, type: 'job' });
  const assign = await client.nextOfType('assign');
  const leaseId = assign.leaseId as string;
  expect(await client.request({ type: 'accept', taskId, leaseId })).toMatchObject({ type: 'ack', status: 'running' });
  return { client, leaseId, resumeSecret: welcome.resumeSecret as string };
}

describe('disconnects and the grace period', () => {
  it('an SDK agent that reconnects within the grace period resumes its running task', async () => {
    t = await startTestServer();
    let release: () => void = () => {};
    let started: () => void = () => {};
    const running = new Promise<void>((resolve) => (started = resolve));
    const agent: RemoteAgent = await connectAgent({
      url: t.url,
      token: AGENT_TOKEN,
      id: 'sdk-1',
      clock: t.clock,
      reconnect: { initialDelayMs: 100, jitter: 0 },
      handler: () =>
        new Promise((resolve) => {
          release = () => resolve('finished after a reconnect');
          started();
        }),
    });
    cleanups.push(() => agent.close());
    await t.runtime.tasks.create({ id: 'job', type: 'job' });
    await running;
    const disconnected = once(agent, 'disconnected');
    agent.dropConnection();
    await disconnected;
    const reconnected = once(agent, 'connected');
    await t.clock.advance(100);
    const [welcome] = (await reconnected) as [WelcomeMessage];
    expect(welcome.resumed).toEqual(['job']);
    expect(welcome.revoked).toEqual([]);
    release();
    const done = await t.runtime.tasks.wait('job');
    expect(done).toMatchObject({ status: 'succeeded', result: 'finished after a reconnect', attempt: 1 });
    expect((await t.runtime.agents.get('sdk-1')).status).not.toBe('gone');
  });

  it('after the grace period the agent is lost, its task requeued, and its old lease refused', async () => {
    t = await startTestServer({ server: { graceMs: 5_000 } });
    const { client, leaseId } = await runningRawAgent('raw-1', 'job');
    const lost = nextEvent(t.runtime, { types: ['agent.gone'], agentId: 'raw-1' });
    await client.close();
    await t.clock.advance(4_999);
    expect((await t.runtime.agents.get('raw-1')).status).toBe('busy');
    await t.clock.advance(1);
    expect((await lost).data.reason).toMatch(/grace period/);
    await t.clock.advance(1_000); // the retry backoff
    expect((await t.runtime.tasks.get('job')).status).toBe('queued');
    // The same agent comes back: it is registered anew and told its old lease has ended.
    const registered = nextEvent(t.runtime, { types: ['agent.registered'], agentId: 'raw-1' });
    const back = await RawClient.agent(t.url, { agentId: 'raw-1', held: [{ taskId: 'job', leaseId }] });
    await registered;
    expect(back.welcome.resumed).toEqual([]);
    expect(back.welcome.revoked).toEqual([{ taskId: 'job', leaseId, reason: expect.stringMatching(/has ended/) }]);
    const again = await back.client.nextOfType('assign');
    expect(again).toMatchObject({ taskId: 'job', attempt: 2 });
    expect(await back.client.request({ type: 'complete', taskId: 'job', leaseId, result: 'stale' })).toMatchObject({
      type: 'error',
      code: 'E_LEASE_MISMATCH',
    });
    await back.client.request({ type: 'accept', taskId: 'job', leaseId: again.leaseId });
    await back.client.request({ type: 'complete', taskId: 'job', leaseId: again.leaseId, result: 'fresh' });
    expect(await t.runtime.tasks.get('job')).toMatchObject({ status: 'succeeded', result: 'fresh', attempt: 2 });
    await back.client.close();
  });

  it('an assignment made while the agent was away is sent when it reconnects', async () => {
    t = await startTestServer();
    const first = await RawClient.agent(t.url, { agentId: 'away' });
    const resumeSecret = first.welcome.resumeSecret;
    await first.client.close();
    await t.runtime.tasks.create({ id: 'meanwhile', type: 'job' });
    await t.runtime.idle();
    expect((await t.runtime.tasks.get('meanwhile')).status).toBe('offered');
    const back = await RawClient.agent(t.url, { agentId: 'away', resumeSecret });
    const assign = await back.client.nextOfType('assign');
    expect(assign).toMatchObject({ taskId: 'meanwhile', attempt: 1 });
    expect(await back.client.request({ type: 'accept', taskId: 'meanwhile', leaseId: assign.leaseId })).toMatchObject({
      type: 'ack',
    });
    await back.client.close();
  });

  it('a running task the reconnecting agent no longer knows fails as agent-lost and is retried', async () => {
    t = await startTestServer();
    const { client, resumeSecret } = await runningRawAgent('forgetful', 'job');
    await client.close();
    const retrying = nextEvent(t.runtime, { types: ['task.retrying'], taskId: 'job' });
    // The same session (its secret) that no longer lists the task: its worker lost it.
    const back = await RawClient.agent(t.url, { agentId: 'forgetful', held: [], resumeSecret });
    expect((await retrying).data.error).toMatchObject({ category: 'agent-lost', code: 'E_AGENT_LOST' });
    await t.clock.advance(1_000);
    expect(await back.client.nextOfType('assign')).toMatchObject({ taskId: 'job', attempt: 2 });
    await back.client.close();
  });
});

describe('stale agents', () => {
  it('an agent that stops beating goes stale: its task is cancelled there and requeued to another agent', async () => {
    t = await startTestServer({ server: { staleAfterMs: 45_000, graceMs: 25_000 } });
    const { client, leaseId } = await runningRawAgent('silent', 'job');
    const stale = nextEvent(t.runtime, { types: ['agent.stale'], agentId: 'silent' });
    await t.clock.advance(45_000);
    await stale;
    expect(await client.nextOfType('cancel')).toMatchObject({ taskId: 'job', leaseId, reason: 'agent lost' });
    await t.clock.advance(1_000); // the retry backoff
    expect((await t.runtime.tasks.get('job')).status).toBe('queued');
    const helper = await connectAgent({
      url: t.url,
      token: AGENT_TOKEN,
      id: 'helper',
      clock: t.clock,
      handler: () => 'rescued',
    });
    cleanups.push(() => helper.close());
    expect(await t.runtime.tasks.wait('job')).toMatchObject({ status: 'succeeded', result: 'rescued', agentId: null });
    expect((await t.runtime.tasks.get('job')).attempts.map((a) => a.agentId)).toEqual(['silent', 'helper']);
    // The silent agent's late result counts for nothing; a heartbeat brings it back for new work.
    expect(await client.request({ type: 'complete', taskId: 'job', leaseId, result: 'late' })).toMatchObject({
      code: 'E_LEASE_MISMATCH',
    });
    const recovered = nextEvent(t.runtime, { types: ['agent.recovered'], agentId: 'silent' });
    await client.request({ type: 'heartbeat' });
    await recovered;
    expect((await t.runtime.tasks.get('job')).result).toBe('rescued');
    await client.close();
  });
});

describe('a clean shutdown', () => {
  it('lets an agent resume its running task on the next server over the same store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-ws-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const clock = new SimulatedClock(1_000_000);
    const path = join(dir, 'troupe.db');
    const first = createRuntime({ clock, store: new SqliteStore({ path }) });
    const server1 = await startServer(first, { port: 0, agentTokens: [AGENT_TOKEN] });
    const { client } = await RawClient.agent(server1.url, { agentId: 'survivor' });
    await first.tasks.create({ id: 'durable', type: 'job' });
    const assign = await client.nextOfType('assign');
    const leaseId = assign.leaseId as string;
    await client.request({ type: 'accept', taskId: 'durable', leaseId });
    const closing = client.closed;
    await server1.close();
    expect((await closing).code).toBe(1001);
    await first.stop();

    const second = createRuntime({ clock, store: new SqliteStore({ path }) });
    const server2 = await startServer(second, { port: 0, agentTokens: [AGENT_TOKEN] });
    cleanups.push(async () => {
      await server2.close();
      await second.stop();
    });
    const back = await RawClient.agent(server2.url, { agentId: 'survivor', held: [{ taskId: 'durable', leaseId }] });
    expect(back.welcome.resumed).toEqual(['durable']);
    expect(
      await back.client.request({ type: 'complete', taskId: 'durable', leaseId, result: 'resumed' }),
    ).toMatchObject({
      applied: true,
      status: 'succeeded',
    });
    expect(await second.tasks.get('durable')).toMatchObject({ status: 'succeeded', attempt: 1, result: 'resumed' });
    await back.client.close();
  });

  it('requeues the work of an agent that does not come back to the next server within the grace period', async () => {
    const clock = new SimulatedClock(1_000_000);
    const dir = mkdtempSync(join(tmpdir(), 'troupe-ws-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'troupe.db');
    const first = createRuntime({ clock, store: new SqliteStore({ path }) });
    const server1 = await startServer(first, { port: 0, agentTokens: [AGENT_TOKEN] });
    const { client } = await RawClient.agent(server1.url, { agentId: 'gone-for-good' });
    await first.tasks.create({ id: 'orphan', type: 'job' });
    const assign = await client.nextOfType('assign');
    await client.request({ type: 'accept', taskId: 'orphan', leaseId: assign.leaseId });
    await server1.close();
    await first.stop();

    const second = createRuntime({ clock, store: new SqliteStore({ path }) });
    const server2 = await startServer(second, { port: 0, agentTokens: [AGENT_TOKEN], graceMs: 5_000 });
    cleanups.push(async () => {
      await server2.close();
      await second.stop();
    });
    const retrying = nextEvent(second, { types: ['task.retrying'], taskId: 'orphan' });
    await clock.advance(5_000);
    expect((await retrying).data.error).toMatchObject({ category: 'agent-lost' });
  });
});
