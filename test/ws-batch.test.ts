import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { connectAgent, type RemoteAgent } from '../src/edge/sdk/index.js';
import {
  AGENT_TOKEN,
  RawClient,
  countEvents,
  startTestServer,
  type Frame,
  type TestServer,
} from './agent-conformance-helpers.js';

/**
 * The `batch` feature (docs/protocol.md, "Batches"): granted only when hello asks for it, then
 * several messages per frame both ways, each answered on its own; agents that do not ask see
 * the protocol as before. Answers to assignments do not count against the rate limit.
 */
let t: TestServer | undefined;
let agent: RemoteAgent | undefined;
afterEach(async () => {
  await agent?.close();
  agent = undefined;
  await t?.close();
  t = undefined;
});

/** Every frame the client receives, and every message in them (a batch unpacked, in order). */
function tap(client: RawClient): {
  frames: Frame[];
  messages: Frame[];
  until(test: (m: Frame[]) => boolean): Promise<void>;
} {
  const frames: Frame[] = [];
  const messages: Frame[] = [];
  let waiter: (() => void) | null = null;
  let check: (m: Frame[]) => boolean = () => false;
  client.socket.on('message', (data) => {
    const frame = JSON.parse(String(data)) as Frame;
    frames.push(frame);
    messages.push(...(frame.type === 'batch' ? (frame.messages as Frame[]) : [frame]));
    if (waiter && check(messages)) waiter();
  });
  return {
    frames,
    messages,
    until(test) {
      if (test(messages)) return Promise.resolve();
      check = test;
      return new Promise((resolve) => (waiter = resolve));
    },
  };
}

const assigns = (messages: Frame[]) => messages.filter((m) => m.type === 'assign');

