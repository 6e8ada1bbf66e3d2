import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { createRuntime } from '../../src/runtime.js';
import { SystemClock } from '../../src/engine/clock.js';
import { DelegatingStore } from '../../src/engine/store/delegating-store.js';
import { PostgresStore } from '../../src/engine/store/postgres-store.js';
import type { CommitBatch, EventQuery, StoredActor } from '../../src/engine/store/store.js';
import { Leadership } from '../../src/features/coordination/leader-election.js';
import { connectAgent } from '../../src/edge/sdk/index.js';
import { startPostgres } from '../../test/support/throwaway-postgres.js';
import type { Figure, Scenario } from '../harness.js';
import { completions } from '../harness.js';

const TASKS = Number(process.env.PG_BENCH_TASKS ?? 5_000);
const AGENTS = 8;
const silent = pino({ level: 'silent' });
/** The project root: `npm run bench` runs there (this file is bundled into .bench/, so not its own folder). */
const root = process.cwd();

/** Counts the store calls of a runtime: each is one database round trip on PostgreSQL. */
class CountingStore extends DelegatingStore {
  trips = 0;
  override commit(batch: CommitBatch): Promise<void> {
    this.trips += 1;
    return super.commit(batch);
  }
  override getActors(ids: readonly string[]): Promise<Map<string, StoredActor>> {
    this.trips += 1;
    return super.getActors(ids);
  }
  override getActor(id: string): Promise<StoredActor | undefined> {
    this.trips += 1;
    return super.getActor(id);
  }
  override readEvents(query: EventQuery) {
    this.trips += 1;
    return super.readEvents(query);
  }
}

/**
 * One writer (the node holding the writer lease) with `standbys` other nodes beating and asking
 * for the lease at the same time, as `troupe serve --node-id` does; 5,000 no-op tasks created in
 * chunks of 500 and drained by 8 in-process agents on the writer.
 */
async function writerRun(url: string, standbys: number): Promise<{ rate: number; cpuUs: number; trips: number }> {
  const others: Array<{ leadership: Leadership; store: PostgresStore; beat: NodeJS.Timeout }> = [];
  const writerLease = new PostgresStore({ url, poolSize: 2 });
  await writerLease.open();
  const elected = new Leadership(writerLease, new SystemClock(), 'bench.writer', { ttlMs: 3_000, holder: 'writer' });
  await elected.start();
  for (let i = 0; i < standbys; i++) {
    const store = new PostgresStore({ url, poolSize: 2 });
    await store.open();
    const leadership = new Leadership(store, new SystemClock(), 'bench.writer', {
      ttlMs: 3_000,
      holder: `standby-${i}`,
    });
    await leadership.start();
    const beat = setInterval(
      () => void store.heartbeat({ id: `standby-${i}`, url: null, pid: process.pid, role: 'standby', epoch: null }),
      1_000,
    );
    others.push({ leadership, store, beat });
  }
  const store = new CountingStore(
    new PostgresStore({ url, fence: { lease: 'bench.writer', holder: 'writer', epoch: elected.epoch ?? 0 } }),
  );
  const runtime = createRuntime({ store, logger: silent });
  await runtime.start();
  for (let i = 0; i < AGENTS; i++) await runtime.agents.register({ id: `a${i}`, capacity: 16, handler: () => null });
  const all = completions(runtime, TASKS);
  const prefix = `r${Date.now()}-`;
  const trips0 = store.trips;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const inputs = Array.from({ length: TASKS }, (_, i) => ({ id: `${prefix}${i}`, type: 'noop' }));
  for (let i = 0; i < inputs.length; i += 500) await runtime.tasks.createMany(inputs.slice(i, i + 500));
  await all;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const trips = store.trips - trips0;
  await runtime.stop();
  await elected.stop();
  await writerLease.close();
  for (const o of others) {
    clearInterval(o.beat);
    await o.leadership.stop();
    await o.store.close();
  }
  return {
    rate: Math.round(TASKS / seconds),
    cpuUs: Math.round((cpu.user + cpu.system) / TASKS),
    trips: trips / TASKS,
  };
}

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}

/**
 * Failover: two `troupe serve --node-id` processes (writer lease `leaseMs`), an agent given both
 * URLs working through a stream of tasks; the writer is SIGKILLed, and the time is taken until
 * the next task completes under the other node.
 */
