import { randomBytes, randomUUID } from 'node:crypto';
import { createRuntime, type Runtime } from '../../../runtime.js';
import { PostgresStore } from '../../../engine/store/postgres-store.js';
import { startServer, type TroupeServer } from '../../server/server.js';
import { shardBalance } from '../../../core/shard-balance.js';
import { FailFastStore, type ClusterNodeOptions } from './cluster-node.js';
import { NodeMetrics, type NodeRole } from './cluster-node-metrics.js';
import { ShardFrontHttp, type LocalShard } from './shard-front-http.js';

/** The prefix of the shards' lease names. */
export const SHARD_LEASE_PREFIX = 'troupe.shard.';

/** The lease whose holder writes shard `k`. */
export const shardLease = (k: number): string => `${SHARD_LEASE_PREFIX}${k}`;

/** What a sharded node takes beyond a cluster node's options. */
export interface ShardedNodeOptions extends ClusterNodeOptions {
  /** The cluster's shard count, as stored in the database (`troupe serve --shards N`). */
  shards: number;
}

interface HeldShard {
  index: number;
  epoch: number;
  /** When the last renewal that came back was sent, on this node's clock: the term runs from it. */
  renewedAt: number;
  /** Set once its runtime and server run. */
  serving?: { runtime: Runtime; server: TroupeServer };
  leaving: boolean;
  /** Its lease is being let go: no longer renewed. */
  released?: boolean;
}

/**
 * A node of a sharded cluster (`troupe serve --db postgres://... --node-id X --shards N`): it
 * holds some of the N shards, each through a lease row (`troupe.shard.<k>`) with an epoch, and
 * runs for each one a runtime whose store writes only that shard's rows and only while the lease
 * is still its own at that epoch (the fence of the single writer, per shard). Each held shard's
 * server listens on a port of its own for agents (`shard_endpoints` says where); the node's own
 * port (`ShardFrontHttp`) routes the HTTP API to the shard a request belongs to, here or on the
 * node that holds it, and answers health, readiness, metrics and the shard map.
 *
 * Every third of a lease the node beats, renews its shards, and takes free shards or gives one
 * back so that every live node writes between `floor(N / nodes)` and `ceil(N / nodes)` shards
 * (`shardBalance`). A renewal that finds a shard
 * taken, a term run out on its own clock (a node paused past its lease), or a fenced commit ends
 * the node at once (code 3 or 4): its supervisor starts it again, and it takes shards anew.
 */