describe('batch frames', () => {
  it('are granted when hello asks for them; assignments and answers then come several to a frame', async () => {
    t = await startTestServer();
    const { client, welcome } = await RawClient.agent(t.url, {
      agentId: 'b',
      capacity: 5,
      features: ['batch', 'from-the-future'],
    });
    expect(welcome.features).toEqual(['batch']);
    const seen = tap(client);
    const completed = countEvents(t.runtime, { types: ['task.completed'] }, 5);
    await t.runtime.tasks.createMany(Array.from({ length: 5 }, (_, i) => ({ id: `t${i}`, type: 'job' })));
    await seen.until((m) => assigns(m).length === 5);
    expect(seen.frames.some((f) => f.type === 'batch' && assigns(f.messages as Frame[]).length > 1)).toBe(true);

    // Completions without accepts (a report counts as its accept), and one that is refused.
    const reports = assigns(seen.messages).map((a, i) => ({
      type: 'complete',
      ref: i + 1,
      taskId: a.taskId,
      leaseId: a.leaseId,
      result: i,
    }));
    client.send({
      type: 'batch',
      messages: [...reports, { type: 'complete', ref: 'bad', taskId: 't0', leaseId: 'not-the-lease' }],
    });
    await seen.until((m) => m.filter((x) => x.type === 'ack' || x.type === 'error').length === 6);
    const answers = seen.messages.filter((m) => m.type === 'ack' || m.type === 'error');
    for (let i = 1; i <= 5; i++)
      expect(answers.find((a) => a.ref === i)).toMatchObject({
        type: 'ack',
        of: 'complete',
        applied: true,
        status: 'succeeded',
      });
    expect(answers.find((a) => a.ref === 'bad')).toMatchObject({ type: 'error', code: 'E_LEASE_MISMATCH' });
    expect(
      seen.frames.some((f) => f.type === 'batch' && (f.messages as Frame[]).filter((m) => m.type === 'ack').length > 1),
    ).toBe(true);
    await completed;
    for (let i = 0; i < 5; i++)
      expect(await t.runtime.tasks.get(`t${i}`)).toMatchObject({ status: 'succeeded', result: i });
    await client.close();
  });

  it('are not sent to an agent that did not ask, and refused from it', async () => {
    t = await startTestServer();
    const { client, welcome } = await RawClient.agent(t.url, { agentId: 'plain', capacity: 3 });
    expect(welcome.features).toEqual([]);
    const seen = tap(client);
    await t.runtime.tasks.createMany(Array.from({ length: 3 }, (_, i) => ({ id: `p${i}`, type: 'job' })));
    await seen.until((m) => assigns(m).length === 3);
    expect(seen.frames.every((f) => f.type === 'assign')).toBe(true);
    const refused = await client.request({ type: 'batch', messages: [{ type: 'heartbeat' }] });
    expect(refused).toMatchObject({ type: 'error', code: 'E_INVALID_MESSAGE' });
    expect(refused.message).toContain('"batch" feature');
    await client.close();
  });

  it('carry neither hello nor another batch', async () => {
    t = await startTestServer();
    const { client } = await RawClient.agent(t.url, { agentId: 'b', features: ['batch'] });
    const seen = tap(client);
    client.send({
      type: 'batch',
      messages: [
        { type: 'hello', ref: 1, agentId: 'b' },
        { type: 'batch', ref: 2, messages: [{ type: 'heartbeat' }] },
        { type: 'heartbeat', ref: 3 },
      ],
    });
    await seen.until((m) => m.length === 3);
    expect(seen.messages.find((m) => m.ref === 1)).toMatchObject({ type: 'error', code: 'E_INVALID_MESSAGE' });
    expect(seen.messages.find((m) => m.ref === 2)).toMatchObject({ type: 'error', code: 'E_INVALID_MESSAGE' });
    expect(seen.messages.find((m) => m.ref === 3)).toMatchObject({ type: 'ack', of: 'heartbeat' });
    await client.close();
  });

  it('count each message against the rate limit, except the answers to assignments', async () => {
    // The simulated clock does not move: the bucket never refills, only assignments add room.
    t = await startTestServer({ server: { rateLimit: { messagesPerSecond: 1, burst: 3 } } });
    const { client } = await RawClient.agent(t.url, { agentId: 'b', capacity: 10, features: ['batch'] });
    const seen = tap(client);
    await t.runtime.tasks.createMany(Array.from({ length: 10 }, (_, i) => ({ id: `r${i}`, type: 'job' })));
    await seen.until((m) => assigns(m).length === 10);
    // 20 messages, far past the burst of 3: each is the answer to an assignment.
    const reports = assigns(seen.messages).flatMap((a, i) => [
      { type: 'accept', ref: `a${i}`, taskId: a.taskId, leaseId: a.leaseId },
      { type: 'complete', ref: `c${i}`, taskId: a.taskId, leaseId: a.leaseId },
    ]);
    client.send({ type: 'batch', messages: reports });
    await seen.until((m) => m.filter((x) => typeof x.ref === 'string').length === 20);
    expect(seen.messages.filter((m) => typeof m.ref === 'string').every((m) => m.type === 'ack')).toBe(true);
    // Messages nobody asked for still meet the limit: the 2 tokens the hello left pass, then the bucket is empty.
    client.send({
      type: 'batch',
      messages: Array.from({ length: 5 }, (_, i) => ({ type: 'heartbeat', ref: 100 + i })),
    });
    await seen.until((m) => m.filter((x) => typeof x.ref === 'number' && x.ref >= 100).length === 5);
    const beats = seen.messages.filter((m) => typeof m.ref === 'number' && m.ref >= 100);
    expect(beats.filter((m) => m.type === 'ack')).toHaveLength(2);
    expect(beats.filter((m) => m.type === 'error' && m.code === 'E_RATE_LIMITED')).toHaveLength(3);
    await client.close();
  });
});

