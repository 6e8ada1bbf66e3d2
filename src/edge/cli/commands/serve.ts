import { InvalidArgumentError, type Command } from 'commander';
import { pino } from 'pino';
import { createRuntime } from '../../../runtime.js';
import { MemoryStore } from '../../../engine/store/memory-store.js';
import { SqliteStore } from '../../../engine/store/sqlite-store.js';
import { PostgresStore } from '../../../engine/store/postgres-store.js';
import type { Store } from '../../../engine/store/store.js';
import { startOtlpTracing } from '../../tracing/otlp-tracing.js';
import { retentionOf, serverOptionsOf } from '../../config/config-apply.js';
import { formatConfigProblem } from '../../config/config-load.js';
import { ConfigReloader } from '../../config/config-reload.js';
import { serveConfig, type ServeFlags } from '../../config/serve-config.js';
import { TOKEN_RULE } from '../../config/config-schema.js';

interface ServeOptions extends ServeFlags {
  otlp?: string;
  jsonSchema?: boolean;
  nodeId?: string;
  leaseMs: number;
  shards?: number;
}

/** The most shards a cluster may have: each held shard is a runtime and a port on its node. */
const MAX_SHARDS = 256;

const integer = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
};

/** The shard count stored in the database, set to `requested` if none is stored yet. */
async function clusterShards(db: string, requested: number | undefined): Promise<number | undefined> {
  const registry = new PostgresStore({ url: db, poolSize: 1 });
  await registry.open();
  try {
    return await registry.clusterShards(requested);
  } finally {
    await registry.close();
  }
}

/** A store path: a `postgres://` (or `postgresql://`) URL selects PostgreSQL, anything else is a SQLite file. */
export function storeFor(db: string, synchronous: 'NORMAL' | 'FULL' = 'NORMAL'): Store {
  return /^postgres(ql)?:\/\//.test(db) ? new PostgresStore({ url: db }) : new SqliteStore({ path: db, synchronous });
}