async function failoverRun(url: string, leaseMs: number): Promise<{ toWriter: number; toTask: number }> {
  const seed = createRuntime({ store: new PostgresStore({ url }), logger: silent });
  await seed.start();
  await seed.tasks.createMany(Array.from({ length: 3_000 }, (_, i) => ({ id: `f${leaseMs}-${i}`, type: 'slow' })));
  await seed.stop();
  const token = 'bench-cluster-agent-token';
  const children: ChildProcess[] = [];
  const ports = [await freePort(), await freePort()];
  const start = (id: string, port: number) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/edge/cli/main.ts',
        'serve',
        '--db',
        url,
        '--node-id',
        id,
        '--port',
        String(port),
        '--lease-ms',
        String(leaseMs),
        '--agent-token',
        token,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    createInterface({ input: child.stdout! }).on('line', () => undefined);
    children.push(child);
    return child;
  };
  const reader = new PostgresStore({ url, poolSize: 2 });
  await reader.open();
  try {
    start('n1', ports[0]!);
    await new Promise((r) => setTimeout(r, 1_500));
    start('n2', ports[1]!);
    const agent = await connectAgent({
      url: ports.map((p) => `ws://127.0.0.1:${p}/v1/ws`),
      token,
      id: 'bench-agent',
      capacity: 4,
      reconnect: { initialDelayMs: 50, maxDelayMs: 250, factor: 2, jitter: 0.2 },
      handler: async () => {
        await new Promise((r) => setTimeout(r, 5));
        return null;
      },
    });
    const deadline = Date.now() + 120_000;
    const check = (what: string) => {
      if (Date.now() > deadline) throw new Error(`failover bench: timed out waiting for ${what}`);
    };
    for (;;) {
      check('the first task');
      if ((await reader.readEvents({ types: ['task.completed'], limit: 1 })).length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const before = await reader.getLease('troupe.writer');
    const victim = children.find((c) => String(c.pid) === before?.holder.split('/')[1]);
    const killedAt = performance.now();
    victim?.kill('SIGKILL');
    let toWriter = 0;
    let seqAtTakeover = 0;
    for (;;) {
      check('the failover');
      if (toWriter === 0) {
        const lease = await reader.getLease('troupe.writer');
        if (lease && lease.epoch > (before?.epoch ?? 0)) {
          toWriter = performance.now() - killedAt;
          seqAtTakeover = await reader.lastEventSeq();
        }
      } else if (
        (await reader.readEvents({ types: ['task.completed'], afterSeq: seqAtTakeover, limit: 1 })).length > 0
      ) {
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const toTask = performance.now() - killedAt;
    await agent.close();
    return { toWriter: Math.round(toWriter), toTask: Math.round(toTask) };
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await reader.close();
  }
}

/** PostgreSQL: a writer node's throughput with 0-2 standby nodes, round trips per task, failover. */
export const postgresCluster: Scenario = {
  name: 'postgres-cluster',
  description:
    '5k no-op tasks on PostgreSQL (fsync on) with 1, 2, 3 nodes (one writer), round trips/task, failover after SIGKILL',
  async run(): Promise<Figure[]> {
    const pg = await startPostgres({ settings: { fsync: 'on', full_page_writes: 'on' } });
    const figures: Figure[] = [];
    try {
      const url = await pg.createDatabase();
      process.stderr.write('  warm-up...\n');
      await writerRun(url, 0); // warm-up: JIT, prepared statements, the table's first pages
      for (const standbys of [0, 1, 2]) {
        process.stderr.write(`  writer with ${standbys} standbys...\n`);
        const r = await writerRun(url, standbys);
        figures.push({
          name: `throughput, ${standbys + 1} node${standbys ? 's' : ''}`,
          value: r.rate,
          unit: 'tasks/s',
          note: `${r.cpuUs} us CPU/task in the writer's process`,
        });
        if (standbys === 0)
          figures.push({
            name: 'round trips per task',
            value: Number(r.trips.toFixed(2)),
            unit: 'trips',
            note: 'store calls (each one statement) per task',
          });
      }
      for (const leaseMs of [3_000, 10_000]) {
        process.stderr.write(`  failover, lease ${leaseMs} ms...\n`);
        const f = await failoverRun(await pg.createDatabase(), leaseMs);
        figures.push({
          name: `failover, lease ${leaseMs / 1000} s: kill to new writer`,
          value: f.toWriter,
          unit: 'ms',
        });
        figures.push({
          name: `failover, lease ${leaseMs / 1000} s: kill to next task done`,
          value: f.toTask,
          unit: 'ms',
          ...(leaseMs === 3_000 ? { target: { op: '<=', value: 5_000 } } : {}),
        });
      }
    } finally {
      await pg.stop();
    }
    return figures;
  },
};
