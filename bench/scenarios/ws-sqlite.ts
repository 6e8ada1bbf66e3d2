import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../../src/runtime.js';
import { SqliteStore } from '../../src/engine/store/sqlite-store.js';
import type { Figure, Scenario } from '../harness.js';
import {
  BENCH_AGENT_TOKEN,
  dispatchFigures,
  drain,
  echoServer,
  serialDispatch,
  startAgentProcess,
  stopAgentProcess,
} from '../remote-agents.js';
import { startServer } from '../../src/edge/server/server.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 20_000);
const SERIAL = 2_000;

/** One configuration: a fresh SQLite file (synchronous NORMAL), `agents` x `capacity` in another process. */
async function measure(agents: number, capacity: number, withLatency: boolean): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-ws-sqlite-'));
  const runtime = createRuntime({ store: new SqliteStore({ path: join(dir, 'bench.db'), synchronous: 'NORMAL' }) });
  await runtime.start();
  const server = await startServer(runtime, { port: 0, agentTokens: [BENCH_AGENT_TOKEN] });
  const echo = await echoServer();
  const child = await startAgentProcess(server.url, echo.url, agents, capacity);
  const raw = await echo.trips;
  const shape = `${agents}x${capacity}`;
  const figures: Figure[] = [];
  const run = await drain(runtime, TASKS, ['noop']);
  figures.push({
    name: `sqlite: throughput ${shape}`,
    value: run.rate,
    unit: 'tasks/s',
    note: `${TASKS} no-op tasks, ${agents} agent(s) x capacity ${capacity} in another process`,
  });
  figures.push({
    name: `sqlite: server CPU per task ${shape}`,
    value: run.cpuUs,
    unit: 'us',
    note: 'runtime + WebSocket server process',
  });
  if (withLatency) {
    const serial = await serialDispatch(runtime, SERIAL);
    figures.push(...dispatchFigures('sqlite', serial.fromCreate, 'create call to assign', raw));
  }
  await stopAgentProcess(child);
  echo.close();
  await server.close();
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
  return figures;
}

/**
 * The configuration users run: agents in another process over WebSocket, on a SQLite file
 * (synchronous NORMAL). One agent of capacity 50 (the shape of BullMQ's worker at concurrency 50
 * in `npm run bench:peers`), and 8 agents x 64.
 */
export const wsSqlite: Scenario = {
  name: 'ws-sqlite',
  description:
    '20k no-op tasks, agents in another process over WebSocket, SQLite NORMAL (1x50 and 8x64); serial dispatch p99',
  async run(): Promise<Figure[]> {
    return [...(await measure(1, 50, true)), ...(await measure(8, 64, false))];
  },
};
