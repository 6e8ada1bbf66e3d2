import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { AGENT_MESSAGES } from '../src/edge/server/protocol/agent-messages.js';
import { SUBPROTOCOL } from '../src/edge/server/protocol/codes.js';
import { OBSERVER_MESSAGES } from '../src/edge/server/protocol/observer-messages.js';
import type { StoredActor } from '../src/engine/store/store.js';
import {
  AGENT_TOKEN,
  OBSERVER_TOKEN,
  RawClient,
  startTestServer,
  upgradeStatus,
  type TestServer,
} from './agent-conformance-helpers.js';

/**
 * Issue 11: a fuzz test of the WebSocket edge, on loopback. Agents and observers send random
 * frames and mutated frames of every message type (alone and in batches), and hostile tokens try
 * the upgrade. Checked: the server never crashes (health, an honest agent still works), every
 * error answer carries a code docs/protocol.md lists and every close a documented close code,
 * and no stored actor changes except through a valid lease (the honest agent's) or the sender's
 * own agent record. Bounded by a fixed number of runs and a seed (FUZZ_SEED overrides it).
 */
const doc = readFileSync(join(import.meta.dirname, '..', 'docs/protocol.md'), 'utf8');
const section = (from: string, to: string) => doc.slice(doc.indexOf(from), doc.indexOf(to, doc.indexOf(from)));
/** Every code named in the error tables of docs/protocol.md (both: the edge's and the runtime's). */
const DOCUMENTED_CODES = new Set(
  [...section('## Error codes', '## Close codes').matchAll(/`(E_[A-Z_]+)`/g)].map((m) => m[1] as string),
);
const DOCUMENTED_CLOSES = new Set(
  [...section('## Close codes', '## A whole exchange').matchAll(/^\| (\d{4}) \|/gm)].map((m) => Number(m[1])),
);
const SERVER_TYPES = new Set(['ack', 'error', 'welcome', 'assign', 'cancel', 'message', 'event', 'batch']);

const CLIENT_TOKEN = 'client-token-for-the-fuzz-01';
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 1_500);
const SEED = Number(process.env['FUZZ_SEED'] ?? 1_100_011);

let t: TestServer;
let honest: RawClient;
/** Task ids the fuzzers aim at (real ones), and the honest agent's leases on them (never given to fuzzers). */
const taskIds = ['fuzz-target-1', 'fuzz-target-2', 'fuzz-target-3'];

beforeAll(async () => {
  t = await startTestServer({
    server: {
      clientTokens: [CLIENT_TOKEN],
      maxViolations: { count: 50, windowMs: 60_000 },
      maxFrameBytes: 16_384,
      frameCutoffBytes: 65_536,
    },
  });
  // The honest agent holds a running lease on the first task; the others wait for a capability nobody fuzzing declares.
  honest = (await RawClient.agent(t.url, { agentId: 'honest', capabilities: ['only-honest'], capacity: 1 })).client;
  for (const id of taskIds) await t.runtime.tasks.create({ id, type: 'job', requires: ['only-honest'] });
  const assign = await honest.nextOfType('assign');
  await honest.request({ type: 'accept', taskId: assign.taskId, leaseId: assign.leaseId });
  await t.runtime.tickets.create({
    id: 'FUZZ-TICKET',
    title: 'fuzz',
    phases: [{ name: 'p', tasks: [{ id: 'fuzz-phase-task', type: 'x', requires: ['only-honest'] }] }],
  });
  await t.runtime.idle();
  expect(DOCUMENTED_CODES.size).toBeGreaterThan(15);
  expect(DOCUMENTED_CLOSES.has(4000)).toBe(true);
}, 30_000);
afterAll(async () => t?.close());

