import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESERVED_ID_PREFIXES } from '../src/core/reserved-ids.js';
import type { StoredActor } from '../src/engine/store/store.js';
import {
  AGENT_TOKEN,
  OBSERVER_TOKEN,
  RawClient,
  startTestServer,
  type TestServer,
} from './agent-conformance-helpers.js';

/**
 * Issue 11, item 1: ids never cross kinds. Tasks, tickets, phases, agents, coordinators and
 * pattern runs share one id space, and an id keeps the kind of its first actor forever. Every
 * entry point that takes an id is tried against an id of every other kind, live and settled:
 * each is refused with a documented code, and the actor under that id is left exactly as it was.
 */
const CLIENT_TOKEN = 'client-token-for-id-kinds-01';
let t: TestServer;
/** The connected agent of the fixture: it beats before the clock moves, so it never goes stale. */
let liveAgent: RawClient;

/** An id of each kind, and whether its actor is live or settled. */
const IDS = {
  'settled task': 'done-task',
  'live task': 'open-task',
  ticket: 'TICKET-1',
  'live agent': 'busy-agent',
  'settled agent': 'left-agent',
  coordinator: 'join-1',
  barrier: 'barrier-1',
  'pattern run': 'run-1',
} as const;
type Holder = keyof typeof IDS;

const stored = (id: string): Promise<StoredActor | undefined> => t.runtime.core.options.store.getActor(id);

/** What the store and the live registry hold under every id of the fixture. */
async function everything(): Promise<unknown> {
  const rows: Record<string, unknown> = {};
  for (const id of Object.values(IDS)) {
    const live = t.runtime.core.host.getLive(id);
    const row = await stored(id);
    // The connected agent's row is rewritten as its stale timer moves on; its content is compared.
    if (row && id === IDS['live agent']) row.updatedAt = 0;
    rows[id] = {
      stored: row,
      live: live ? { kind: live.kind, value: live.snapshot.value, context: live.snapshot.context } : null,
    };
  }
  return JSON.parse(JSON.stringify(rows));
}

beforeAll(async () => {
  t = await startTestServer({ server: { clientTokens: [CLIENT_TOKEN] } });
  const rt = t.runtime;
  await rt.agents.register({ id: 'worker', capabilities: ['done'], handler: () => ({ answer: 42 }) });
  await rt.tasks.create({ id: IDS['settled task'], type: 'job', requires: ['done'] });
  expect((await rt.tasks.wait(IDS['settled task'])).result).toEqual({ answer: 42 });
  await rt.tasks.create({ id: IDS['live task'], type: 'job', requires: ['nobody-has-this'] });
  await rt.tickets.create({
    id: IDS.ticket,
    title: 'a ticket',
    phases: [{ name: 'build', tasks: [{ id: 'build-1', type: 'x', requires: ['nobody-has-this'] }] }],
  });
  liveAgent = (await RawClient.agent(t.url, { agentId: IDS['live agent'] })).client;
  await rt.agents.register({ id: IDS['settled agent'], handler: () => null });
  await rt.agents.deregister(IDS['settled agent']);
  await rt.coordination.join({ id: IDS.coordinator, sources: [IDS['live task']] });
  await rt.coordination.barriers.create({ id: IDS.barrier, parties: 2 });
  await rt.patterns.apply({ pattern: 'pipeline', runId: IDS['pattern run'] });
  await rt.idle();
  expect((await stored(IDS['settled task']))?.settled).toBe(true);
  expect((await stored(IDS['settled agent']))?.settled).toBe(true);
});
afterAll(async () => t?.close());

/** Runs `attempt`, expects the code, and checks nothing stored or live under any fixture id changed. */
async function refused(attempt: () => Promise<unknown>, code: string): Promise<void> {
  const before = await everything();
  await expect(attempt()).rejects.toMatchObject({ code });
  await t.runtime.idle();
  expect(await everything()).toEqual(before);
}

const others = (...mine: Holder[]) => (Object.keys(IDS) as Holder[]).filter((k) => !mine.includes(k));

