import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../src/index.js';
import { connectAgent, type RemoteAgent } from '../src/edge/sdk/index.js';
import { PostgresStore } from '../src/engine/store/postgres-store.js';
import { usePostgresServer } from './support/postgres-server.js';
import {
  ClusterNodes,
  expectEveryTaskOnce,
  expectOneHolderPerEpoch,
  freePort,
  twoPhaseTicket,
  waitFor,
  type ClusterNode,
} from './support/cluster-nodes.js';

/**
 * Chaos on a cluster of three `troupe serve --node-id` processes on one throwaway PostgreSQL,
 * agents in this (another) process given every node's URL. The writer is SIGKILLed three times
 * (and started again), then SIGSTOPped past its lease and SIGCONTed: it must end itself without
 * writing. At the end every task finished exactly once, every ticket settled, and the writer
 * lease had one holder per epoch, each epoch taken by a new holder.
 *
 * Sized for the test run (~60 s on 2 busy cores): 20 tickets of 2 phases x 3 tasks and 100 free
 * tasks, 220 tasks in all; `npm run bench` is where the larger runs go.
 */
const server = usePostgresServer();
const silent = pino({ level: 'silent' });
const TOKEN = 'cluster-agent-token-0001';
const LEASE_MS = 1500;

const cluster = new ClusterNodes();
const nodes = cluster.nodes;
const agents: RemoteAgent[] = [];

afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  cluster.killAll();
});

function startNode(id: string, port: number, db: string): ClusterNode {
  return cluster.start(id, port, db, LEASE_MS, ['--agent-token', TOKEN, '--grace-ms', '60000']);
}

