import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { pino } from 'pino';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { shardOfId } from '../../src/core/shard-placement.js';
import { PostgresStore } from '../../src/engine/store/postgres-store.js';
import { connectClusterAgent } from '../../src/edge/sdk/index.js';
import { startPostgres } from '../../test/support/throwaway-postgres.js';
import { freePort } from '../../test/support/cluster-nodes.js';
import type { Figure, Scenario } from '../harness.js';

const TASKS = Number(process.env.PG_SHARDS_TASKS ?? 4_000);
const SHARDS = 4;
const silent = pino({ level: 'silent' });
const TOKEN = 'bench-shards-agent-token';
/** The project root: `npm run bench` runs there (this file is bundled into .bench/). */
const root = process.cwd();

/** No-op tasks written straight into each shard, placed by id as the nodes place them. */
async function seed(url: string, prefix: string): Promise<void> {
  const runtimes: Runtime[] = [];
  for (let k = 0; k < SHARDS; k++) {
    const runtime = createRuntime({
      store: new PostgresStore({ url, shard: { index: k, count: SHARDS } }),
      logger: silent,
    });
    await runtime.start();
    runtimes.push(runtime);
  }
  const byShard: Array<Array<{ id: string; type: string }>> = runtimes.map(() => []);
  for (let i = 0; i < TASKS; i++)
    byShard[shardOfId(`${prefix}${i}`, SHARDS)]!.push({ id: `${prefix}${i}`, type: 'noop' });
  for (const [k, tasks] of byShard.entries()) {
    for (let i = 0; i < tasks.length; i += 500) await runtimes[k]!.tasks.createMany(tasks.slice(i, i + 500));
  }
  for (const runtime of runtimes) await runtime.stop();
}

/**
 * `nodes` processes of `troupe serve --node-id --shards 4` on one database, the work queued
 * beforehand, one agent of capacity 48 (12 per shard) in this process: tasks per second from the
 * agent's connections to the last task settled.
 */
async function run(url: string, nodes: number): Promise<{ rate: number; writers: number }> {
  const prefix = `s${nodes}-`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const registry = new PostgresStore({ url, poolSize: 1 });
  await registry.open();
  await registry.clusterShards(SHARDS);
  await seed(url, prefix);
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  try {
    for (let n = 0; n < nodes; n++) {
      const port = await freePort();
      ports.push(port);
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/edge/cli/main.ts', 'serve', '--db', url, '--node-id', `b${n}`, '--port', String(port)],
        { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, TROUPE_AGENT_TOKENS: TOKEN } },
      );
      createInterface({ input: child.stdout! }).on('line', () => undefined);
      children.push(child);
    }
    // Every node writes its share before the clock starts.
    const deadline = Date.now() + 60_000;
    let writers = 0;
    for (;;) {
      const endpoints = await registry.shardEndpoints();
      writers = new Set(endpoints.map((e) => e.nodeId)).size;
      if (endpoints.length === SHARDS && writers === Math.min(nodes, SHARDS)) break;
      if (Date.now() > deadline) throw new Error(`shards bench: ${nodes} nodes did not share the shards in 60 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const settled = async () =>
      Number(
        (
          await client.query(
            `SELECT count(*)::int AS n FROM troupe.actors WHERE kind = 'task' AND settled AND id LIKE $1`,
            [`${prefix}%`],
          )
        ).rows[0].n,
      );
    const t0 = performance.now();
    const agent = await connectClusterAgent({
      nodes: ports.map((p) => `http://127.0.0.1:${p}`),
      token: TOKEN,
      id: `bench-${nodes}`,
      capacity: 48,
      handler: () => null,
    });
    while ((await settled()) < TASKS) {
      if (Date.now() > deadline + 300_000) throw new Error('shards bench: the tasks did not finish in 5 minutes');
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - t0) / 1000;
    await agent.close();
    return { rate: Math.round(TASKS / seconds), writers };
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    await registry.close();
    await client.end();
  }
}

/** Several writers on one PostgreSQL: throughput with 1, 2 and 3 nodes sharing 4 shards. */
export const postgresShards: Scenario = {
  name: 'postgres-shards',
  description: `${TASKS} no-op tasks on a cluster of 4 shards with 1, 2 and 3 nodes (troupe serve --shards 4), one agent x 48 over every shard`,
  async run(): Promise<Figure[]> {
    const figures: Figure[] = [];
    for (const nodes of [1, 2, 3]) {
      // A database per run: each starts from an empty cluster.
      const server = await startPostgres({ settings: { fsync: 'on', full_page_writes: 'on' } });
      try {
        const { rate, writers } = await run(await server.createDatabase(), nodes);
        figures.push({
          name: `postgres shards: throughput, ${nodes} node${nodes > 1 ? 's' : ''}`,
          value: rate,
          unit: 'tasks/s',
          note: `${TASKS} tasks queued beforehand over 4 shards written by ${writers} node(s) at once; all on this one machine (nodes, PostgreSQL, agent share its cores)`,
        });
      } finally {
        await server.stop();
      }
    }
    return figures;
  },
};