/** Every stored actor but the fuzzers' own agents, as JSON (the honest agent's clock-driven fields left out). */
async function storedState(): Promise<Record<string, unknown>> {
  const actors: StoredActor[] = await t.runtime.core.options.store.listActors({});
  const rows: Record<string, unknown> = {};
  for (const a of actors) {
    if (a.kind === 'agent' && a.id !== 'honest') continue;
    rows[a.id] = { kind: a.kind, state: a.state, context: a.context, settled: a.settled };
  }
  for (const a of t.runtime.core.host.liveActors()) {
    if (a.kind === 'agent' && a.id !== 'honest') continue;
    rows[`live:${a.id}`] = { value: a.snapshot.value, context: a.snapshot.context };
  }
  return JSON.parse(JSON.stringify(rows)) as Record<string, unknown>;
}

const ids = fc.oneof(
  fc.constantFrom(...taskIds, 'honest', 'FUZZ-TICKET', 'FUZZ-TICKET/p', 'fuzz-phase-task', 'resource:x', ''),
  fc.string({ maxLength: 30 }),
);
const leaseIds = fc.oneof(fc.constantFrom(...taskIds.map((id) => `${id}#made-up`)), fc.string({ maxLength: 40 }));
const anyJson = fc.jsonValue({ maxDepth: 4 });
const ref = fc.oneof(fc.integer(), fc.string({ maxLength: 10 }), fc.constant(undefined));

/** A well-formed message of each type, built from the ids above: the seeds the mutations start from. */
const baseAgent: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  hello: fc.record(
    {
      agentId: fc.oneof(
        fc.constantFrom('honest', 'fuzz-a', 'fuzz-b', 'fuzz-target-1', 'quality:x'),
        fc.string({ maxLength: 20 }),
      ),
      capabilities: fc.array(fc.constantFrom('x', 'y'), { maxLength: 3 }),
      capacity: fc.integer({ min: -2, max: 20 }),
      held: fc.array(fc.record({ taskId: ids, leaseId: leaseIds }), { maxLength: 3 }),
      resumeSecret: fc.string({ maxLength: 40 }),
      features: fc.array(fc.constantFrom('batch', 'nope'), { maxLength: 2 }),
    },
    { requiredKeys: ['agentId'] },
  ),
  accept: fc.record({ taskId: ids, leaseId: leaseIds }),
  reject: fc.record(
    { taskId: ids, leaseId: leaseIds, reason: fc.string({ maxLength: 20 }) },
    { requiredKeys: ['taskId', 'leaseId'] },
  ),
  progress: fc.record(
    {
      taskId: ids,
      leaseId: leaseIds,
      value: fc.oneof(fc.double(), fc.constant(null)),
      message: fc.string({ maxLength: 20 }),
    },
    { requiredKeys: ['taskId', 'leaseId'] },
  ),
  heartbeat: fc.record({ taskId: ids, leaseId: leaseIds }, { requiredKeys: [] }),
  complete: fc.record(
    {
      taskId: ids,
      leaseId: leaseIds,
      result: anyJson,
      artifacts: fc.dictionary(fc.string({ maxLength: 5 }), anyJson, { maxKeys: 3 }),
      quality: fc.double(),
    },
    { requiredKeys: ['taskId', 'leaseId'] },
  ),
  fail: fc.record(
    {
      taskId: ids,
      leaseId: leaseIds,
      error: fc.string({ maxLength: 20 }),
      category: fc.constantFrom('transient', 'permanent', 'timeout', 'cancelled', 'bogus'),
      retryable: fc.boolean(),
      code: fc.string({ maxLength: 12 }),
    },
    { requiredKeys: ['taskId', 'leaseId', 'error'] },
  ),
  message: fc.record(
    {
      to: fc.oneof(fc.constantFrom('honest', 'fuzz-a', 'nobody'), fc.string({ maxLength: 10 })),
      body: anyJson,
      ticketId: ids,
    },
    { requiredKeys: ['to'] },
  ),
  goodbye: fc.constant({}),
};
const baseObserver: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  subscribe: fc.record(
    {
      filter: fc.record(
        {
          ticketId: ids,
          taskId: ids,
          agentId: ids,
          types: fc.array(fc.constantFrom('task.*', '*', 'x', ''), { maxLength: 3 }),
        },
        { requiredKeys: [] },
      ),
      afterSeq: fc.oneof(fc.integer({ min: -5, max: 50 }), fc.double()),
    },
    { requiredKeys: [] },
  ),
  unsubscribe: fc.record({ subscription: fc.oneof(fc.constantFrom('s1', 's2'), fc.string({ maxLength: 10 })) }),
  query: fc.record({ target: fc.constantFrom('task', 'ticket', 'agent', 'planet'), id: ids }),
};
// Every message type of both roles has a generator: a new type must get one.
expect(Object.keys(baseAgent).sort()).toEqual(
  Object.keys(AGENT_MESSAGES)
    .filter((k) => k !== 'batch')
    .sort(),
);
expect(Object.keys(baseObserver).sort()).toEqual(Object.keys(OBSERVER_MESSAGES).sort());