describe('an id keeps its first kind forever', () => {
  it("the review's case: hello with a settled task's id is refused and the task's result stays", async () => {
    const client = await RawClient.open(t.url, AGENT_TOKEN);
    const answer = await client.request({ type: 'hello', agentId: IDS['settled task'] });
    expect(answer).toMatchObject({
      type: 'error',
      code: 'E_DUPLICATE_ID',
      message: expect.stringContaining('a task with id "done-task"'),
    });
    await client.close();
    await t.runtime.idle();
    const task = await t.runtime.tasks.get(IDS['settled task']);
    expect(task).toMatchObject({ status: 'succeeded', result: { answer: 42 } });
    expect((await stored(IDS['settled task']))?.kind).toBe('task');
    await expect(t.runtime.agents.get(IDS['settled task'])).rejects.toMatchObject({ code: 'E_UNKNOWN_AGENT' });
  });

  for (const holder of others('live agent', 'settled agent')) {
    it(`agent hello over WebSocket with the id of a ${holder} is refused (E_DUPLICATE_ID)`, async () => {
      await liveAgent.request({ type: 'heartbeat' });
      await t.runtime.idle();
      const before = await everything();
      const client = await RawClient.open(t.url, AGENT_TOKEN);
      expect(await client.request({ type: 'hello', agentId: IDS[holder] })).toMatchObject({
        type: 'error',
        code: 'E_DUPLICATE_ID',
      });
      await client.close();
      await t.runtime.idle();
      // The grace period a refused hello might have started would mark the other actor lost.
      t.clock.advance(t.server.options.graceMs + 1);
      await t.runtime.idle();
      expect(await everything()).toEqual(before);
      await liveAgent.request({ type: 'heartbeat' });
    });

    it(`in-process agents.register with the id of a ${holder} is refused`, async () => {
      await refused(() => t.runtime.agents.register({ id: IDS[holder], handler: () => null }), 'E_DUPLICATE_ID');
    });
  }

  for (const holder of others('settled task', 'live task')) {
    it(`tasks.create and tasks.createMany with the id of a ${holder} are refused`, async () => {
      await refused(() => t.runtime.tasks.create({ id: IDS[holder], type: 'x' }), 'E_DUPLICATE_ID');
      await refused(
        () =>
          t.runtime.tasks.createMany([
            { id: `fresh-${holder.replace(/ /g, '-')}`, type: 'x' },
            { id: IDS[holder], type: 'x' },
          ]),
        'E_DUPLICATE_ID',
      );
      await expect(t.runtime.tasks.get(`fresh-${holder.replace(/ /g, '-')}`)).rejects.toMatchObject({
        code: 'E_UNKNOWN_TASK',
      });
    });
  }

  for (const holder of others('ticket')) {
    it(`tickets.create with the id of a ${holder} is refused`, async () => {
      await refused(() => t.runtime.tickets.create({ id: IDS[holder], title: 'x', phases: ['a'] }), 'E_DUPLICATE_ID');
    });
  }

  for (const holder of others('coordinator', 'barrier')) {
    it(`coordinators (join, barrier) with the id of a ${holder} are refused`, async () => {
      await refused(
        () => t.runtime.coordination.join({ id: IDS[holder], sources: [IDS['settled task']] }),
        'E_DUPLICATE_ID',
      );
      await refused(() => t.runtime.coordination.barriers.create({ id: IDS[holder], parties: 2 }), 'E_DUPLICATE_ID');
    });
  }

  for (const holder of others('pattern run')) {
    it(`a pattern run with the id of a ${holder} is refused`, async () => {
      await refused(() => t.runtime.patterns.apply({ pattern: 'pipeline', runId: IDS[holder] }), 'E_DUPLICATE_ID');
    });
  }

  it('reads by id answer "not found" for every other kind, in process, to observers and over HTTP', async () => {
    const observer = await RawClient.open(t.url, OBSERVER_TOKEN);
    const reads: Array<[string, (id: string) => Promise<unknown>, Holder[], string]> = [
      ['task', (id) => t.runtime.tasks.get(id), ['settled task', 'live task'], 'E_UNKNOWN_TASK'],
      ['agent', (id) => t.runtime.agents.get(id), ['live agent', 'settled agent'], 'E_UNKNOWN_AGENT'],
      ['ticket', (id) => t.runtime.tickets.get(id), ['ticket'], 'E_UNKNOWN_TICKET'],
    ];
    for (const [target, read, own, code] of reads) {
      for (const holder of others(...own)) {
        await expect(read(IDS[holder]), `${target} ${holder}`).rejects.toMatchObject({ code });
        expect(await observer.request({ type: 'query', target, id: IDS[holder] }), `${target} ${holder}`).toMatchObject(
          { type: 'error', code },
        );
      }
    }
    for (const holder of others('settled task', 'live task')) {
      const response = await fetch(`${t.server.httpUrl}/v1/tasks/${IDS[holder]}`, {
        headers: { Authorization: `Bearer ${CLIENT_TOKEN}` },
      });
      expect(response.status, holder).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('E_UNKNOWN_TASK');
    }
    await observer.close();
  });

  it('requests meant for one kind never reach another: agents.deregister, drain and lose; tasks.cancel; tickets.cancel; lease reports', async () => {
    for (const holder of others('live agent', 'settled agent')) {
      await refused(() => t.runtime.agents.deregister(IDS[holder]), 'E_UNKNOWN_AGENT');
      await refused(() => t.runtime.agents.drain(IDS[holder]), 'E_UNKNOWN_AGENT');
      // `lose` is the server's (a grace period ended): it must not touch a task of that id.
      const before = await everything();
      await t.runtime.agents.lose(IDS[holder], 'test');
      await t.runtime.idle();
      expect(await everything()).toEqual(before);
    }
    for (const holder of others('settled task', 'live task')) {
      await refused(() => t.runtime.tasks.cancel(IDS[holder]), 'E_UNKNOWN_TASK');
      await refused(
        () => t.runtime.leases.complete(IDS[holder], `${IDS[holder]}#made-up`, { result: 1 }),
        'E_UNKNOWN_TASK',
      );
    }
    for (const holder of others('ticket'))
      await refused(() => t.runtime.tickets.cancel(IDS[holder]), 'E_UNKNOWN_TICKET');
  });

  it('the host refuses a request addressed to the wrong kind, live or settled (E_ID_KIND_CONFLICT)', async () => {
    for (const holder of ['live task', 'settled task', 'ticket', 'coordinator'] as const) {
      const before = await everything();
      const outcome = await t.runtime.core.host.request(IDS[holder], { type: 'agent.lost', reason: 'x' }, 'agent');
      expect(outcome, holder).toMatchObject({ applied: false, error: { code: 'E_ID_KIND_CONFLICT' } });
      expect(await everything()).toEqual(before);
    }
  });

  it("ids with the runtime's own prefixes are reserved: every entry point refuses them", async () => {
    for (const prefix of RESERVED_ID_PREFIXES) {
      const id = `${prefix}mine`;
      await refused(() => t.runtime.tasks.create({ id, type: 'x' }), 'E_INVALID_INPUT');
      await refused(() => t.runtime.tickets.create({ id, title: 'x', phases: ['a'] }), 'E_INVALID_INPUT');
      await refused(() => t.runtime.agents.register({ id, handler: () => null }), 'E_INVALID_INPUT');
      await refused(() => t.runtime.coordination.join({ id, sources: [IDS['settled task']] }), 'E_INVALID_INPUT');
      await refused(() => t.runtime.patterns.apply({ pattern: 'pipeline', runId: id }), 'E_INVALID_INPUT');
      const client = await RawClient.open(t.url, AGENT_TOKEN);
      expect(await client.request({ type: 'hello', agentId: id })).toMatchObject({
        type: 'error',
        code: 'E_INVALID_MESSAGE',
        message: expect.stringContaining('reserved'),
      });
      await client.close();
    }
  });
});
