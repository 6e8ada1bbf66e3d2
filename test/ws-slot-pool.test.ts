import { afterEach, describe, expect, it } from 'vitest';
import { connectAgent, SlotPool, type RemoteAgent } from '../src/edge/sdk/index.js';
import type { TroupeEvent } from '../src/index.js';
import { AGENT_TOKEN, startTestServer, type TestServer } from './agent-conformance-helpers.js';

let t: TestServer;
let agents: RemoteAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.map((a) => a.close()));
  agents = [];
  await t?.close();
});

/** Resolves with the next event of `type` the runtime publishes. */
function next(type: string): Promise<TroupeEvent> {
  return new Promise((resolve) => {
    const off = t.runtime.events.subscribe({ types: [type] }, (event) => {
      off();
      resolve(event);
    });
  });
}

describe('a slot pool shared by the connections of one worker', () => {
  it('runs no more at once than the pool holds, rejecting the rest as busy until a slot is free', async () => {
    t = await startTestServer();
    const slots = new SlotPool(1);
    let running = 0;
    let most = 0;
    const release = new Map<string, () => void>();
    const started: string[] = [];
    const handler = async (task: { id: string }) => {
      running += 1;
      most = Math.max(most, running);
      started.push(task.id);
      await new Promise<void>((resolve) => release.set(task.id, resolve));
      running -= 1;
      return { ran: task.id };
    };
    // The shape connectClusterAgent gives an agent with fewer slots than shards: a connection
    // of capacity 1 to each of two places, one pool of 1 between them.
    for (const k of [0, 1]) {
      agents.push(
        await connectAgent({
          url: t.url,
          token: AGENT_TOKEN,
          id: `w@${k}`,
          capabilities: ['work'],
          capacity: 1,
          slots,
          clock: t.clock,
          handler,
        }),
      );
    }
    const rejected = next('task.rejected');
    const firstStarted = next('task.started');
    await t.runtime.tasks.createMany([
      { id: 'a', type: 'work', requires: ['work'] },
      { id: 'b', type: 'work', requires: ['work'] },
    ]);
    // One task goes to each connection: one takes the slot, the other is refused as busy.
    const refusal = await rejected;
    await firstStarted;
    expect(started).toHaveLength(1);
    expect(slots.used).toBe(1);
    const first = started[0] as string;
    const second = first === 'a' ? 'b' : 'a';
    expect(refusal.taskId).toBe(second);
    expect(['w@0', 'w@1']).toContain(refusal.agentId);
    expect((await t.runtime.tasks.get(second)).status).toBe('queued');

    // The slot comes back when the first handler ends and the refused task runs: at once on the
    // connection that did not refuse it, or after the reject cooldown on the other one.
    const secondStarted = next('task.started');
    release.get(first)?.();
    expect((await t.runtime.tasks.wait(first)).status).toBe('succeeded');
    await t.runtime.idle();
    if (started.length < 2) await t.clock.advance(5_000);
    await secondStarted;
    expect(started).toEqual([first, second]);
    expect(slots.used).toBe(1);
    release.get(second)?.();
    expect((await t.runtime.tasks.wait(second)).result).toEqual({ ran: second });
    expect(most).toBe(1);
    expect(slots.used).toBe(0);
  });

  it('refuses a pool of no slots', () => {
    expect(() => new SlotPool(0)).toThrow(RangeError);
    expect(() => new SlotPool(1.5)).toThrow(RangeError);
  });
});
