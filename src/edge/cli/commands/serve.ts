import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import { createRuntime } from '../../../runtime.js';
import { MemoryStore } from '../../../engine/store/memory-store.js';
import { SqliteStore } from '../../../engine/store/sqlite-store.js';
import { PostgresStore } from '../../../engine/store/postgres-store.js';
import type { Store } from '../../../engine/store/store.js';
import { startOtlpTracing } from '../../tracing/otlp-tracing.js';

interface ServeOptions {
  port: number;
  host: string;
  db: string;
  memory?: boolean;
  agentToken?: string[];
  observerToken?: string[];
  clientToken?: string[];
  graceMs?: number;
  otlp?: string;
  jsonSchema?: boolean;
  nodeId?: string;
  leaseMs: number;
}

const integer = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
};

const fromEnv = (name: string): string[] =>
  (process.env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/** A `--db` value: a `postgres://` (or `postgresql://`) URL selects PostgreSQL, anything else is a SQLite file. */
export function storeFor(db: string): Store {
  return /^postgres(ql)?:\/\//.test(db) ? new PostgresStore({ url: db }) : new SqliteStore({ path: db });
}

/**
 * `troupe serve`: a runtime on a SQLite or PostgreSQL store (or in memory) served to WebSocket agents and
 * observers. SIGINT or SIGTERM closes connections with 1001 and the store cleanly: running
 * work stays leased, and agents that reconnect to the next `troupe serve` within the grace
 * period resume it.
 */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a runtime: WebSocket agents and observers (docs/protocol.md), HTTP clients (docs/api.md)')
    .option('--port <n>', 'TCP port; 0 picks a free one', integer, 7411)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--db <path|url>', 'SQLite database file, or a postgres:// URL (or TROUPE_DB)', process.env['TROUPE_DB'] ?? './.troupe/troupe.db')
    .option('--memory', 'keep everything in memory (lost on exit) instead of --db')
    .option('--agent-token <token...>', 'tokens agents connect with (or TROUPE_AGENT_TOKENS, comma-separated)')
    .option('--observer-token <token...>', 'read-only tokens for observers (or TROUPE_OBSERVER_TOKENS)')
    .option('--client-token <token...>', 'tokens of clients that submit and steer work over HTTP (or TROUPE_CLIENT_TOKENS)')
    .option('--grace-ms <ms>', 'how long a disconnected agent keeps its leases', integer)
    .option('--node-id <id>', 'run as a node of a cluster on the --db PostgreSQL database (see docs/operations.md)')
    .option('--lease-ms <ms>', 'a cluster node: how long the writer lease lasts without renewal (about the failover time)', integer, 3_000)
    .option('--otlp <url>', 'send OpenTelemetry traces to this OTLP/HTTP endpoint, e.g. http://127.0.0.1:4318/v1/traces (or TROUPE_OTLP_URL)')
    .option('--json-schema', 'print protocol v1 as JSON Schema and exit')
    .action(async (options: ServeOptions) => {
      if (options.jsonSchema) {
        const { protocolJsonSchema } = await import('../../server/protocol/protocol-json-schema.js');
        console.log(JSON.stringify(protocolJsonSchema(), null, 2));
        return;
      }
      let agentTokens = options.agentToken ?? fromEnv('TROUPE_AGENT_TOKENS');
      let observerTokens = options.observerToken ?? fromEnv('TROUPE_OBSERVER_TOKENS');
      let clientTokens = options.clientToken ?? fromEnv('TROUPE_CLIENT_TOKENS');
      if (agentTokens.length === 0 && observerTokens.length === 0 && clientTokens.length === 0) {
        // Never open without a token: make some up and say what they are.
        agentTokens = [randomBytes(24).toString('base64url')];
        observerTokens = [randomBytes(24).toString('base64url')];
        clientTokens = [randomBytes(24).toString('base64url')];
        console.error(`troupe serve: no tokens given; generated for this run:`);
        console.error(`  agent token:    ${agentTokens[0]}`);
        console.error(`  observer token: ${observerTokens[0]}`);
        console.error(`  client token:   ${clientTokens[0]}`);
      }
      if (options.nodeId !== undefined) {
        if (options.memory || !/^postgres(ql)?:\/\//.test(options.db)) {
          console.error('troupe serve: --node-id needs --db postgres://...: the nodes of a cluster share one PostgreSQL database');
          process.exitCode = 2;
          return;
        }
        const { runClusterNode } = await import('./cluster-node.js');
        const node = await runClusterNode({
          db: options.db,
          nodeId: options.nodeId,
          leaseMs: Math.max(300, options.leaseMs),
          server: {
            port: options.port,
            host: options.host,
            agentTokens,
            observerTokens,
            clientTokens,
            ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
          },
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
      const store = options.memory ? new MemoryStore() : storeFor(options.db);
      const runtime = createRuntime({ store });
      // Loaded here, not at the top: the other commands never load `ws`.
      const { startServer } = await import('../../server/server.js');
      const server = await startServer(runtime, {
        port: options.port,
        host: options.host,
        agentTokens,
        observerTokens,
        clientTokens,
        ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
      });
      const report = await runtime.start();
      console.log(`troupe serve: listening on ${server.url} (HTTP API: ${server.httpUrl}/v1, health: ${server.httpUrl}/healthz, store: ${store.name})`);
      console.log(`troupe serve: dashboard at ${server.httpUrl}/ui (sign in with an observer or client token)`);
      if (otlpUrl) console.log(`troupe serve: sending traces to ${otlpUrl}`);
      if (report.actors > 0) console.log(`troupe serve: resumed ${report.actors} unfinished actors from the store`);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          console.error(`troupe serve: ${signal} again, exiting now`);
          process.exit(1);
        }
        stopping = true;
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
    });
}
