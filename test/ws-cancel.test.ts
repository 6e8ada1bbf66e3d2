import { afterEach, describe, expect, it } from 'vitest';
import { connectAgent, type RemoteAgent } from '../src/edge/sdk/index.js';
import { AGENT_TOKEN, nextEvent, startTestServer, type TestServer } from './agent-conformance-helpers.js';

let t: TestServer;
let agents: RemoteAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.map((a) => a.close()));
  agents = [];
  await t?.close();
});

/** An agent whose handler runs until aborted, reporting the abort reason. */
async function waitingAgent(
  id: string,
  started: (taskId: string) => void,
  aborted: (taskId: string, reason: unknown) => void,
) {
  const agent = await connectAgent({
    url: t.url,
    token: AGENT_TOKEN,
    id,
    clock: t.clock,
    handler: (task, ctx) =>
      new Promise((resolve) => {
        ctx.signal.addEventListener('abort', () => {
          aborted(task.id, ctx.signal.reason);
          // A handler that returns after the abort: its result must go nowhere.
          resolve('finished anyway');
        });
        started(task.id);
      }),
  });
  agents.push(agent);
  return agent;
}

describe('cancel reaching running agents', () => {
  it('cancelling a ticket aborts every running handler of it, and their late results are dropped', async () => {
    t = await startTestServer();
    const started = new Set<string>();
    const aborted = new Map<string, unknown>();
    let allStarted: () => void = () => {};
    const running = new Promise<void>((resolve) => (allStarted = resolve));
    let allAborted: () => void = () => {};
    const stopped = new Promise<void>((resolve) => (allAborted = resolve));
    for (let i = 0; i < 3; i++) {
      await waitingAgent(
        `w${i}`,
        (id) => {
          started.add(id);
          if (started.size === 3) allStarted();
        },
        (id, reason) => {
          aborted.set(id, reason);
          if (aborted.size === 3) allAborted();
        },
      );
    }
    await t.runtime.tickets.create({
      id: 'T',
      title: 'to be cancelled',
      phases: [{ name: 'work', tasks: [0, 1, 2].map((i) => ({ id: `T-${i}`, type: 'slow' })) }],
    });
    await running;
    await t.runtime.tickets.cancel('T', 'the customer changed their mind');
    await stopped;
    for (const reason of aborted.values())
      expect(reason).toMatchObject({ code: 'E_CANCELLED', message: 'the customer changed their mind' });
    await t.runtime.idle();
    for (let i = 0; i < 3; i++)
      expect(await t.runtime.tasks.get(`T-${i}`)).toMatchObject({ status: 'cancelled', result: null });
    expect(agents.every((a) => a.running === 0)).toBe(true);
  });

  it('a deadline that passes while the agent works cancels it there, and the attempt is retried', async () => {
    t = await startTestServer();
    const reasons: unknown[] = [];
    let release: () => void = () => {};
    const first = new Promise<void>((resolve) => (release = resolve));
    const agent = await waitingAgent(
      'slowpoke',
      () => release(),
      (_id, reason) => reasons.push(reason),
    );
    const cancelled = new Promise((resolve) => agent.once('cancelled', resolve));
    const runningNow = nextEvent(t.runtime, { types: ['task.started'], taskId: 'deadline' });
    await t.runtime.tasks.create({
      id: 'deadline',
      type: 'slow',
      timeouts: { finish: 5_000 },
      retry: { maxAttempts: 2 },
    });
    await Promise.all([first, runningNow]); // the deadline counts from the accept
    const retrying = nextEvent(t.runtime, { types: ['task.retrying'], taskId: 'deadline' });
    await t.clock.advance(5_000);
    expect(await cancelled).toMatchObject({ taskId: 'deadline', reason: 'finish deadline passed' });
    expect((await retrying).data.error).toMatchObject({ category: 'timeout', timeout: 'finish' });
    expect(reasons[0]).toMatchObject({ code: 'E_CANCELLED', message: 'finish deadline passed' });
  });
});

describe('an agent removed by the runtime', () => {
  it('is told with 4004 and stops, and its task goes back to the queue', async () => {
    t = await startTestServer();
    let started: () => void = () => {};
    const running = new Promise<void>((resolve) => (started = resolve));
    const agent = await waitingAgent(
      'retiring',
      () => started(),
      () => undefined,
    );
    const stopped = new Promise<Error | null>((resolve) => agent.once('stopped', resolve));
    const closed = new Promise((resolve) => agent.once('disconnected', resolve));
    await t.runtime.tasks.create({ id: 'handed-back', type: 'slow' });
    await running;
    await t.runtime.agents.deregister('retiring', 'replaced by a bigger machine');
    expect(await closed).toMatchObject({ code: 4004 });
    expect((await stopped)?.message).toMatch(/removed this agent/);
    expect(agent.running).toBe(0);
    await t.runtime.idle();
    expect((await t.runtime.tasks.get('handed-back')).status).toMatch(/retrying|queued/);
  });
});
