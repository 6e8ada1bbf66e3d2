import { pino } from 'pino';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { createRuntime, type Runtime } from '../src/index.js';
import { shardOfId } from '../src/core/shard-placement.js';
import { connectClusterAgent, type ClusterAgent } from '../src/edge/sdk/index.js';
import { shardLease } from '../src/edge/cli/commands/shard-node.js';
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
import { runCli } from './support/serve-process.js';

/**
 * Several writers on one throwaway PostgreSQL: three `troupe serve --node-id X --shards 4`
 * processes share four shards, agents in this (another) process connect to every shard through
 * any node's shard map. The node writing the most shards is SIGKILLed (its shards move to the
 * others within about a lease) and started again; then a node writing shards is SIGSTOPped past
 * its lease and SIGCONTed: it must end itself without writing. At the end every task finished
 * exactly once, every ticket settled, and each shard's lease had one holder per epoch.
 *
 * Sized for the test run: 12 tickets of 2 phases x 3 tasks, 100 free tasks, 20 tasks that depend
 * on free ones, 24 tasks submitted over HTTP to one node (216 tasks).
 */
const server = usePostgresServer();
const silent = pino({ level: 'silent' });
const AGENT_TOKEN = 'shards-agent-token-00001';
const CLIENT_TOKEN = 'shards-client-token-0001';
const LEASE_MS = 1500;
const SHARDS = 4;

const cluster = new ClusterNodes();
const agents: ClusterAgent[] = [];

afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  cluster.killAll();
});

function startNode(id: string, port: number, db: string, shards = true): ClusterNode {
  // One node leaves --shards out: it reads the count stored by the first.
  const extra = ['--agent-token', AGENT_TOKEN, '--client-token', CLIENT_TOKEN, '--grace-ms', '60000'];
  return cluster.start(id, port, db, LEASE_MS, shards ? [...extra, '--shards', String(SHARDS)] : extra);
}

/** Seeds work straight into each shard, placed as the nodes place it. */
async function seed(db: string): Promise<string[]> {
  const runtimes: Runtime[] = [];
  for (let k = 0; k < SHARDS; k++) {
    const runtime = createRuntime({
      store: new PostgresStore({ url: db, shard: { index: k, count: SHARDS } }),
      logger: silent,
    });
    await runtime.start();
    runtimes.push(runtime);
  }
  const at = (id: string) => runtimes[shardOfId(id, SHARDS)]!;
  const ids: string[] = [];
  for (let t = 0; t < 12; t++) {
    const { ticket, taskIds } = twoPhaseTicket(`TK-${t}`);
    await at(`TK-${t}`).tickets.create(ticket);
    ids.push(...taskIds);
  }
  for (let i = 0; i < 100; i++) {
    ids.push(`free-${i}`);
    await at(`free-${i}`).tasks.create({ id: `free-${i}`, type: 'chore', requires: ['work'] });
  }
  // A dependent task lives in its dependency's shard.
  for (let i = 0; i < 20; i++) {
    ids.push(`dep-${i}`);
    await at(`free-${i}`).tasks.create({ id: `dep-${i}`, type: 'chore', requires: ['work'], dependsOn: [`free-${i}`] });
  }
  for (const runtime of runtimes) await runtime.stop();
  return ids;
}

