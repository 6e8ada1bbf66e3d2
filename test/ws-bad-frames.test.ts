import { afterEach, describe, expect, it } from 'vitest';
import {
  AGENT_TOKEN,
  OBSERVER_TOKEN,
  RawClient,
  startTestServer,
  type TestServer,
} from './agent-conformance-helpers.js';

/** The edge distrusts its input: every bad frame gets a code naming the problem, and life goes on. */
let t: TestServer;
afterEach(async () => t?.close());

const lenient = { maxFrameBytes: 2_048, frameCutoffBytes: 8_192, maxViolations: { count: 100, windowMs: 60_000 } };

describe('bad frames', () => {
  it('names every kind of bad frame, and the connection and the runtime keep working', async () => {
    t = await startTestServer({ server: lenient });
    const { client } = await RawClient.agent(t.url, { agentId: 'sloppy' });
    const cases: Array<[string | Buffer | object, string, RegExp, { binary?: boolean }?]> = [
      ['{"type": "heartbeat",', 'E_NOT_JSON', /not JSON/],
      [Buffer.from([1, 2, 3]), 'E_BINARY_FRAME', /binary/, { binary: true }],
      ['[1, 2, 3]', 'E_INVALID_MESSAGE', /JSON object/],
      ['42', 'E_INVALID_MESSAGE', /JSON object/],
      [{ ref: 1 }, 'E_UNKNOWN_TYPE', /no "type"/],
      [{ type: 'teleport', ref: 2 }, 'E_UNKNOWN_TYPE', /"teleport" is not a message type/],
      [{ type: 'accept', ref: 3, taskId: 5, leaseId: 'x' }, 'E_INVALID_MESSAGE', /taskId: .*string/],
      [{ type: 'complete', ref: 4, taskId: 'x' }, 'E_INVALID_MESSAGE', /leaseId/],
      [{ type: 'heartbeat', ref: 5, sneaky: true }, 'E_INVALID_MESSAGE', /sneaky/],
      [{ type: 'heartbeat', ref: 6, taskId: 'x' }, 'E_INVALID_MESSAGE', /taskId and leaseId go together/],
      [{ type: 'progress', ref: 7, taskId: 'x', leaseId: 'y', value: 'lots' }, 'E_INVALID_MESSAGE', /value/],
      [
        { type: 'fail', ref: 8, taskId: 'x', leaseId: 'y', error: 'e', category: 'whatever' },
        'E_INVALID_MESSAGE',
        /category/,
      ],
      [{ type: 'subscribe', ref: 9 }, 'E_FORBIDDEN', /observer connections/],
      [{ type: 'hello', ref: 10, agentId: 'again' }, 'E_ALREADY_HELLO', /already/],
      [JSON.stringify({ type: 'heartbeat', pad: 'x'.repeat(4_000) }), 'E_FRAME_TOO_LARGE', /over the limit of 2048/],
    ];
    for (const [frame, code, message, options] of cases) {
      client.send(frame, options);
      const error = await client.nextOfType('error');
      expect(error, JSON.stringify(frame).slice(0, 80)).toMatchObject({
        code,
        message: expect.stringMatching(message),
      });
      if (typeof frame === 'object' && !Buffer.isBuffer(frame) && 'ref' in frame) expect(error.ref).toBe(frame.ref);
    }
    expect(await client.request({ type: 'heartbeat' })).toMatchObject({ type: 'ack' });
    const task = await t.runtime.tasks.create({ id: 'still-fine', type: 'job' });
    const assign = await client.nextOfType('assign');
    await client.request({ type: 'accept', taskId: task.id, leaseId: assign.leaseId });
    expect(await client.request({ type: 'complete', taskId: task.id, leaseId: assign.leaseId })).toMatchObject({
      applied: true,
    });
    await client.close();
  });

  it('asks for hello before anything else, and refuses a malformed hello without closing', async () => {
    t = await startTestServer({ server: lenient });
    const client = await RawClient.open(t.url, AGENT_TOKEN);
    expect(await client.request({ type: 'heartbeat' })).toMatchObject({ code: 'E_HELLO_REQUIRED' });
    expect(await client.request({ type: 'hello', agentId: 'has spaces' })).toMatchObject({
      code: 'E_INVALID_MESSAGE',
      message: /agentId/,
    });
    expect(await client.request({ type: 'hello', agentId: 'fine', capacity: 0 })).toMatchObject({
      code: 'E_INVALID_MESSAGE',
      message: /capacity/,
    });
    expect(await client.request({ type: 'hello', agentId: 'fine' })).toMatchObject({ type: 'welcome' });
    await client.close();
  });

  it('gives observers the same answers, and refuses agent messages from them', async () => {
    t = await startTestServer({ server: lenient });
    const observer = await RawClient.open(t.url, OBSERVER_TOKEN);
    expect(await observer.request({ type: 'hello', agentId: 'impostor' })).toMatchObject({
      code: 'E_FORBIDDEN',
      message: /agent connections/,
    });
    expect(await observer.request({ type: 'complete', taskId: 'x', leaseId: 'y' })).toMatchObject({
      code: 'E_FORBIDDEN',
    });
    expect(await observer.request({ type: 'query', target: 'planet', id: 'x' })).toMatchObject({
      code: 'E_INVALID_MESSAGE',
      message: /target/,
    });
    observer.send('not json');
    expect(await observer.nextOfType('error')).toMatchObject({ code: 'E_NOT_JSON', ref: null });
    expect(await observer.request({ type: 'subscribe' })).toMatchObject({ type: 'ack', of: 'subscribe' });
    await observer.close();
  });

  it('closes with 1009 on a frame past the cut-off, without reading it', async () => {
    t = await startTestServer({ server: lenient });
    const { client } = await RawClient.agent(t.url, { agentId: 'huge' });
    client.send(JSON.stringify({ type: 'heartbeat', pad: 'x'.repeat(10_000) }));
    expect((await client.closed).code).toBe(1009);
    expect(await RawClient.agent(t.url, { agentId: 'next' })).toBeTruthy();
  });

  it('closes with 1007 on a text frame that is not UTF-8', async () => {
    t = await startTestServer({ server: lenient });
    const { client } = await RawClient.agent(t.url, { agentId: 'garbled' });
    client.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await client.closed).code).toBe(1007);
  });

  it('closes a repeat offender with 4000', async () => {
    t = await startTestServer({ server: { maxViolations: { count: 3, windowMs: 60_000 } } });
    const { client } = await RawClient.agent(t.url, { agentId: 'offender' });
    for (let i = 0; i < 4; i++) client.send('garbage');
    expect((await client.closed).code).toBe(4000);
    expect(client.pending.filter((f) => f.code === 'E_NOT_JSON')).toHaveLength(4);
  });

  it('rate-limits messages per connection on the runtime clock', async () => {
    t = await startTestServer({ server: { rateLimit: { messagesPerSecond: 2, burst: 3 } } });
    const { client } = await RawClient.agent(t.url, { agentId: 'eager' }); // the hello took one token
    expect(await client.request({ type: 'heartbeat' })).toMatchObject({ type: 'ack' });
    expect(await client.request({ type: 'heartbeat' })).toMatchObject({ type: 'ack' });
    expect(await client.request({ type: 'heartbeat' })).toMatchObject({ type: 'error', code: 'E_RATE_LIMITED' });
    await t.clock.advance(500); // one token back
    expect(await client.request({ type: 'heartbeat' })).toMatchObject({ type: 'ack' });
    expect(await client.request({ type: 'heartbeat' })).toMatchObject({ code: 'E_RATE_LIMITED' });
    await client.close();
  });

  it('closes an agent connection that does not say hello in time with 4003', async () => {
    t = await startTestServer({ server: { helloTimeoutMs: 5_000 } });
    const quiet = await RawClient.open(t.url, AGENT_TOKEN);
    const { client: polite } = await RawClient.agent(t.url, { agentId: 'polite' });
    await t.clock.advance(5_000);
    expect((await quiet.closed).code).toBe(4003);
    expect(await polite.request({ type: 'heartbeat' })).toMatchObject({ type: 'ack' });
    await polite.close();
  });
});