describe('a cluster of three nodes on one PostgreSQL', () => {
  it('survives three SIGKILLs of the writer and a SIGSTOP past its lease: every task once, one writer per epoch', async () => {
    const db = await server().createDatabase();
    const seed = createRuntime({ store: new PostgresStore({ url: db }), logger: silent });
    await seed.start();
    const taskIds: string[] = [];
    for (let t = 0; t < 20; t++) {
      const { ticket, taskIds: ofTicket } = twoPhaseTicket(`TK-${t}`);
      await seed.tickets.create(ticket);
      taskIds.push(...ofTicket);
    }
    await seed.tasks.createMany(
      Array.from({ length: 100 }, (_, i) => ({ id: `free-${i}`, type: 'chore', requires: ['work'] })),
    );
    await seed.stop();
    taskIds.push(...Array.from({ length: 100 }, (_, i) => `free-${i}`));

    const ports = new Map<string, number>();
    for (const id of ['n1', 'n2', 'n3']) ports.set(id, await freePort());
    for (const id of ['n1', 'n2', 'n3']) startNode(id, ports.get(id)!, db);
    const urls = [...ports.values()].map((p) => `ws://127.0.0.1:${p}/v1/ws`);

    const handled: string[] = [];
    for (const id of ['worker-a', 'worker-b']) {
      agents.push(
        await connectAgent({
          url: urls,
          token: TOKEN,
          id,
          capabilities: ['work'],
          capacity: 4,
          reconnect: { initialDelayMs: 50, maxDelayMs: 300, factor: 2, jitter: 0.2 },
          handler: async (task) => {
            handled.push(task.id);
            await new Promise((resolve) => setTimeout(resolve, 20));
            return { by: id };
          },
        }),
      );
    }

    const reader = new PostgresStore({ url: db, poolSize: 2 });
    await reader.open();
    const settledTasks = async () => (await reader.listActors({ kind: 'task', settled: true })).length;
    const writer = async () => {
      const lease = await reader.getLease('troupe.writer');
      const node = lease && [...nodes.values()].find((n) => lease.holder.startsWith(`${n.id}/${n.child.pid}/`));
      return node && node.lines.some((l) => l.includes('active (writer epoch'))
        ? { node, epoch: lease.epoch }
        : undefined;
    };

    try {
      // Three times: let work progress, SIGKILL the writer, wait for another to take over, restart it.
      let progress = 0;
      for (let round = 0; round < 3; round++) {
        progress += 40;
        await waitFor(`${progress} settled tasks`, async () =>
          (await settledTasks()) >= Math.min(progress, taskIds.length) ? true : undefined,
        );
        const before = await waitFor('a writer', writer);
        before.node.child.kill('SIGKILL');
        await before.node.exited;
        const killedAt = Date.now();
        const after = await waitFor('a new writer', async () => {
          const w = await writer();
          return w && w.epoch > before.epoch ? w : undefined;
        });
        expect(after.node.id).not.toBe(before.node.id);
        expect(Date.now() - killedAt).toBeLessThan(30_000);
        startNode(before.node.id, before.node.port, db);
      }

      // SIGSTOP the writer past its lease: another takes over; on SIGCONT the old one ends itself.
      await waitFor('more settled tasks', async () =>
        (await settledTasks()) >= Math.min(progress + 20, taskIds.length) ? true : undefined,
      );
      const paused = await waitFor('a writer', writer);
      paused.node.child.kill('SIGSTOP');
      const successor = await waitFor('a writer after the pause', async () => {
        const w = await writer();
        return w && w.epoch > paused.epoch ? w : undefined;
      });
      expect(successor.node.id).not.toBe(paused.node.id);
      const eventsBefore = await reader.lastEventSeq();
      paused.node.child.kill('SIGCONT');
      expect(await paused.node.exited).not.toBe(0);
      expect(paused.node.lines.join('\n')).toMatch(/lost the writer lease|stopped writing: .*fenced/);
      expect(await reader.lastEventSeq()).toBeGreaterThanOrEqual(eventsBefore);

      // Everything finishes.
      await waitFor(
        'every task settled',
        async () => ((await settledTasks()) === taskIds.length ? true : undefined),
        90_000,
      );
      await expectEveryTaskOnce(reader, taskIds);
      // Event seqs stay gap-free and unique across the writers.
      const all = await reader.readEvents({ order: 'oldest' });
      expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));

      // One holder per epoch, epochs consecutive, each a new holder.
      const history = await expectOneHolderPerEpoch(reader, 'troupe.writer');
      expect(history.length).toBeGreaterThanOrEqual(5);
      // Handlers may run again after a failover (a task whose report was lost with its node).
      expect(new Set(handled).size).toBe(taskIds.length);
    } finally {
      await reader.close();
    }
  }, 240_000);

  it('serves /readyz and /metrics on every node: 503 with the reason on a standby, 200 on the writer, each labelled with its node', async () => {
    const db = await server().createDatabase();
    const ports = { m1: await freePort(), m2: await freePort() };
    const first = startNode('m1', ports.m1, db);
    await waitFor('m1 to write', () =>
      first.lines.some((l) => l.includes('active (writer epoch 1)')) ? true : undefined,
    );
    const second = startNode('m2', ports.m2, db);
    await waitFor('m2 to stand by', () => (second.lines.some((l) => l.includes('standing by')) ? true : undefined));
    const get = async (port: number, path: string) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: response.status, text: await response.text() };
    };
    const metric = (text: string, line: string) => text.split('\n').includes(line);

    const writerReady = await get(ports.m1, '/readyz');
    expect(writerReady).toEqual({ status: 200, text: JSON.stringify({ status: 'ready' }) });
    // The standby names the writer once a heartbeat has read the lease.
    const standbyReady = await waitFor('the standby to name the writer', async () => {
      const r = await get(ports.m2, '/readyz');
      return r.text.includes('the writer is m1/') ? r : undefined;
    });
    expect(standbyReady.status).toBe(503);
    expect(JSON.parse(standbyReady.text)).toMatchObject({
      status: 'standby',
      problem: expect.stringContaining('node m2 is a standby; the writer is m1/'),
    });
    expect((await get(ports.m2, '/healthz')).status).toBe(200);
    expect((await get(ports.m2, '/v1/tasks')).status).toBe(503);

    const writerMetrics = (await get(ports.m1, '/metrics')).text;
    expect(metric(writerMetrics, 'troupe_node_role{role="active",node="m1"} 1')).toBe(true);
    expect(metric(writerMetrics, 'troupe_node_epoch{node="m1"} 1')).toBe(true);
    expect(writerMetrics).toMatch(/^troupe_tasks_queued\{node="m1"\} 0$/m);
    const standbyMetrics = (await get(ports.m2, '/metrics')).text;
    expect(metric(standbyMetrics, 'troupe_node_role{role="standby",node="m2"} 1')).toBe(true);
    expect(metric(standbyMetrics, 'troupe_node_holds_writer_lease{node="m2"} 0')).toBe(true);
    expect(metric(standbyMetrics, 'troupe_cluster_writer_epoch{node="m2"} 1')).toBe(true);
    expect(standbyMetrics).toMatch(/^troupe_cluster_writer_lease_seconds_left\{node="m2"\} (0\.[1-9]|1(\.\d+)?)/m);
    expect(standbyMetrics).toMatch(/^troupe_node_heartbeat_age_seconds\{node="m2"\} 0(\.\d+)?$/m);
    expect(standbyMetrics).not.toContain('troupe_tasks_queued');

    // The writer shuts down and lets its lease go: m2 takes over and serves the full server on its port.
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    await waitFor('m2 to write', () =>
      second.lines.some((l) => l.includes('active (writer epoch 2)')) ? true : undefined,
    );
    await waitFor('m2 ready', async () => ((await get(ports.m2, '/readyz')).status === 200 ? true : undefined));
    const promoted = (await get(ports.m2, '/metrics')).text;
    expect(metric(promoted, 'troupe_node_role{role="active",node="m2"} 1')).toBe(true);
    expect(metric(promoted, 'troupe_node_epoch{node="m2"} 2')).toBe(true);
    expect(promoted).toMatch(/^troupe_tasks_queued\{node="m2"\} 0$/m);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 90_000);
});