export async function runShardedNode(options: ShardedNodeOptions): Promise<{ stop(): Promise<void> }> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const count = options.shards;
  const registry = new PostgresStore({ url: options.db, poolSize: 3 });
  await registry.open();
  const holder = `${options.nodeId}/${process.pid}/${randomUUID().slice(0, 8)}`;
  // The front's key to its own shards' HTTP API: client tokens are checked at the front.
  const internalToken = randomBytes(24).toString('base64url');
  const held = new Map<number, HeldShard>();
  let role: NodeRole = 'standby';
  let ending = false;
  let stopping = false;
  let lastBeatAt: number | null = null;
  const metrics = new NodeMetrics(options.nodeId, () => ({ role, epoch: null, lastBeatAt, writer: undefined }));

  const end = (code: number, why: string) => {
    if (ending) return;
    ending = true;
    options.log(`troupe serve: node ${options.nodeId} ${why}; exiting`);
    exit(code);
  };

  const local = (k: number): LocalShard | undefined => {
    const s = held.get(k)?.serving;
    return s === undefined || held.get(k)?.leaving ? undefined : { httpUrl: s.server.httpUrl, token: internalToken };
  };
  const front = await ShardFrontHttp.listen({
    port: options.server.port ?? 7411,
    host: options.server.host ?? '127.0.0.1',
    nodeId: options.nodeId,
    count,
    server: options.server,
    metrics,
    registry,
    local,
    localShards: () => [...held.values()].filter((h) => h.serving && !h.leaving).map((h) => h.index),
  });

  const startShard = async (shard: HeldShard) => {
    const k = shard.index;
    const store = new FailFastStore(
      new PostgresStore({
        url: options.db,
        poolSize: 4,
        fence: { lease: shardLease(k), holder, epoch: shard.epoch },
        shard: { index: k, count },
      }),
      (error) => end(4, `stopped writing shard ${k}: ${error.message}`),
    );
    // Retention deletes settled rows of every shard: one sweeper per cluster, the writer of shard 0's.
    const retention = { ...options.runtime?.retention, ...(k === 0 ? {} : { schedule: false }) };
    const runtime = createRuntime({ ...options.runtime, retention, store });
    const server = await startServer(runtime, {
      ...options.server,
      port: 0,
      clientTokens: [internalToken],
      tokenNames: { ...options.server.tokenNames, [internalToken]: `node:${options.nodeId}` },
    });
    if (ending || stopping || !held.has(k)) {
      await server.close();
      await runtime.stop();
      return;
    }
    shard.serving = { runtime, server };
    await registry.setShardEndpoint({
      shard: k,
      nodeId: options.nodeId,
      holder,
      epoch: shard.epoch,
      url: server.url,
      frontUrl: front.url,
    });
    options.log(
      `troupe serve: node ${options.nodeId} writes shard ${k} (epoch ${shard.epoch}), agents at ${server.url}`,
    );
  };

  const stopShard = async (shard: HeldShard, release: boolean) => {
    shard.leaving = true;
    await shard.serving?.server.close();
    await shard.serving?.runtime.stop();
    if (release) {
      // After its last commit: the next writer restores everything this one wrote. No renewal
      // may take the lease back meanwhile.
      shard.released = true;
      await registry.removeShardEndpoint(shard.index, holder);
      await registry.releaseLease(shardLease(shard.index), holder, shard.epoch);
    }
    held.delete(shard.index);
  };

  // The first beat only says the node is here: nodes started together see each other before
  // they share out the shards, instead of the first taking them all and giving them back.
  let beats = 0;
  const tick = async () => {
    const sentAt = Date.now();
    beats += 1;
    for (const shard of held.values()) {
      // Paused or cut off past a lease: another node may write the shard by now.
      if (!shard.released && sentAt - shard.renewedAt >= options.leaseMs) {
        return end(3, `lost shard ${shard.index}: its term ran out on this node's clock (epoch ${shard.epoch})`);
      }
    }
    if (stopping) return;
    role = held.size > 0 ? 'active' : 'standby';
    await registry.heartbeat({ id: options.nodeId, url: front.url, pid: process.pid, role, epoch: null });
    lastBeatAt = Date.now();
    for (const shard of held.values()) {
      if (shard.released) continue;
      const lease = await registry.tryLease(shardLease(shard.index), holder, options.leaseMs);
      if (lease === undefined || lease.epoch !== shard.epoch) {
        return end(3, `lost shard ${shard.index} (epoch ${shard.epoch}): the lease is another's`);
      }
      shard.renewedAt = sentAt;
    }
    const nodes = await registry.listNodes();
    const dbNow = nodes[0]?.now ?? 0;
    const live = nodes.filter((n) => n.role !== 'stopping' && dbNow - n.heartbeatAt < options.leaseMs);
    const leases = await registry.leasesNamed(SHARD_LEASE_PREFIX);
    const holding = [...held.values()].filter((h) => !h.leaving);
    // What every live node writes now, as the leases say (this node: as it knows itself).
    const holdings = new Map(live.map((n) => [n.id, 0]));
    for (const lease of leases) {
      const node = live.find((n) => lease.expiresAt > dbNow && lease.holder.startsWith(`${n.id}/${n.pid}/`));
      if (node !== undefined) holdings.set(node.id, (holdings.get(node.id) ?? 0) + 1);
    }
    holdings.set(options.nodeId, holding.length);
    const plan = shardBalance(count, holdings, options.nodeId);
    if (plan.giveBack) {
      const extra = holding.sort((a, b) => b.index - a.index)[0];
      if (extra?.serving) {
        options.log(
          `troupe serve: node ${options.nodeId} gives shard ${extra.index} back (${holdings.size} nodes write ${[...holdings.values()].join('/')})`,
        );
        void stopShard(extra, true).catch((error: unknown) =>
          end(5, `could not give shard ${extra.index} back: ${(error as Error).message}`),
        );
      }
      return;
    }
    if (plan.take === 0 || beats < 2 || stopping) return;
    const taken = new Map(leases.map((l) => [l.name, l]));
    const free: number[] = [];
    for (let k = 0; k < count; k++) {
      const lease = taken.get(shardLease(k));
      if (!held.has(k) && (lease === undefined || lease.expiresAt <= dbNow)) free.push(k);
    }
    // Nodes asking at once spread over the free shards instead of all asking for the first.
    free.sort(() => Math.random() - 0.5);
    for (const k of free.slice(0, plan.take)) {
      const lease = await registry.tryLease(shardLease(k), holder, options.leaseMs);
      if (lease === undefined || lease.holder !== holder) continue;
      const shard: HeldShard = { index: k, epoch: lease.epoch, renewedAt: sentAt, leaving: false };
      held.set(k, shard);
      const started = startShard(shard)
        .catch((error: unknown) => end(5, `could not start shard ${k}: ${(error as Error).message}`))
        .finally(() => starting.delete(started));
      starting.add(started);
    }
  };

  /** Shards being started: a stop waits for them, then lets them go with the rest. */
  const starting = new Set<Promise<void>>();
  let ticking = false;
  const timer = setInterval(
    () => {
      if (ticking || ending) return;
      ticking = true;
      tick()
        .catch((error: unknown) => {
          metrics.beatFailed();
          options.log(`troupe serve: node ${options.nodeId} heartbeat failed: ${(error as Error).message}`);
        })
        .finally(() => {
          ticking = false;
        });
    },
    Math.max(100, Math.floor(options.leaseMs / 3)),
  );
  options.log(
    `troupe serve: node ${options.nodeId} of a cluster of ${count} shards, listening on ${front.url} (lease ${options.leaseMs} ms, holder ${holder})`,
  );

  return {
    async stop() {
      stopping = true;
      role = 'stopping';
      clearInterval(timer);
      await front.close();
      await Promise.all(starting);
      // Let every shard go at once so that the other nodes take them without waiting a lease.
      await Promise.all([...held.values()].map((shard) => stopShard(shard, true)));
      await registry.heartbeat({ id: options.nodeId, url: front.url, pid: process.pid, role, epoch: null });
      await registry.close();
    },
  };
}
