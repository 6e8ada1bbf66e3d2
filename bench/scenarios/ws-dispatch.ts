import { createRuntime } from '../../src/runtime.js';
import { MemoryStore } from '../../src/engine/store/memory-store.js';
import type { Figure, Scenario } from '../harness.js';
import {
  BENCH_AGENT_TOKEN,
  dispatchFigures,
  drain,
  echoServer,
  percentile,
  serialDispatch,
  startAgentProcess,
  stopAgentProcess,
} from '../remote-agents.js';
import { startServer } from '../../src/edge/server/server.js';

const TASKS = 20_000;
const AGENTS = 8;
const CAPACITY = 64;
const SERIAL = 2_000;

/** The same load through in-process agents, for scale: the runtime's own ceiling on this machine now. */
async function inProcessBaseline(): Promise<{ rate: number; cpuUs: number }> {
  const runtime = createRuntime({ store: new MemoryStore() });
  for (let i = 0; i < AGENTS; i++)
    await runtime.agents.register({ id: `local-${i}`, capacity: CAPACITY, handler: () => null });
  const measured = await drain(runtime, TASKS, []);
  await runtime.stop();
  return measured;
}

/**
 * Agents over loopback WebSocket, in a separate process, on the memory store: throughput of
 * 20,000 no-op tasks through 8 agents, and serial dispatch latency next to a raw `ws` round trip
 * of the same run. `ws-sqlite` measures the durable configuration users run.
 */
export const wsDispatch: Scenario = {
  name: 'ws-dispatch',
  description:
    '20k no-op tasks through 8 WebSocket agents in a child process, memory store; serial dispatch latency vs raw ws round trip',
  async run(): Promise<Figure[]> {
    const runtime = createRuntime({ store: new MemoryStore() });
    const server = await startServer(runtime, { port: 0, agentTokens: [BENCH_AGENT_TOKEN] });
    const echo = await echoServer();
    const child = await startAgentProcess(server.url, echo.url, AGENTS, CAPACITY);
    const raw = await echo.trips;
    const figures: Figure[] = [];

    const remote = await drain(runtime, TASKS, ['noop']);
    figures.push({
      name: 'memory: throughput 8x64',
      value: remote.rate,
      unit: 'tasks/s',
      target: { op: '>=', value: 15_000 },
      note: `${AGENTS} agents x capacity ${CAPACITY}, memory store`,
    });
    figures.push({
      name: 'memory: server CPU per task',
      value: remote.cpuUs,
      unit: 'us',
      note: 'runtime + WebSocket server process',
    });

    const serial = await serialDispatch(runtime, SERIAL);
    figures.push(...dispatchFigures('memory', serial.fromQueued, 'queued to assign', raw));
    figures.push({
      name: 'memory: dispatch p99 (create call to assign)',
      value: percentile(serial.fromCreate, 99),
      unit: 'ms',
    });

    await stopAgentProcess(child);
    echo.close();
    await server.close();
    await runtime.stop();
    const local = await inProcessBaseline();
    figures.push({
      name: 'in-process throughput, same load',
      value: local.rate,
      unit: 'tasks/s',
      note: 'for scale: the runtime alone',
    });
    figures.push({
      name: 'in-process CPU per task',
      value: local.cpuUs,
      unit: 'us',
      note: 'for scale: the runtime alone',
    });
    return figures;
  },
};