type Mutation = (m: Record<string, unknown>) => unknown;
const mutations: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant((m: Record<string, unknown>) => m),
  fc.constant((m: Record<string, unknown>) => m),
  fc.string({ maxLength: 12 }).map((k) => (m: Record<string, unknown>) => ({ ...m, [k]: 1 })),
  fc.constant((m: Record<string, unknown>) => Object.fromEntries(Object.entries(m).slice(1))),
  anyJson.map(
    (v) => (m: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(m).map(([k, old], i) => [k, i === 1 ? v : old])),
  ),
  fc.constant((m: Record<string, unknown>) => ({ ...m, type: String(m.type).toUpperCase() })),
  fc.constant((m: Record<string, unknown>) => [m]),
  fc.constant((m: Record<string, unknown>) => JSON.stringify(m)),
  fc.integer({ min: 990, max: 1_010 }).map((depth) => (m: Record<string, unknown>) => {
    let deep: unknown = 1;
    for (let i = 0; i < depth; i++) deep = [deep];
    return { ...m, result: deep };
  }),
);

/** One frame as sent: text (valid or broken JSON) or binary. */
type Frame = { text: string } | { binary: Uint8Array };
function frameOf(value: unknown): Frame {
  return { text: JSON.stringify(value) ?? 'undefined' };
}
const typed = (bases: Record<string, fc.Arbitrary<Record<string, unknown>>>) =>
  fc.oneof(
    ...Object.entries(bases).map(([type, base]) =>
      fc
        .tuple(base, ref, mutations)
        .map(([fields, r, mutate]) => mutate({ type, ...(r === undefined ? {} : { ref: r }), ...fields })),
    ),
  );
const framesFor = (bases: Record<string, fc.Arbitrary<Record<string, unknown>>>): fc.Arbitrary<Frame> =>
  fc.oneof(
    { weight: 6, arbitrary: typed(bases).map(frameOf) },
    {
      weight: 1,
      arbitrary: fc
        .array(typed(bases), { minLength: 1, maxLength: 5 })
        .map((messages) => frameOf({ type: 'batch', messages })),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(frameOf) },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((text) => ({ text })) },
    { weight: 1, arbitrary: typed(bases).map((m) => ({ text: JSON.stringify(m).slice(0, -1) })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((binary) => ({ binary })) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 16_000, max: 20_000 })
        .map((n) => ({ text: JSON.stringify({ type: 'heartbeat', pad: 'x'.repeat(n) }) })),
    },
  );

