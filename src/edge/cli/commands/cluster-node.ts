import { randomUUID } from 'node:crypto';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../../runtime.js';
import { SystemClock } from '../../../engine/clock.js';
import { DelegatingStore } from '../../../engine/store/delegating-store.js';
import { PostgresStore } from '../../../engine/store/postgres-store.js';
import type { CommitBatch } from '../../../engine/store/store.js';
import { Leadership } from '../../../features/coordination/leader-election.js';
import type { ServerOptions } from '../../server/shared/options.js';
import { startServer, type TroupeServer } from '../../server/server.js';
import { NodeMetrics, type NodeRole, type NodeStatus } from './cluster-node-metrics.js';
import { StandbyHttp } from './standby-http.js';

/** The lease whose holder is the cluster's writer. */
export const WRITER_LEASE = 'troupe.writer';

export interface ClusterNodeOptions {
  /** The database URL (postgres://...). */
  db: string;
  /** This node's name, unique in the cluster (shown by `troupe nodes`). */
  nodeId: string;
  /** How long the writer's lease lasts without a renewal, in ms: the failover time. */
  leaseMs: number;
  /** What the node serves once it is the writer (port, host, tokens, grace). */
  server: ServerOptions;
  /** The writer's runtime options (retention, logger, payload limit); the store is the node's own. */
  runtime?: Omit<RuntimeOptions, 'store'>;
  log: (line: string) => void;
  /** Called when the node must end (lost its lease, its store failed); default `process.exit`. */
  exit?: (code: number) => void;
}

/**
 * One node of a cluster on one PostgreSQL database (`troupe serve --db postgres://... --node-id`).
 *
 * What it is today: active/standby. Every node asks for the writer lease; the one that holds it
 * restores the runtime from the database and serves agents, observers and clients; the others
 * stand by, beat and wait, answering `/healthz`, `/readyz` (503, with the reason) and `/metrics`
 * (their role, the writer lease as last read, their heartbeat; `node` label) on their port, which
 * the writer's full server takes over when they are elected. Every commit of the writer is fenced by the lease's epoch in the
 * database (see `PostgresStore`'s `fence`), so a node that lost its lease (killed, paused past
 * the lease, cut off) cannot write again; when it notices (a renewal finds the lease taken, its
 * term runs out on its own clock, or a commit is fenced) it exits at once, and its supervisor
 * starts it again as a standby. A standby takes over within about one lease after the writer
 * dies. Agents give every node's URL (`connectAgent({ url: [...] })`) and reconnect to the
 * writer, resuming their leases within the grace period.
 *
 * With `--shards N` (N > 1) a node runs `runShardedNode` instead: several writers, one per
 * shard (docs/operations.md, "Several writers (shards)").
 */
