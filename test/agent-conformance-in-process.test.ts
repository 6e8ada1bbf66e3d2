import { createRuntime } from '../src/runtime.js';
import { SimulatedClock } from '../src/engine/clock.js';
import { describeAgentConformance } from './agent-conformance.js';

describeAgentConformance('in-process agents', async () => {
  const clock = new SimulatedClock(1_000_000);
  const runtime = createRuntime({ clock, retry: { backoff: { baseMs: 100, factor: 2, capMs: 10_000, jitter: 0 } } });
  return {
    runtime,
    clock,
    async addAgent(spec) {
      await runtime.agents.register(spec);
    },
    close: () => runtime.stop(),
  };
});
