import { createRuntime } from '../../src/runtime.js';
import { PostgresStore } from '../../src/engine/store/postgres-store.js';
import { startServer } from '../../src/edge/server/server.js';
import { startPostgres } from '../../test/support/throwaway-postgres.js';
import type { Figure, Scenario } from '../harness.js';
import { BENCH_AGENT_TOKEN, drain, echoServer, startAgentProcess, stopAgentProcess } from '../remote-agents.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 10_000);

/**
 * One node on PostgreSQL (fsync on) in the shape of pg-boss in `npm run bench:peers`: no-op
 * tasks created in batches of 1,000, one agent of capacity 50 in another process over WebSocket.
 * `BENCH_PG_URL` runs it on a server already up (bench:peers gives the one pg-boss ran on, so
 * both rows come from the same PostgreSQL), in a schema of its own; else a throwaway server.
 */
async function measure(url: string): Promise<Figure[]> {
  const schema = `troupe_bench_${Date.now()}`;
  const runtime = createRuntime({ store: new PostgresStore({ url, schema }) });
  await runtime.start();
  const server = await startServer(runtime, { port: 0, agentTokens: [BENCH_AGENT_TOKEN] });
  const echo = await echoServer();
  const child = await startAgentProcess(server.url, echo.url, 1, 50);
  await echo.trips;
  await drain(runtime, 1_000, ['noop'], 'warm'); // prepared plans, the tables' first pages, JIT
  const run = await drain(runtime, TASKS, ['noop']);
  await stopAgentProcess(child);
  echo.close();
  await server.close();
  await runtime.stop();
  return [
    { name: 'postgres: throughput 1x50', value: run.rate, unit: 'tasks/s', note: `${TASKS} no-op tasks, one agent x capacity 50 in another process, fsync on` },
    { name: 'postgres: server CPU per task 1x50', value: run.cpuUs, unit: 'us', note: 'runtime + WebSocket server process' },
  ];
}

/** Troupe on one PostgreSQL node, agents over WebSocket: the row beside pg-boss in bench:peers. */
export const wsPostgres: Scenario = {
  name: 'ws-postgres',
  description: '10k no-op tasks on one PostgreSQL node (fsync on), one agent x 50 in another process over WebSocket',
  async run(): Promise<Figure[]> {
    const given = process.env.BENCH_PG_URL;
    if (given) return measure(given);
    const pg = await startPostgres({ settings: { fsync: 'on', full_page_writes: 'on' } });
    try {
      return await measure(await pg.createDatabase());
    } finally {
      await pg.stop();
    }
  },
};
