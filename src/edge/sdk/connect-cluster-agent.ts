import { connectAgent, type ConnectAgentOptions, type RemoteAgent } from './connect-agent.js';
import { SlotPool } from './slot-pool.js';

/**
 * What `connectClusterAgent` takes: a remote agent's options, with every node's HTTP URL in place
 * of one WebSocket URL.
 *
 * @example
 * ```ts
 * const options: ConnectClusterAgentOptions = {
 *   nodes: ['http://10.0.0.1:7411', 'http://10.0.0.2:7411'], token, id: 'coder-1', capacity: 8,
 *   handler: async (task) => task.input,
 * };
 * ```
 */
export interface ConnectClusterAgentOptions extends Omit<ConnectAgentOptions, 'url'> {
  /** The HTTP base URL of nodes of the cluster (`http://host:port`); any one that answers gives the shard map. */
  nodes: readonly string[];
  /** How often the shard map is read again, in ms, to follow shards that moved. Default 1,000. */
  refreshMs?: number;
}

/** One shard's endpoint in `GET /v1/cluster/shards`. */
interface ShardEntry {
  shard: number;
  url: string;
}

/**
 * An agent of a sharded cluster: one connection per shard, each to the node that writes that
 * shard now, as agent `<id>@<shard>`. Created by `connectClusterAgent`.
 *
 * @example
 * ```ts
 * const agent = await connectClusterAgent({ nodes, token, id: 'coder-1', capacity: 8, handler });
 * console.log(`${agent.shards.size} shards, ${agent.running} tasks running`);
 * await agent.close();
 * ```
 */
export class ClusterAgent {
  /** The connection to each shard, by shard. */
  readonly shards = new Map<number, RemoteAgent>();
  private readonly endpoints = new Map<number, string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private turn = 0;

  private constructor(private readonly options: ConnectClusterAgentOptions) {}

  /** Reads the shard map, connects to every shard, and follows the map. @internal */
  static async connect(options: ConnectClusterAgentOptions): Promise<ClusterAgent> {
    const agent = new ClusterAgent(options);
    const count = await agent.refresh(true);
    const capacity = options.capacity ?? 1;
    // With fewer slots than shards each connection still asks for one, and a pool shared by all
    // of them keeps the total at the agent's capacity (an assignment beyond it is rejected as busy).
    const slots = capacity < count ? new SlotPool(capacity) : undefined;
    // Followed from the start: a shard may move while the first connections are being made.
    agent.timer = setInterval(() => void agent.refresh(false).catch(() => undefined), options.refreshMs ?? 1_000);
    const connecting = await Promise.allSettled(
      Array.from({ length: count }, (_, k) =>
        connectAgent({
          ...options,
          id: `${options.id}@${k}`,
          capacity: shareOf(capacity, count, k),
          slots,
          // Asked before each connection: a lost shard is looked for where the map says it moved.
          url: () => agent.endpoints.get(k) ?? options.nodes[0] ?? '',
          reconnect: options.reconnect ?? { initialDelayMs: 100, maxDelayMs: 1_000 },
        }),
      ),
    );
    connecting.forEach((outcome, k) => {
      if (outcome.status === 'fulfilled') agent.shards.set(k, outcome.value);
    });
    const refused = connecting.find((outcome) => outcome.status === 'rejected');
    if (refused !== undefined) {
      await agent.close();
      throw refused.reason;
    }
    return agent;
  }

  /** Handlers running now, over every shard. */
  get running(): number {
    let n = 0;
    for (const remote of this.shards.values()) n += remote.running;
    return n;
  }

  /** Leaves every shard (`RemoteAgent.close`). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.shards.values()].map((remote) => remote.close()));
  }

  /** Reads the shard map from a node that answers; at first, waits until every shard has a writer. */
  private async refresh(first: boolean): Promise<number> {
    const { nodes, token } = this.options;
    for (let attempt = 0; ; attempt++) {
      const node = nodes[this.turn++ % nodes.length];
      try {
        const answer = await fetch(`${node}/v1/cluster/shards`, { headers: { authorization: `Bearer ${token}` } });
        if (answer.ok) {
          const map = (await answer.json()) as { shards: number; endpoints: ShardEntry[] };
          for (const e of map.endpoints) {
            const before = this.endpoints.get(e.shard);
            this.endpoints.set(e.shard, e.url);
            // The shard moved: its old node may be paused, its connection hanging instead of closing.
            if (before !== undefined && before !== e.url) this.shards.get(e.shard)?.reconnect();
          }
          if (!first || this.endpoints.size >= map.shards) return map.shards;
        } else if (answer.status === 401) throw new Error(`node ${node} refused the token (401)`);
      } catch (error) {
        if (!first || (error as Error).message.includes('401')) throw error;
      }
      if (attempt > 600) throw new Error(`no node of ${nodes.join(', ')} gave a full shard map`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Shard `k`'s part of an agent's capacity: split evenly, at least one each (a shared pool holds the total). */
function shareOf(capacity: number, count: number, k: number): number {
  return Math.max(1, Math.floor(capacity / count) + (k < capacity % count ? 1 : 0));
}

/**
 * Connects an agent to every shard of a sharded cluster (`troupe serve --shards N`): it reads the
 * shard map (`GET /v1/cluster/shards`) from any node it is given, holds one connection per shard
 * to the node that writes it, as agent `<id>@<shard>`, and follows shards that move (a failover,
 * a node joining) by reading the map again every `refreshMs`: a connection lost reconnects where
 * the map says its shard is now, resuming its leases within the grace period. Its capacity is
 * split evenly between the shards; with fewer slots than shards each connection asks for one and
 * a `SlotPool` shared by them keeps the tasks run at once within the capacity (an assignment that
 * finds no free slot is rejected as busy and offered elsewhere). Resolves once every shard has
 * welcomed it.
 *
 * @example
 * ```ts
 * import { connectClusterAgent } from 'troupe/sdk';
 *
 * const agent = await connectClusterAgent({
 *   nodes: ['http://127.0.0.1:7411', 'http://127.0.0.1:7412'],
 *   token: process.env.TROUPE_AGENT_TOKEN!,
 *   id: 'coder-1',
 *   capacity: 8,
 *   handler: async (task) => ({ ok: true, input: task.input }),
 * });
 * await agent.close();
 * ```
 */
export function connectClusterAgent(options: ConnectClusterAgentOptions): Promise<ClusterAgent> {
  return ClusterAgent.connect(options);
}