export async function runClusterNode(options: ClusterNodeOptions): Promise<{ stop(): Promise<void> }> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const registry = new PostgresStore({ url: options.db, poolSize: 2 });
  await registry.open();
  const holder = `${options.nodeId}/${process.pid}/${randomUUID().slice(0, 8)}`;
  let role: NodeRole = 'standby';
  let epoch: number | null = null;
  let wsUrl: string | null = null;
  let runtime: Runtime | undefined;
  let server: TroupeServer | undefined;
  let ending = false;
  let lastBeatAt: number | null = null;
  let writer: NodeStatus['writer'];
  const metrics = new NodeMetrics(options.nodeId, () => ({ role, epoch, lastBeatAt, writer }));

  const end = (code: number, why: string) => {
    if (ending) return;
    ending = true;
    options.log(`troupe serve: node ${options.nodeId} ${why}; exiting`);
    exit(code);
  };

  // Each beat also reads the writer lease, so that every node's /metrics shows the cluster's writer.
  const beat = async () => {
    try {
      await registry.heartbeat({ id: options.nodeId, url: wsUrl, pid: process.pid, role, epoch });
      lastBeatAt = Date.now();
      const [lease, nodes] = await Promise.all([registry.getLease(WRITER_LEASE), registry.listNodes()]);
      writer = { lease, dbNow: nodes[0]?.now ?? lease?.expiresAt ?? 0 };
    } catch (error) {
      metrics.beatFailed();
      options.log(`troupe serve: node ${options.nodeId} heartbeat failed: ${(error as Error).message}`);
    }
  };
  await beat();
  // Until it writes, the node answers health, readiness (503) and metrics on its port; the writer's
  // server takes the same port over when this node is elected.
  let standby: StandbyHttp | undefined = await StandbyHttp.listen(
    options.server.port ?? 7411,
    options.server.host ?? '127.0.0.1',
    metrics,
    {
      nodeId: options.nodeId,
      reason: () => {
        const lease = writer?.lease;
        if (role === 'stopping') return `node ${options.nodeId} is shutting down`;
        if (role === 'active' || lease === undefined || lease.expiresAt <= (writer?.dbNow ?? 0))
          return `node ${options.nodeId} is a standby, asking for the writer lease`;
        return `node ${options.nodeId} is a standby; the writer is ${lease.holder} at epoch ${lease.epoch}`;
      },
    },
  );
  const port = standby.port;
  const beats = setInterval(() => void beat(), Math.max(100, Math.floor(options.leaseMs / 3)));

  const leadership = new Leadership(registry, new SystemClock(), WRITER_LEASE, { ttlMs: options.leaseMs, holder });
  leadership.on('error', (error) =>
    options.log(`troupe serve: node ${options.nodeId} lease request failed: ${error.message}`),
  );
  leadership.on('lost', ({ epoch: lostEpoch, reason }) => {
    if (role === 'stopping') return;
    end(3, `lost the writer lease (epoch ${lostEpoch}, ${reason})`);
  });
  leadership.on('elected', ({ epoch: won }) => {
    void (async () => {
      epoch = won;
      // Every write of this term is fenced by its epoch; a refused commit ends the node.
      const fenced = new FailFastStore(
        new PostgresStore({ url: options.db, fence: { lease: WRITER_LEASE, holder, epoch: won } }),
        (error) => end(4, `stopped writing: ${error.message}`),
      );
      runtime = createRuntime({ ...options.runtime, store: fenced });
      metrics.attach(runtime.metrics.registry);
      await standby?.close();
      standby = undefined;
      const listening = await startServer(runtime, { ...options.server, port });
      server = listening;
      const report = await runtime.start();
      role = 'active';
      wsUrl = listening.url;
      await beat();
      options.log(
        `troupe serve: node ${options.nodeId} active (writer epoch ${won}), listening on ${listening.url} (HTTP API: ${listening.httpUrl}/v1, store: ${fenced.name})` +
          (report.actors > 0 ? `; resumed ${report.actors} unfinished actors` : ''),
      );
    })().catch((error: unknown) => end(5, `could not start as the writer: ${(error as Error).message}`));
  });
  options.log(
    `troupe serve: node ${options.nodeId} standing by for the writer lease (lease ${options.leaseMs} ms, holder ${holder})`,
  );
  await leadership.start();

  return {
    async stop() {
      role = 'stopping';
      clearInterval(beats);
      await standby?.close();
      await server?.close();
      await runtime?.stop();
      // Let the lease go so that a standby takes over at once, not after a lease.
      await leadership.stop();
      await beat();
      await registry.close();
    },
  };
}

/**
 * Reports the first failed commit (fenced or otherwise), so that the node ends at once.
 *
 * @example
 * ```ts
 * const store = new FailFastStore(new PostgresStore({ url, fence }), (error) => process.exit(4));
 * ```
 */
export class FailFastStore extends DelegatingStore {
  constructor(
    inner: PostgresStore,
    private readonly onFailure: (error: Error) => void,
  ) {
    super(inner);
  }

  override async commit(batch: CommitBatch): Promise<void> {
    try {
      await super.commit(batch);
    } catch (error) {
      if ((error as { code?: string }).code === 'E_STORE') this.onFailure(error as Error);
      throw error;
    }
  }
}