/** Sends the frames on one connection, closes it, and returns every frame received and the close code. */
async function session(
  token: string,
  opening: Record<string, unknown> | null,
  frames: Frame[],
): Promise<{ received: Array<Record<string, unknown>>; close: number }> {
  const socket = new WebSocket(t.url, [SUBPROTOCOL], { headers: { Authorization: `Bearer ${token}` } });
  const received: Array<Record<string, unknown>> = [];
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  socket.on('message', (data, isBinary) => {
    expect(isBinary).toBe(false);
    received.push(JSON.parse(String(data)) as Record<string, unknown>);
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', () => reject(new Error('upgrade refused')));
  });
  if (opening) socket.send(JSON.stringify(opening));
  for (const frame of frames) {
    if (socket.readyState !== WebSocket.OPEN) break;
    if ('binary' in frame) socket.send(frame.binary, { binary: true });
    else socket.send(frame.text);
  }
  // A request of its own at the end: once it is answered, what came before has been read.
  if (socket.readyState === WebSocket.OPEN) {
    const sentinel = opening
      ? { type: 'heartbeat', ref: 'sentinel' }
      : { type: 'query', ref: 'sentinel', target: 'agent', id: 'honest' };
    socket.send(JSON.stringify(sentinel));
    await Promise.race([
      closed,
      new Promise<void>((resolve) => {
        const check = () =>
          received.some(
            (f) =>
              f.ref === 'sentinel' ||
              (f.type === 'batch' && (f.messages as Array<{ ref?: unknown }>).some((m) => m.ref === 'sentinel')),
          )
            ? resolve()
            : setTimeout(check, 5);
        check();
      }),
    ]);
  }
  await t.runtime.idle();
  socket.close();
  return { received, close: await closed };
}

function checkAnswers(received: Array<Record<string, unknown>>, close: number): void {
  const frames = received.flatMap((f) => (f.type === 'batch' ? (f.messages as Array<Record<string, unknown>>) : [f]));
  for (const frame of frames) {
    expect(SERVER_TYPES.has(String(frame.type)), JSON.stringify(frame).slice(0, 200)).toBe(true);
    if (frame.type === 'error')
      expect(DOCUMENTED_CODES.has(String(frame.code)), `undocumented code ${String(frame.code)}`).toBe(true);
  }
  // 1005: our own close without a status; 1006: the server dropped the socket (a cutoff frame).
  expect(DOCUMENTED_CLOSES.has(close) || close === 1005 || close === 1006, `undocumented close ${close}`).toBe(true);
}

describe('fuzzing the WebSocket edge', () => {
  it(`agents and observers send random and mutated frames of every type (${RUNS} runs): documented answers, nothing changed without a lease, no crash`, async () => {
    const before = await storedState();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.boolean(),
        fc.array(framesFor(baseAgent), { minLength: 1, maxLength: 12 }),
        fc.array(framesFor(baseObserver), { minLength: 1, maxLength: 12 }),
        async (asAgent, sayHello, agentFrames, observerFrames) => {
          n += 1;
          const hello = sayHello
            ? { type: 'hello', ref: 'hello', agentId: `fuzz-${n % 7}`, features: ['batch'] }
            : null;
          const { received, close } = asAgent
            ? await session(AGENT_TOKEN, hello, agentFrames)
            : await session(OBSERVER_TOKEN, null, observerFrames);
          checkAnswers(received, close);
          expect(t.runtime.core.host.failed).toBeFalsy();
        },
      ),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    expect(await storedState()).toEqual(before);
    // Still serving: health, and the honest agent's lease works.
    expect((await fetch(`${t.server.httpUrl}/healthz`)).status).toBe(200);
    expect(await honest.request({ type: 'heartbeat' })).toMatchObject({ type: 'ack' });
  }, 240_000);

  it('hostile tokens never open a connection: random, client, empty, oversized', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 40 }),
          fc.constant(CLIENT_TOKEN),
          fc.constant('x'.repeat(5_000)),
          fc.constant(`${AGENT_TOKEN} `),
        ),
        async (token) => {
          const headers: Record<string, string> = /^[\x21-\x7e]*$/.test(token)
            ? { Authorization: `Bearer ${token}` }
            : {};
          expect([400, 401, 403, 431]).toContain(await upgradeStatus(t.url, headers));
        },
      ),
      { numRuns: 40, seed: SEED },
    );
    expect((await fetch(`${t.server.httpUrl}/healthz`)).status).toBe(200);
  }, 60_000);
});
