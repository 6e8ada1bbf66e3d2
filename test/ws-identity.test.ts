import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { liveServerOptionsOf } from '../src/edge/config/config-apply.js';
import { serveConfig } from '../src/edge/config/serve-config.js';
import { SUBPROTOCOL } from '../src/edge/server/protocol/codes.js';
import { connectAgent } from '../src/edge/sdk/index.js';
import {
  AGENT_TOKEN,
  OBSERVER_TOKEN,
  RawClient,
  startTestServer,
  upgradeStatus,
  type TestServer,
} from './agent-conformance-helpers.js';

/**
 * Issue 11, items 2 and 3: who may be which agent (tokens bound to ids, a resume secret per
 * session, no takeover by another session unless the operator allows it), and observers that
 * are pinged, dropped when dead, and capped per token.
 */
let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Leaves the connection open but stops reading it: the server sees a silent, connected agent. */
function open(client: RawClient): boolean {
  return client.socket.readyState === WebSocket.OPEN;
}

describe('agent identity', () => {
  it('a second hello for a connected agent without its resume secret is refused, and the agent keeps working', async () => {
    t = await startTestServer();
    const { client: first, welcome } = await RawClient.agent(t.url, { agentId: 'coder-1' });
    expect(welcome.resumeSecret).toEqual(expect.any(String));
    expect(String(welcome.resumeSecret).length).toBeGreaterThanOrEqual(32);
    for (const attempt of [{}, { resumeSecret: 'guessed-secret' }]) {
      const intruder = await RawClient.open(t.url, AGENT_TOKEN);
      expect(await intruder.request({ type: 'hello', agentId: 'coder-1', ...attempt })).toMatchObject({
        type: 'error',
        code: 'E_AGENT_TAKEN',
      });
      await intruder.close();
    }
    expect(open(first)).toBe(true);
    expect(await first.request({ type: 'heartbeat' })).toMatchObject({ type: 'ack' });
    const task = await t.runtime.tasks.create({ type: 'job' });
    expect((await first.nextOfType('assign')).taskId).toBe(task.id);
  });

  it('the same session comes back with its secret: on a new connection while the old is open, and within the grace period', async () => {
    t = await startTestServer();
    const { client: first, welcome } = await RawClient.agent(t.url, { agentId: 'coder-2' });
    const secret = welcome.resumeSecret as string;
    const task = await t.runtime.tasks.create({ type: 'job' });
    const assign = await first.nextOfType('assign');
    await first.request({ type: 'accept', taskId: task.id, leaseId: assign.leaseId });
    // A new connection of the same session (the old one half-open): it resumes, the old is told 4002.
    const { client: second, welcome: again } = await RawClient.agent(t.url, {
      agentId: 'coder-2',
      resumeSecret: secret,
      held: [{ taskId: task.id, leaseId: assign.leaseId }],
    });
    expect(again).toMatchObject({ resumed: [task.id], resumeSecret: secret });
    expect((await first.closed).code).toBe(4002);
    // Disconnected, within the grace period: only the secret resumes it.
    await second.close();
    const stranger = await RawClient.open(t.url, AGENT_TOKEN);
    expect(await stranger.request({ type: 'hello', agentId: 'coder-2' })).toMatchObject({
      code: 'E_AGENT_TAKEN',
      message: expect.stringContaining('grace period'),
    });
    await stranger.close();
    const { client: third, welcome: resumed } = await RawClient.agent(t.url, {
      agentId: 'coder-2',
      resumeSecret: secret,
      held: [{ taskId: task.id, leaseId: assign.leaseId }],
    });
    expect(resumed.resumed).toEqual([task.id]);
    expect(
      (await third.request({ type: 'complete', taskId: task.id, leaseId: assign.leaseId, result: 1 })).status,
    ).toBe('succeeded');
    // Once the session ends (here: the grace period runs out), the id is free for a new session.
    await third.close();
    t.clock.advance(t.server.options.graceMs + 1);
    await t.runtime.idle();
    const { welcome: fresh } = await RawClient.agent(t.url, { agentId: 'coder-2' });
    expect(fresh.resumeSecret).not.toBe(secret);
  });

  it('with allowTakeover the newest session wins: the holder gets 4002 and its secret stops working', async () => {
    t = await startTestServer({ server: { allowTakeover: true } });
    const { client: first, welcome } = await RawClient.agent(t.url, { agentId: 'coder-3' });
    const { welcome: taken } = await RawClient.agent(t.url, { agentId: 'coder-3' });
    expect((await first.closed).code).toBe(4002);
    expect(taken.resumeSecret).not.toBe(welcome.resumeSecret);
    // The loser's secret is not the session's any more; with takeover allowed it would take it
    // back, which is why 4002 tells a client to stop.
    expect(t.server.connectedAgents()).toBe(1);
  });

  it('the SDK keeps the resume secret and resumes its session after the connection drops', async () => {
    t = await startTestServer();
    const agent = await connectAgent({
      url: t.url,
      token: AGENT_TOKEN,
      id: 'sdk-1',
      handler: () => null,
      reconnect: { initialDelayMs: 1, maxDelayMs: 5 },
    });
    const reconnected = new Promise((resolve) => agent.once('connected', resolve));
    // Drop the agent's connection from the server's side, as a network failure would.
    const connections = (t.server as unknown as { connections: Set<{ role: string; terminate(): void }> }).connections;
    for (const connection of connections) if (connection.role === 'agent') connection.terminate();
    await reconnected;
    expect(agent.connected).toBe(true);
    await agent.close();
  });

  it('troupe serve binds a flag or variable token to agent ids: TOKEN=a,b and TOKEN=a|b', () => {
    const { load } = serveConfig(
      { memory: true, agentToken: ['flag-token-0123456789=coder-1,coder-2', 'plain-token-0123456789'] },
      { TROUPE_AGENT_TOKENS: 'env-token-0123456789=reviewer-1|reviewer-2,env-plain-0123456789' },
    );
    const loaded = load();
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    expect(liveServerOptionsOf(loaded.config).agentTokens).toEqual([
      { token: 'flag-token-0123456789', agentIds: ['coder-1', 'coder-2'] },
      'plain-token-0123456789',
      { token: 'env-token-0123456789', agentIds: ['reviewer-1', 'reviewer-2'] },
      'env-plain-0123456789',
    ]);
  });

  it('a bound token says hello only as its agent ids', async () => {
    const bound = 'bound-token-0123456789';
    t = await startTestServer({ server: { agentTokens: [{ token: bound, agentIds: ['coder-1'] }] } });
    const client = await RawClient.open(t.url, bound);
    expect(await client.request({ type: 'hello', agentId: 'coder-9' })).toMatchObject({ code: 'E_FORBIDDEN' });
    expect((await client.request({ type: 'hello', agentId: 'coder-1' })).type).toBe('welcome');
  });
});