describe('the SDK and batches', () => {
  it('asks for batches, and runs tasks through them (each still starts before it completes)', async () => {
    t = await startTestServer();
    const started = new Set<string>();
    const order: string[] = [];
    t.runtime.events.subscribe({ types: ['task.started', 'task.completed'] }, (e) => {
      if (e.type === 'task.started') started.add(e.taskId as string);
      else if (!started.has(e.taskId as string)) order.push(`${e.taskId as string} completed before it started`);
    });
    const connected: Array<{ features: string[] }> = [];
    agent = await connectAgent({
      url: t.url,
      token: AGENT_TOKEN,
      id: 'sdk',
      capacity: 20,
      handler: (task) => ({ echo: task.id }),
    });
    agent.on('connected', (w) => connected.push(w));
    const completed = countEvents(t.runtime, { types: ['task.completed'] }, 40);
    await t.runtime.tasks.createMany(Array.from({ length: 40 }, (_, i) => ({ id: `s${i}`, type: 'job' })));
    await completed;
    expect(order).toEqual([]);
    expect(await t.runtime.tasks.get('s7')).toMatchObject({ status: 'succeeded', result: { echo: 's7' } });
  });

  it('says hello again without features to a server from before them, and sends plain frames', async () => {
    // A server of the earlier protocol: it refuses unknown hello fields, as the real one did.
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => 'troupe.v1' });
    await once(wss, 'listening');
    const received: Frame[] = [];
    const done = new Promise<void>((resolve) => {
      wss.on('connection', (socket: WebSocket) => {
        socket.on('message', (data) => {
          const m = JSON.parse(String(data)) as Frame;
          received.push(m);
          if (m.type === 'hello' && 'features' in m) {
            socket.send(
              JSON.stringify({
                type: 'error',
                ref: m.ref,
                code: 'E_INVALID_MESSAGE',
                message: 'invalid hello: (message): Unrecognized key: "features"',
              }),
            );
          } else if (m.type === 'hello') {
            socket.send(JSON.stringify(oldWelcome(m.ref)));
            socket.send(JSON.stringify(oldAssign()));
          } else {
            socket.send(
              JSON.stringify({
                type: 'ack',
                ref: m.ref,
                of: m.type,
                applied: true,
                status: m.type === 'accept' ? 'running' : 'succeeded',
              }),
            );
            if (m.type === 'complete') resolve();
          }
        });
      });
    });
    try {
      const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v1/ws`;
      agent = await connectAgent({
        url,
        token: AGENT_TOKEN,
        id: 'new-sdk',
        handler: () => 'ok',
        reconnect: false,
        heartbeats: false,
      });
      await done;
      expect(received.map((m) => m.type)).toEqual(['hello', 'hello', 'accept', 'complete']);
      expect(received[1]).not.toHaveProperty('features');
    } finally {
      await agent?.close();
      agent = undefined;
      wss.close();
    }
  });
});

function oldWelcome(ref: unknown): Record<string, unknown> {
  return {
    type: 'welcome',
    ref,
    protocol: 1,
    agentId: 'new-sdk',
    capabilities: [],
    capacity: 1,
    heartbeatIntervalMs: 15_000,
    staleAfterMs: 45_000,
    graceMs: 25_000,
    serverTime: 0,
    resumed: [],
    revoked: [],
    limits: {
      maxFrameBytes: 1_048_576,
      frameCutoffBytes: 4_194_304,
      maxBufferedBytes: 8_388_608,
      messagesPerSecond: 5_000,
      burst: 10_000,
      helloTimeoutMs: 10_000,
      maxSubscriptions: 64,
    },
  };
}

function oldAssign(): Record<string, unknown> {
  const task = {
    id: 'o1',
    status: 'offered',
    type: 'job',
    description: '',
    ticketId: null,
    phase: null,
    priority: 0,
    requires: [],
    dependsOn: [],
    pendingDependencies: [],
    input: null,
    role: null,
    attempt: 1,
    maxAttempts: 3,
    attempts: [],
    agentId: 'new-sdk',
    leaseId: 'o1#1',
    result: null,
    artifacts: {},
    quality: null,
    error: null,
    reason: null,
    progress: null,
    round: 1,
    feedback: null,
    createdAt: 0,
    queuedAt: 0,
    startedAt: null,
    retryAt: null,
    settledAt: null,
    notBefore: null,
    controls: {},
    redrives: [],
    waitingFor: null,
  };
  return {
    type: 'assign',
    taskId: 'o1',
    leaseId: 'o1#1',
    attempt: 1,
    task,
    context: { ticket: null, dependencies: {}, artifacts: {}, feedback: null, round: 1, attempt: 1, validation: null },
    deadlines: { acceptBy: null, finishWithinMs: null, heartbeatWithinMs: null },
    serverTime: 0,
  };
}

describe('batchFrames', () => {
  it('keeps each batch within the frame limit, and sends a message too long for any batch alone', async () => {
    const { batchFrames } = await import('../src/edge/server/batch-frames.js');
    const texts = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({ type: 'progress', ref: i, message: 'x'.repeat(1_000) }),
    );
    const frames = batchFrames([...texts, 'y'.repeat(20_000)], 12_000);
    expect(frames.length).toBeGreaterThan(2);
    for (const frame of frames.slice(0, -1)) expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(12_000);
    expect(frames.at(-1)).toBe('y'.repeat(20_000));
    const carried = frames
      .slice(0, -1)
      .flatMap((f) =>
        (JSON.parse(f) as Frame).type === 'batch'
          ? (JSON.parse(f) as { messages: Frame[] }).messages
          : [JSON.parse(f) as Frame],
      );
    expect(carried.map((m) => m.ref)).toEqual(texts.map((_, i) => i));
    expect(batchFrames(['{"type":"heartbeat"}'], 10)).toEqual(['{"type":"heartbeat"}']);
  });
});
