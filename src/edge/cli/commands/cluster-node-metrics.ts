import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { Lease } from '../../../engine/store/store.js';

/** A cluster node's role: standing by for the writer lease, writing, or shutting down. */
export type NodeRole = 'standby' | 'active' | 'stopping';

const ROLES: readonly NodeRole[] = ['standby', 'active', 'stopping'];

/** What a node knows of itself and of the writer lease, as of its last heartbeat. */
export interface NodeStatus {
  role: NodeRole;
  /** The epoch this node writes at, while it is the writer. */
  epoch: number | null;
  /** When the last heartbeat reached the database, on this node's clock (ms), or null before the first. */
  lastBeatAt: number | null;
  /** The writer lease as read at the last heartbeat, with the database's clock then. */
  writer: { lease: Lease | undefined; dbNow: number } | undefined;
}

/**
 * The metrics of one cluster node, labelled `node="<id>"`: its role, the writer lease as it last
 * read it (holder epoch, time left on the database's clock), and the age of its last heartbeat.
 * Standbys serve these alone; the writer adds them to its runtime's metrics, which carry the same
 * `node` label, so one scrape configuration covers every node.
 *
 * @example
 * ```ts
 * const metrics = new NodeMetrics('n1', () => status);
 * metrics.attach(runtime.metrics.registry); // once this node is the writer
 * ```
 */
export class NodeMetrics {
  readonly registry = new Registry();
  private readonly metrics: Metric[];
  private readonly failedBeats: Counter;

  constructor(
    readonly nodeId: string,
    status: () => NodeStatus,
    now: () => number = Date.now,
  ) {
    this.registry.setDefaultLabels({ node: nodeId });
    const registers = [this.registry];
    const role = new Gauge({
      name: 'troupe_node_role',
      help: "This node's role: 1 for the current one (standby, active = the writer, stopping)",
      labelNames: ['role'] as const,
      registers,
      collect() {
        const current = status().role;
        for (const r of ROLES) this.set({ role: r }, r === current ? 1 : 0);
      },
    });
    const heartbeatAge = new Gauge({
      name: 'troupe_node_heartbeat_age_seconds',
      help: "Seconds since this node's last heartbeat reached the database (-1 before the first)",
      registers,
      collect() {
        const at = status().lastBeatAt;
        this.set(at === null ? -1 : (now() - at) / 1000);
      },
    });
    const writerEpoch = new Gauge({
      name: 'troupe_cluster_writer_epoch',
      help: "The writer lease's epoch as this node last read it (0 when never taken)",
      registers,
      collect() {
        this.set(status().writer?.lease?.epoch ?? 0);
      },
    });
    const leaseLeft = new Gauge({
      name: 'troupe_cluster_writer_lease_seconds_left',
      help: "Seconds left on the writer lease when this node last read it, on the database's clock (0 when run out or never taken)",
      registers,
      collect() {
        const writer = status().writer;
        this.set(writer?.lease === undefined ? 0 : Math.max(0, (writer.lease.expiresAt - writer.dbNow) / 1000));
      },
    });
    const holds = new Gauge({
      name: 'troupe_node_holds_writer_lease',
      help: '1 while this node is the writer, holding the lease at troupe_node_epoch',
      registers,
      collect() {
        this.set(status().role === 'active' ? 1 : 0);
      },
    });
    const epoch = new Gauge({
      name: 'troupe_node_epoch',
      help: 'The epoch this node writes at while it is the writer (0 otherwise)',
      registers,
      collect() {
        this.set(status().epoch ?? 0);
      },
    });
    this.failedBeats = new Counter({
      name: 'troupe_node_heartbeats_failed_total',
      help: 'Heartbeats that did not reach the database',
      registers,
    });
    this.metrics = [role, heartbeatAge, writerEpoch, leaseLeft, holds, epoch, this.failedBeats];
  }

  /** Counts a heartbeat that failed. */
  beatFailed(): void {
    this.failedBeats.inc();
  }

  /** Adds the node's metrics and its `node` label to another registry (the writer's runtime metrics). */
  attach(registry: Registry): void {
    registry.setDefaultLabels({ node: this.nodeId });
    for (const metric of this.metrics) registry.registerMetric(metric);
  }

  /** The node's metrics alone, in the Prometheus text format (what a standby serves). */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
