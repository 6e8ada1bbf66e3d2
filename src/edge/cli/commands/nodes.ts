import type { Command } from 'commander';
import { PostgresStore } from '../../../engine/store/postgres-store.js';
import { WRITER_LEASE } from './cluster-node.js';
import { SHARD_LEASE_PREFIX } from './shard-node.js';

interface NodesOptions {
  db: string;
  json?: boolean;
}

/**
 * `troupe nodes --db postgres://...`: the nodes of a cluster, their role, where agents reach
 * them and the age of their last heartbeat, with the writer lease (holder, epoch, time left), or
 * for a sharded cluster each shard's writer (holder, epoch, time left, where its agents connect),
 * all on the database's clock.
 */
export function registerNodes(program: Command): void {
  program
    .command('nodes')
    .option('--db <url>', 'the cluster database, postgres://... (or TROUPE_DB)', process.env['TROUPE_DB'])
    .option('--json', 'print JSON instead of a table')
    .action(async (options: NodesOptions) => {
      if (options.db === undefined || !/^postgres(ql)?:\/\//.test(options.db)) {
        console.error('troupe nodes: give the cluster database with --db postgres://... (or TROUPE_DB)');
        process.exitCode = 2;
        return;
      }
      const store = new PostgresStore({ url: options.db, poolSize: 1 });
      await store.open();
      try {
        const nodes = await store.listNodes();
        const lease = await store.getLease(WRITER_LEASE);
        const count = (await store.clusterShards()) ?? 1;
        const shards =
          count > 1
            ? { count, leases: await store.leasesNamed(SHARD_LEASE_PREFIX), endpoints: await store.shardEndpoints() }
            : undefined;
        if (options.json) {
          console.log(JSON.stringify({ nodes, writer: lease ?? null, ...(shards ? { shards } : {}) }, null, 2));
          return;
        }
        const now = nodes[0]?.now ?? 0;
        const timeLeft = (expiresAt: number) => {
          const left = expiresAt - (now || expiresAt);
          return left > 0 ? `${(left / 1000).toFixed(1)}s left` : 'run out';
        };
        console.log(['NODE', 'ROLE', 'EPOCH', 'PID', 'HEARTBEAT', 'URL'].join('\t'));
        for (const n of nodes) {
          const age = `${((n.now - n.heartbeatAt) / 1000).toFixed(1)}s ago`;
          console.log([n.id, n.role, n.epoch ?? '-', n.pid ?? '-', age, n.url ?? '-'].join('\t'));
        }
        if (shards !== undefined) {
          for (let k = 0; k < shards.count; k++) {
            const held = shards.leases.find((l) => l.name === `${SHARD_LEASE_PREFIX}${k}`);
            const at = shards.endpoints.find((e) => e.shard === k && e.holder === held?.holder);
            console.log(
              held === undefined
                ? `shard ${k}: never taken`
                : `shard ${k}: ${held.holder}, epoch ${held.epoch}, ${timeLeft(held.expiresAt)}${at ? `, agents at ${at.url}` : ''}`,
            );
          }
        } else if (lease === undefined) console.log('writer lease: never taken');
        else console.log(`writer lease: ${lease.holder}, epoch ${lease.epoch}, ${timeLeft(lease.expiresAt)}`);
      } finally {
        await store.close();
      }
    });
}
