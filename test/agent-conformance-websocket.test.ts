import { connectAgent, type RemoteAgent } from '../src/edge/sdk/index.js';
import { AGENT_TOKEN, startTestServer } from './agent-conformance-helpers.js';
import { describeAgentConformance } from './agent-conformance.js';

describeAgentConformance('WebSocket agents (connectAgent)', async () => {
  const t = await startTestServer();
  const agents: RemoteAgent[] = [];
  return {
    runtime: t.runtime,
    clock: t.clock,
    async addAgent(spec) {
      agents.push(await connectAgent({ ...spec, url: t.url, token: AGENT_TOKEN, clock: t.clock }));
    },
    async close() {
      await Promise.all(agents.map((a) => a.close()));
      await t.close();
    },
  };
});
