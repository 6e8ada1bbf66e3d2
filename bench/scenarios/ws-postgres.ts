import { join } from 'node:path';
import { createRuntime } from '../../src/runtime.js';
import { DelegatingStore } from '../../src/engine/store/delegating-store.js';
import { PostgresStore } from '../../src/engine/store/postgres-store.js';
import type { CommitBatch, StoredActor } from '../../src/engine/store/store.js';
import { startServer } from '../../src/edge/server/server.js';
import { startPostgres } from '../../test/support/throwaway-postgres.js';
import type { Figure, Scenario } from '../harness.js';
import { postgresCpuMs } from '../postgres-cpu.js';
import { BENCH_AGENT_TOKEN, drain, echoServer, startAgentProcess, stopAgentProcess } from '../remote-agents.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 10_000);

/** Counts round trips (commits and actor reads) and the time commits take. */
class TimedStore extends DelegatingStore {
  override readonly overlapsCommits: boolean;
  constructor(inner: PostgresStore, overlap: boolean) {
    super(inner);
    this.overlapsCommits = overlap;
  }
  commits = 0;
  reads = 0;
  commitMs = 0;
  rows = { actors: 0, events: 0, timersSet: 0, timersCleared: 0 };
  override async commit(batch: CommitBatch): Promise<void> {
    this.rows.actors += batch.actors.length;
    this.rows.events += batch.events.length;
    this.rows.timersSet += batch.timersSet.length;
    this.rows.timersCleared += batch.timersCleared.length;
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
 * both rows come from the same PostgreSQL), in a schema of its own, with `BENCH_PG_DATA` its data
 * folder for the database's CPU; else a throwaway server.
 */
async function measure(url: string, dataDir: string | undefined, overlap = true): Promise<Figure[]> {
  const schema = `troupe_bench_${Date.now()}`;
  const store = new TimedStore(new PostgresStore({ url, schema }), overlap);
  const runtime = createRuntime({ store });
  await runtime.start();
  const server = await startServer(runtime, { port: 0, agentTokens: [BENCH_AGENT_TOKEN] });
  const echo = await echoServer();
  const child = await startAgentProcess(server.url, echo.url, 1, 50);
  await echo.trips;
  await drain(runtime, 1_000, ['noop'], 'warm'); // prepared plans, the tables' first pages, JIT
  const before = { commits: store.commits, reads: store.reads, commitMs: store.commitMs };
  const dbCpu0 = dataDir === undefined ? undefined : postgresCpuMs(dataDir);
  const run = await drain(runtime, TASKS, ['noop']);
  const dbCpu1 = dataDir === undefined ? undefined : postgresCpuMs(dataDir);
  const commits = store.commits - before.commits;
  const trips = commits + store.reads - before.reads;
  const commitMs = (store.commitMs - before.commitMs) / Math.max(1, commits);
  if (process.env.BENCH_VERBOSE)
    process.stderr.write(
      `rows per task: ${JSON.stringify(Object.fromEntries(Object.entries(store.rows).map(([k, v]) => [k, (v / (TASKS + 1_000)).toFixed(2)])))}\n`,
    );
  await stopAgentProcess(child);
  echo.close();
  await server.close();
  await runtime.stop();
  if (!overlap)
    return [
      {
        name: 'postgres: throughput 1x50, serial commits',
        value: run.rate,
        unit: 'tasks/s',
        note: `the same, without pipelined commits (${commitMs.toFixed(1)} ms per commit)`,
      },
    ];
  const dbCpu: Figure[] =
    dbCpu0 === undefined || dbCpu1 === undefined
      ? []
      : [
          {
            name: 'postgres: database CPU per task 1x50',
            value: Math.round(((dbCpu1 - dbCpu0) * 1000) / TASKS),
            unit: 'us',
            note: "the PostgreSQL server's processes, from /proc (10 ms ticks)",
          },
        ];
  return [
    ...dbCpu,
    {
      name: 'postgres: throughput 1x50',
      value: run.rate,
      unit: 'tasks/s',
      note: `${TASKS} no-op tasks, one agent x capacity 50 in another process, fsync on`,
    },
    {
      name: 'postgres: server CPU per task 1x50',
      value: run.cpuUs,
      unit: 'us',
      note: 'runtime + WebSocket server process',
    },
    {
      name: 'postgres: round trips per task 1x50',
      value: Number((trips / TASKS).toFixed(3)),
      unit: 'trips',
      note: `${commits} commits (one statement each) and ${trips - commits} reads`,
    },
    {
      name: 'postgres: commit time 1x50',
      value: Number(commitMs.toFixed(2)),
      unit: 'ms',
      note: 'mean, from the call to its promise resolving (fsync included)',
    },
  ];
}

/** Troupe on one PostgreSQL node, agents over WebSocket: the row beside pg-boss in bench:peers. */
export const wsPostgres: Scenario = {
  name: 'ws-postgres',
  description: '10k no-op tasks on one PostgreSQL node (fsync on), one agent x 50 in another process over WebSocket',
  async run(): Promise<Figure[]> {
    const given = process.env.BENCH_PG_URL;
    // Serial first, then pipelined, on the same server: the two figures differ by the overlap alone.
    if (given)
      return [
        ...(await measure(given, process.env.BENCH_PG_DATA, false)),
        ...(await measure(given, process.env.BENCH_PG_DATA)),
      ];
    const pg = await startPostgres({ settings: { fsync: 'on', full_page_writes: 'on' } });
    try {
      const url = await pg.createDatabase();
      return [...(await measure(url, join(pg.dir, 'data'), false)), ...(await measure(url, join(pg.dir, 'data')))];
    } finally {
      await pg.stop();
    }
  },
};
