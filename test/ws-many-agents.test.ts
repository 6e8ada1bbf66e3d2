import { afterEach, describe, expect, it } from 'vitest';
import { connectAgent, type RemoteAgent } from '../src/edge/sdk/index.js';
import { AGENT_TOKEN, startTestServer, type TestServer } from './agent-conformance-helpers.js';

let t: TestServer;
let agents: RemoteAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.map((a) => a.close()));
  agents = [];
  await t?.close();
});

describe('many agents at once', () => {
  it('50 agents connect together and share 500 tasks, each completed once', async () => {
    t = await startTestServer();
    agents = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        connectAgent({
          url: t.url,
          token: AGENT_TOKEN,
          id: `agent-${i}`,
          capabilities: ['work'],
          capacity: 2,
          clock: t.clock,
          handler: async (task) => ({ by: `agent-${i}`, n: task.input }),
        }),
      ),
    );
    expect(t.server.connectedAgents()).toBe(50);
    const health = (await (await fetch(`${t.server.httpUrl}/healthz`)).json()) as { agents: number };
    expect(health.agents).toBe(50);
    const tasks = await t.runtime.tasks.createMany(
      Array.from({ length: 500 }, (_, i) => ({ id: `t${i}`, type: 'work', requires: ['work'], input: i })),
    );
    const done = await Promise.all(tasks.map((task) => t.runtime.tasks.wait(task.id)));
    expect(done.every((task) => task.status === 'succeeded' && task.attempt === 1)).toBe(true);
    expect(done.map((task) => (task.result as { n: number }).n)).toEqual(tasks.map((_, i) => i));
    const workers = new Set(done.map((task) => (task.result as { by: string }).by));
    expect(workers.size).toBe(50);
    await t.runtime.idle();
    expect(t.runtime.events.history({ types: ['task.completed'], limit: 1_000 })).toHaveLength(500);
  });
});
