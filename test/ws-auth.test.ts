import { afterEach, describe, expect, it } from 'vitest';
import { connectAgent, ConnectionRefusedError } from '../src/edge/sdk/index.js';
import { startServer } from '../src/edge/server/server.js';
import { createRuntime } from '../src/runtime.js';
import {
  AGENT_TOKEN,
  OBSERVER_TOKEN,
  RawClient,
  startTestServer,
  upgradeStatus,
  type TestServer,
} from './agent-conformance-helpers.js';

/** Tokens are checked in the HTTP upgrade: a refused client never reaches a WebSocket handler. */
let t: TestServer;
afterEach(async () => t?.close());

describe('authentication and authorisation', () => {
  it('refuses upgrades without a valid token with 401, and with the wrong path or subprotocol', async () => {
    t = await startTestServer();
    expect(await upgradeStatus(t.url, {})).toBe(401);
    expect(await upgradeStatus(t.url, { Authorization: 'Bearer not-a-token-we-know-of' })).toBe(401);
    expect(await upgradeStatus(t.url, { Authorization: `Basic ${AGENT_TOKEN}` })).toBe(401);
    expect(await upgradeStatus(t.url.replace('/v1/ws', '/elsewhere'), { Authorization: `Bearer ${AGENT_TOKEN}` })).toBe(
      404,
    );
    expect(await upgradeStatus(t.url, { Authorization: `Bearer ${AGENT_TOKEN}` }, ['troupe.v0'])).toBe(400);
    expect(t.server.connectedAgents()).toBe(0);
    const health = (await (await fetch(`${t.server.httpUrl}/healthz`)).json()) as { connections: number };
    expect(health.connections).toBe(0);
  });

  it('takes the token from the query string too (for browsers)', async () => {
    t = await startTestServer();
    const observer = await RawClient.open(t.url, OBSERVER_TOKEN, { query: true });
    expect(await observer.request({ type: 'subscribe' })).toMatchObject({ type: 'ack' });
    await observer.close();
  });

  it('the SDK gives up at once on a refused token', async () => {
    t = await startTestServer();
    const attempt = connectAgent({
      url: t.url,
      token: 'wrong-token-wrong-token',
      id: 'x',
      clock: t.clock,
      handler: () => null,
    });
    await expect(attempt).rejects.toBeInstanceOf(ConnectionRefusedError);
    await expect(attempt).rejects.toMatchObject({ status: 401 });
  });

  it('binds tokens to agent ids, and checks the hello token against the connection', async () => {
    t = await startTestServer({
      server: { agentTokens: [AGENT_TOKEN, { token: 'bound-token-for-coder-1', agentIds: ['coder-1'] }] },
    });
    const bound = await RawClient.open(t.url, 'bound-token-for-coder-1');
    expect(await bound.request({ type: 'hello', agentId: 'coder-2' })).toMatchObject({
      code: 'E_FORBIDDEN',
      message: /coder-2/,
    });
    expect(await bound.request({ type: 'hello', agentId: 'coder-1', token: AGENT_TOKEN })).toMatchObject({
      code: 'E_FORBIDDEN',
      message: /token differs/,
    });
    expect(await bound.request({ type: 'hello', agentId: 'coder-1', token: 'bound-token-for-coder-1' })).toMatchObject({
      type: 'welcome',
    });
    await bound.close();
  });

  it('refuses the id of an in-process agent, and lets a newer connection of the same session (its resume secret) take over a WebSocket agent', async () => {
    t = await startTestServer();
    await t.runtime.agents.register({ id: 'local', handler: () => null });
    const clash = await RawClient.open(t.url, AGENT_TOKEN);
    expect(await clash.request({ type: 'hello', agentId: 'local' })).toMatchObject({ code: 'E_DUPLICATE_ID' });
    const first = await RawClient.agent(t.url, { agentId: 'roamer' });
    const second = await RawClient.agent(t.url, { agentId: 'roamer', resumeSecret: first.welcome.resumeSecret });
    expect((await first.client.closed).code).toBe(4002);
    expect(await second.client.request({ type: 'heartbeat' })).toMatchObject({ type: 'ack' });
    await Promise.all([clash.close(), second.client.close()]);
  });

  it('refuses upgrades past the connection limit with 503', async () => {
    t = await startTestServer({ server: { maxConnections: 1 } });
    const only = await RawClient.open(t.url, OBSERVER_TOKEN);
    expect(await upgradeStatus(t.url, { Authorization: `Bearer ${OBSERVER_TOKEN}` })).toBe(503);
    await only.close();
  });

  it('will not start without tokens, or with short ones', async () => {
    const runtime = createRuntime();
    await expect(startServer(runtime, { port: 0 })).rejects.toMatchObject({
      code: 'E_INVALID_INPUT',
      message: /at least one/,
    });
    await expect(startServer(runtime, { port: 0, agentTokens: ['short'] })).rejects.toMatchObject({
      message: /16 characters/,
    });
    await runtime.stop();
  });
});