/**
 * `troupe serve`: a runtime on a SQLite or PostgreSQL store (or in memory) served to WebSocket agents and
 * observers, configured by `--config troupe.yaml`, `TROUPE_*` variables and flags (in rising
 * order of precedence; docs/operations.md). SIGHUP reloads the configuration: what can change
 * live is applied, the rest waits for a restart, and an invalid file changes nothing. SIGINT or
 * SIGTERM closes connections with 1001 and the store cleanly: running work stays leased, and
 * agents that reconnect to the next `troupe serve` within the grace period resume it.
 */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .addHelpText(
      'after',
      `\nTokens: ${TOKEN_RULE} (at most 1,000); a shorter one stops the server before it starts, naming the flag or variable.`,
    )
    .option('--config <file>', 'configuration file (YAML; see docs/operations.md)')
    .option('--port <n>', 'TCP port; 0 picks a free one (default 7411)', integer)
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .option(
      '--db <path|url>',
      'SQLite database file, or a postgres:// URL (default ./.troupe/troupe.db; or TROUPE_STORE_PATH)',
    )
    .option('--memory', 'keep everything in memory (lost on exit) instead of --db')
    .option(
      '--agent-token <token...>',
      'tokens agents connect with, at least 16 characters each; TOKEN=agent-a,agent-b binds one to those agent ids (or TROUPE_AGENT_TOKENS, comma-separated, ids joined by |)',
    )
    .option(
      '--observer-token <token...>',
      'read-only tokens for observers, at least 16 characters each (or TROUPE_OBSERVER_TOKENS)',
    )
    .option(
      '--client-token <token...>',
      'tokens of clients that submit and steer work over HTTP, at least 16 characters each (or TROUPE_CLIENT_TOKENS)',
    )
    .option(
      '--log-level <level>',
      'fatal, error, warn, info (default), debug, trace or silent (or TROUPE_LOG_LEVEL, or log.level in --config; docs/logging.md)',
    )
    .option('--grace-ms <ms>', 'how long a disconnected agent keeps its leases', integer)
    .option('--node-id <id>', 'run as a node of a cluster on the --db PostgreSQL database (see docs/operations.md)')
    .option(
      '--lease-ms <ms>',
      'a cluster node: how long the writer lease lasts without renewal (about the failover time)',
      integer,
      3_000,
    )
    .option(
      '--shards <n>',
      `a cluster node: how many shards (writers) the cluster has, 1-${MAX_SHARDS}; stored in the database when first set, default 1 (one writer, hot standbys)`,
      integer,
    )
    .option(
      '--otlp <url>',
      'send OpenTelemetry traces to this OTLP/HTTP endpoint, e.g. http://127.0.0.1:4318/v1/traces (or TROUPE_OTLP_URL)',
    )
    .option('--json-schema', 'print protocol v1 as JSON Schema and exit')
    .action(async (options: ServeOptions) => {
      if (options.jsonSchema) {
        const { protocolJsonSchema } = await import('../../server/protocol/protocol-json-schema.js');
        console.log(JSON.stringify(protocolJsonSchema(), null, 2));
        return;
      }
      const { load, generated } = serveConfig(options);
      const loaded = load();
      if (!loaded.ok) {
        for (const p of loaded.problems) console.error(formatConfigProblem(p));
        console.error(`troupe serve: the configuration has ${loaded.problems.length} problem(s); not started`);
        process.exitCode = 1;
        return;
      }
      const config = loaded.config;
      if (generated.length > 0) {
        console.error(`troupe serve: no tokens given; generated for this run:`);
        for (const t of generated) console.error(`  ${t.role} token:${' '.repeat(9 - t.role.length)}${t.token}`);
      }
      const logger = pino({ level: config.log.level }, pino.destination(2));
      const serverLogger = logger.child({ component: 'server' });
      if (options.nodeId !== undefined) {
        if (config.store.memory || !/^postgres(ql)?:\/\//.test(config.store.path)) {
          console.error(
            'troupe serve: --node-id needs --db postgres://...: the nodes of a cluster share one PostgreSQL database',
          );
          process.exitCode = 2;
          return;
        }
        if (options.shards !== undefined && (options.shards < 1 || options.shards > MAX_SHARDS)) {
          console.error(`troupe serve: --shards must be between 1 and ${MAX_SHARDS}, got ${options.shards}`);
          process.exitCode = 2;
          return;
        }
        const shards = await clusterShards(config.store.path, options.shards);
        if (options.shards !== undefined && shards !== options.shards) {
          console.error(
            `troupe serve: this database's cluster has ${shards} shards (set when it was first started); --shards ${options.shards} cannot change it`,
          );
          process.exitCode = 2;
          return;
        }
        const { runClusterNode } = await import('./cluster-node.js');
        const { runShardedNode } = await import('./shard-node.js');
        const run = (shards ?? 1) > 1 ? runShardedNode : runClusterNode;
        const node = await run({
          shards: shards ?? 1,
          db: config.store.path,
          nodeId: options.nodeId,
          leaseMs: Math.max(300, options.leaseMs),
          server: serverOptionsOf(config, serverLogger),
          // Only the writer runs a runtime, so only the writer sweeps retention.
          runtime: { logger, retention: retentionOf(config), maxPayloadBytes: config.limits.maxPayloadBytes },
          log: (line) => console.log(line),
        });
        const stopNode = (signal: string) => {
          console.log(`troupe serve: ${signal}, node ${options.nodeId} shutting down`);
          void node.stop().then(
            () => console.log('troupe serve: stopped; the writer lease is let go'),
            (error: unknown) => {
              console.error(`troupe serve: shutdown failed: ${(error as Error).message}`);
              process.exitCode = 1;
            },
          );
        };
        process.once('SIGINT', () => stopNode('SIGINT'));
        process.once('SIGTERM', () => stopNode('SIGTERM'));
        return;
      }
      const otlpUrl = options.otlp ?? process.env['TROUPE_OTLP_URL'];
      const tracing = otlpUrl ? await startOtlpTracing(otlpUrl) : null;
      const store = config.store.memory ? new MemoryStore() : storeFor(config.store.path, config.store.synchronous);
      if (store instanceof PostgresStore && ((await clusterShards(config.store.path, undefined)) ?? 1) > 1) {
        console.error(
          'troupe serve: this database holds a sharded cluster: start its nodes with --node-id (docs/operations.md, "Several writers")',
        );
        process.exitCode = 2;
        return;
      }
      const runtime = createRuntime({
        store,
        logger,
        retention: retentionOf(config),
        maxPayloadBytes: config.limits.maxPayloadBytes,
      });
      // Loaded here, not at the top: the other commands never load `ws`.
      const { startServer } = await import('../../server/server.js');
      const server = await startServer(runtime, serverOptionsOf(config, serverLogger));
      const report = await runtime.start();
      // The signals are taken before the first line says the server is up: a SIGHUP or SIGTERM
      // sent on reading that line must find its handler, not Node's default (exit at once).
      const reloader = new ConfigReloader(load, config, { runtime, server, loggers: [logger, serverLogger] });
      const onHangup = () => {
        void reloader.reload().then((outcome) => {
          if (outcome.ok)
            console.log(
              `troupe serve: SIGHUP, configuration reloaded (changed: ${outcome.changed.join(', ') || 'nothing'}${outcome.restartNeeded.length > 0 ? `; on restart: ${outcome.restartNeeded.join(', ')}` : ''})`,
            );
          else
            for (const p of outcome.problems) console.error(`troupe serve: SIGHUP refused: ${formatConfigProblem(p)}`);
        });
      };
      process.on('SIGHUP', onHangup);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          console.error(`troupe serve: ${signal} again, exiting now`);
          process.exit(1);
        }
        stopping = true;
        process.off('SIGHUP', onHangup);
        console.log(`troupe serve: ${signal}, shutting down`);
        void server
          .close()
          .then(() => runtime.stop())
          .then(() => tracing?.shutdown())
          .then(
            () => console.log('troupe serve: stopped; unfinished work is stored'),
            (error: unknown) => {
              console.error(`troupe serve: shutdown failed: ${(error as Error).message}`);
              process.exitCode = 1;
            },
          );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
      console.log(
        `troupe serve: listening on ${server.url} (HTTP API: ${server.httpUrl}/v1, health: ${server.httpUrl}/healthz, store: ${store.name})`,
      );
      console.log(`troupe serve: dashboard at ${server.httpUrl}/ui (sign in with an observer or client token)`);
      if (otlpUrl) console.log(`troupe serve: sending traces to ${otlpUrl}`);
      if (report.actors > 0) console.log(`troupe serve: resumed ${report.actors} unfinished actors from the store`);
    });
}