describe('observer connections', () => {
  /** An observer whose library does not answer pings: a peer that vanished without closing. */
  function deadObserver(url: string): Promise<{ socket: WebSocket; pinged: Promise<void>; closed: Promise<number> }> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, [SUBPROTOCOL], {
        headers: { Authorization: `Bearer ${OBSERVER_TOKEN}` },
        autoPong: false,
      });
      const pinged = new Promise<void>((r) => socket.once('ping', () => r()));
      const closed = new Promise<number>((r) => socket.once('close', (code) => r(code)));
      socket.once('open', () => resolve({ socket, pinged, closed }));
      socket.once('error', reject);
    });
  }

  it('pings observers and drops one that does not answer, while one that answers stays', async () => {
    t = await startTestServer({ server: { observerPingIntervalMs: 10_000 } });
    const dead = await deadObserver(t.url);
    const alive = await RawClient.open(t.url, OBSERVER_TOKEN);
    const alivePinged = new Promise<void>((r) => alive.socket.once('ping', () => r()));
    expect(await alive.request({ type: 'subscribe', filter: {} })).toMatchObject({ type: 'ack' });
    t.clock.advance(10_000);
    await dead.pinged;
    await alivePinged;
    // The pong went out before this request, on the same stream: the server has read it when it answers.
    expect(await alive.request({ type: 'query', target: 'agent', id: 'nobody' })).toMatchObject({
      code: 'E_UNKNOWN_AGENT',
    });
    t.clock.advance(10_000);
    expect(await dead.closed).toBe(1006);
    expect(open(alive)).toBe(true);
    expect(await alive.request({ type: 'query', target: 'agent', id: 'nobody' })).toMatchObject({
      code: 'E_UNKNOWN_AGENT',
    });
  });

  it('caps connections per token (HTTP 429) and frees the slot when one closes', async () => {
    t = await startTestServer({ server: { maxConnectionsPerToken: 2 } });
    const one = await RawClient.open(t.url, OBSERVER_TOKEN);
    await RawClient.open(t.url, OBSERVER_TOKEN);
    expect(await upgradeStatus(t.url, { Authorization: `Bearer ${OBSERVER_TOKEN}` })).toBe(429);
    // Another token is not held back by this one.
    await RawClient.open(t.url, AGENT_TOKEN);
    await one.close();
    await t.runtime.idle();
    const three = await RawClient.open(t.url, OBSERVER_TOKEN);
    expect(await three.request({ type: 'query', target: 'agent', id: 'nobody' })).toMatchObject({
      code: 'E_UNKNOWN_AGENT',
    });
  });
});