describe('several writers: a cluster of three nodes sharing four shards', () => {
  it('shares the shards, moves a killed node’s shards, fences a paused one: every task once, one holder per shard epoch', async () => {
    // What the nodes said, when something went wrong: their logs tell why.
    onTestFailed(() => {
      for (const n of cluster.nodes.values()) console.log(`--- ${n.id} (pid ${n.child.pid})\n${n.lines.join('\n')}`);
    });
    const db = await server().createDatabase();
    const reader = new PostgresStore({ url: db, poolSize: 2 });
    await reader.open();
    expect(await reader.clusterShards(SHARDS)).toBe(SHARDS);
    const taskIds = await seed(db);

    const ports = new Map<string, number>();
    for (const id of ['n1', 'n2', 'n3']) ports.set(id, await freePort());
    for (const id of ['n1', 'n2', 'n3']) startNode(id, ports.get(id)!, db, id !== 'n3');
    const fronts = [...ports.values()].map((p) => `http://127.0.0.1:${p}`);
    const nodeOf = (holder: string) =>
      [...cluster.nodes.values()].find((n) => holder.startsWith(`${n.id}/${n.child.pid}/`));
    /** Who writes each shard now (an unexpired lease on the database's clock), by node id. */
    const holders = async () => {
      const now = (await reader.listNodes())[0]?.now ?? 0;
      const out = new Map<number, { node: string; epoch: number }>();
      for (let k = 0; k < SHARDS; k++) {
        const lease = await reader.getLease(shardLease(k));
        const node = lease && lease.expiresAt > now ? nodeOf(lease.holder) : undefined;
        if (lease && node) out.set(k, { node: node.id, epoch: lease.epoch });
      }
      return out;
    };

    const handled: string[] = [];
    for (const id of ['worker-a', 'worker-b']) {
      agents.push(
        await connectClusterAgent({
          nodes: fronts,
          token: AGENT_TOKEN,
          id,
          capabilities: ['work'],
          capacity: 4,
          refreshMs: 300,
          handler: async (task) => {
            handled.push(task.id);
            await new Promise((resolve) => setTimeout(resolve, 20));
            return { by: id };
          },
        }),
      );
    }

    try {
      // The shards spread: more than one node writes at the same moment.
      const spread = await waitFor('the shards to spread over the nodes', async () => {
        const now = await holders();
        return now.size === SHARDS && new Set([...now.values()].map((h) => h.node)).size > 1 ? now : undefined;
      });
      expect(new Set([...spread.values()].map((h) => h.node)).size).toBeGreaterThan(1);

      // Over HTTP through one node: creates go to their shard's writer, wherever it is.
      // A shard that is changing hands answers 503 with Retry-After: the client tries again.
      const post = (front: string, path: string, body: unknown) =>
        waitFor(`POST ${path} answered`, async () => {
          const answer = await fetch(`${front}${path}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${CLIENT_TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
          return answer.status === 503 ? undefined : answer;
        });
      for (let i = 0; i < 24; i++) {
        const answer = await post(fronts[0]!, '/v1/tasks', { id: `http-${i}`, type: 'chore', requires: ['work'] });
        expect(answer.status).toBe(201);
        taskIds.push(`http-${i}`);
      }
      expect(new Set(taskIds.filter((id) => id.startsWith('http-')).map((id) => shardOfId(id, SHARDS))).size).toBe(
        SHARDS,
      );
      // A ticket with its tasks, through another node: created whole in the ticket's shard.
      const ticket = await post(fronts[2]!, '/v1/tickets', {
        id: 'TK-http',
        title: 'over HTTP',
        phases: [
          { name: 'only', tasks: [0, 1].map((i) => ({ id: `TK-http-${i}`, type: 'chore', requires: ['work'] })) },
        ],
      });
      expect(ticket.status).toBe(201);
      taskIds.push('TK-http-0', 'TK-http-1');
      const placed = await reader.actorShards(['TK-http', 'TK-http-0', 'TK-http-1']);
      expect(new Set(placed.values())).toEqual(new Set([shardOfId('TK-http', SHARDS)]));
      // A task may wait only on work of its own shard.
      const a = 'free-0';
      const b = Array.from({ length: 100 }, (_, i) => `free-${i}`).find(
        (id) => shardOfId(id, SHARDS) !== shardOfId(a, SHARDS),
      )!;
      const crossing = await post(fronts[1]!, '/v1/tasks', { id: 'crossing', type: 'chore', dependsOn: [a, b] });
      expect(crossing.status).toBe(422);
      expect(((await crossing.json()) as { error: { code: string } }).error.code).toBe('E_CROSS_SHARD_DEPENDENCY');
      // Reads from any node see every shard.
      for (const front of fronts) {
        const answer = await fetch(`${front}/v1/tasks/http-3`, {
          headers: { authorization: `Bearer ${CLIENT_TOKEN}` },
        });
        expect(answer.status).toBe(200);
        expect(((await answer.json()) as { id: string }).id).toBe('http-3');
      }

      // `troupe nodes` names each shard's writer.
      const listing = runCli(['nodes', '--db', db]);
      expect(await listing.exited).toBe(0);
      for (let k = 0; k < SHARDS; k++) {
        expect(listing.lines).toContainEqual(
          expect.stringMatching(
            new RegExp(
              `^shard ${k}: n[123]/\\d+/\\w+, epoch \\d+, \\d+\\.\\ds left(, agents at ws://127\\.0\\.0\\.1:\\d+/v1/ws)?$`,
            ),
          ),
        );
      }

      const settledTasks = async () => (await reader.listActors({ kind: 'task', settled: true })).length;
      await waitFor('60 settled tasks', async () => ((await settledTasks()) >= 60 ? true : undefined));

      // SIGKILL the node writing the most shards: the others take them over within about a lease.
      const before = await holders();
      const counts = new Map<string, number>();
      for (const h of before.values()) counts.set(h.node, (counts.get(h.node) ?? 0) + 1);
      const victimId = [...counts].sort((x, y) => y[1] - x[1])[0]![0];
      const victim = cluster.nodes.get(victimId)!;
      victim.child.kill('SIGKILL');
      await victim.exited;
      const killedAt = Date.now();
      const moved = await waitFor('the killed node’s shards on the other nodes', async () => {
        const now = await holders();
        return now.size === SHARDS && [...now.values()].every((h) => h.node !== victimId) ? now : undefined;
      });
      const failoverMs = Date.now() - killedAt;
      for (const [k, h] of before) if (h.node === victimId) expect(moved.get(k)!.epoch).toBeGreaterThan(h.epoch);
      // A lease, a third of a lease to notice, and the restore: well under 10 s on a busy machine.
      expect(failoverMs).toBeLessThan(10_000);
      console.log(`shards of ${victimId} taken over ${failoverMs} ms after its SIGKILL (lease ${LEASE_MS} ms)`);
      startNode(victimId, victim.port, db);

      // SIGSTOP a node writing shards past its lease: the others take its shards; on SIGCONT it ends itself.
      await waitFor('more settled tasks', async () => ((await settledTasks()) >= 120 ? true : undefined));
      const writing = await holders();
      const pausedId = [...writing.values()][0]!.node;
      const paused = cluster.nodes.get(pausedId)!;
      paused.child.kill('SIGSTOP');
      await waitFor('the paused node’s shards on the other nodes', async () => {
        const now = await holders();
        return now.size === SHARDS && [...now.values()].every((h) => h.node !== pausedId) ? true : undefined;
      });
      paused.child.kill('SIGCONT');
      expect(await paused.exited).not.toBe(0);
      expect(paused.lines.join('\n')).toMatch(/lost shard \d+|stopped writing shard \d+: .*fenced/);

      // Everything finishes.
      await waitFor(
        'every task settled',
        async () => ((await settledTasks()) === taskIds.length ? true : undefined),
        90_000,
      );
      await expectEveryTaskOnce(reader, taskIds);
      // Each shard numbers its events in its own residue class: unique across the writers.
      const all = await reader.readEvents({ order: 'oldest' });
      expect(new Set(all.map((e) => e.seq)).size).toBe(all.length);

      // Each shard: one holder per epoch, epochs consecutive, each a new holder.
      let terms = 0;
      for (let k = 0; k < SHARDS; k++) terms += (await expectOneHolderPerEpoch(reader, shardLease(k))).length;
      expect(terms).toBeGreaterThan(SHARDS);
      // Handlers may run again after a failover (a task whose report was lost with its node).
      expect(new Set(handled).size).toBe(taskIds.length);
    } finally {
      await reader.close();
    }
  }, 240_000);

  it('keeps the shard count the database holds: another count, or a plain serve, is refused and writes nothing', async () => {
    const db = await server().createDatabase();
    const reader = new PostgresStore({ url: db, poolSize: 1 });
    await reader.open();
    try {
      expect(await reader.clusterShards(SHARDS)).toBe(SHARDS);
      const other = cluster.start('x1', await freePort(), db, LEASE_MS, [
        '--agent-token',
        AGENT_TOKEN,
        '--shards',
        '8',
      ]);
      expect(await other.exited).toBe(2);
      expect(other.lines.join('\n')).toContain(
        "this database's cluster has 4 shards (set when it was first started); --shards 8 cannot change it",
      );
      const plain = cluster.start('x2', await freePort(), db, LEASE_MS, ['--agent-token', AGENT_TOKEN]);
      // A node without --shards runs with the stored count.
      await waitFor('x2 to start', () =>
        plain.lines.some((l) => l.includes('of a cluster of 4 shards')) ? true : undefined,
      );
      plain.child.kill('SIGTERM');
      expect(await plain.exited, plain.lines.join('\n')).toBe(0);
      const single = runCli(['serve', '--db', db, '--port', '0', '--agent-token', AGENT_TOKEN]);
      expect(await single.exited).toBe(2);
      expect(single.lines.join('\n')).toContain('this database holds a sharded cluster');
      expect(await reader.clusterShards()).toBe(SHARDS);
      expect(await reader.listActors({})).toEqual([]);
    } finally {
      await reader.close();
    }
  }, 60_000);
});
