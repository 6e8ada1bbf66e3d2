import { createRuntime } from '../../src/runtime.js';
import { DelegatingStore } from '../../src/engine/store/delegating-store.js';
import { PostgresStore } from '../../src/engine/store/postgres-store.js';
import type { CommitBatch, StoredActor } from '../../src/engine/store/store.js';
import { startServer } from '../../src/edge/server/server.js';
import { startPostgres } from '../../test/support/throwaway-postgres.js';
import type { Figure, Scenario } from '../harness.js';
import { BENCH_AGENT_TOKEN, drain, echoServer, startAgentProcess, stopAgentProcess } from '../remote-agents.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 10_000);

/** Counts round trips (commits and actor reads) and the time commits take. */
class TimedStore extends DelegatingStore {
  commits = 0;
  reads = 0;
  commitMs = 0;
  override async commit(batch: CommitBatch): Promise<void> {
    const t0 = performance.now();
    await super.commit(batch);
    this.commitMs += performance.now() - t0;
    this.commits += 1;
  }
  override getActors(ids: readonly string[]): Promise<Map<string, StoredActor>> {
    this.reads += 1;
    return super.getActors(ids);
  }
  override getActor(id: string): Promise<StoredActor | undefined> {
    this.reads += 1;
    return super.getActor(id);
  }
}

/**
 * One node on PostgreSQL (fsync on) in the shape of pg-boss in `npm run bench:peers`: no-op
 * tasks created in batches of 1,000, one agent of capacity 50 in another process over WebSocket.
 * `BENCH_PG_URL` runs it on a server already up (bench:peers gives the one pg-boss ran on, so
 * both rows come from the same PostgreSQL), in a schema of its own; else a throwaway server.
 */
async function measure(url: string): Promise<Figure[]> {
  const schema = `troupe_bench_${Date.now()}`;
  const store = new TimedStore(new PostgresStore({ url, schema }));
  const runtime = createRuntime({ store });
  await runtime.start();
  const server = await startServer(runtime, { port: 0, agentTokens: [BENCH_AGENT_TOKEN] });
  const echo = await echoServer();
  const child = await startAgentProcess(server.url, echo.url, 1, 50);
  await echo.trips;
  await drain(runtime, 1_000, ['noop'], 'warm'); // prepared plans, the tables' first pages, JIT
  const before = { commits: store.commits, reads: store.reads, commitMs: store.commitMs };
  const run = await drain(runtime, TASKS, ['noop']);
  const commits = store.commits - before.commits;
  const trips = commits + store.reads - before.reads;
  const commitMs = (store.commitMs - before.commitMs) / Math.max(1, commits);
  await stopAgentProcess(child);
  echo.close();
  await server.close();
  await runtime.stop();
  return [
    { name: 'postgres: throughput 1x50', value: run.rate, unit: 'tasks/s', note: `${TASKS} no-op tasks, one agent x capacity 50 in another process, fsync on` },
    { name: 'postgres: server CPU per task 1x50', value: run.cpuUs, unit: 'us', note: 'runtime + WebSocket server process' },
    { name: 'postgres: round trips per task 1x50', value: Number((trips / TASKS).toFixed(3)), unit: 'trips', note: `${commits} commits (one statement each) and ${trips - commits} reads` },
    { name: 'postgres: commit time 1x50', value: Number(commitMs.toFixed(2)), unit: 'ms', note: 'mean, from the call to its promise resolving (fsync included)' },
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
