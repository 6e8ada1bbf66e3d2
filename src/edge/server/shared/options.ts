import type { Logger } from 'pino';
import { z } from 'zod';
import { parseOrThrow } from '../../../engine/validation.js';
import type { WelcomeMessage } from '../protocol/server-messages.js';

/** An agent token, optionally bound to the agent ids it may say hello as. */
export type AgentTokenSpec = string | { token: string; agentIds?: string[] };

/**
 * Options of the WebSocket server. Every limit has a safe default; tokens have none (there is
 * no anonymous mode: give at least one agent or observer token).
 *
 * @example
 * ```ts
 * const options: ServerOptions = {
 *   port: 7411,
 *   agentTokens: [process.env.AGENT_TOKEN!, { token: process.env.CODER_TOKEN!, agentIds: ['coder-1'] }],
 *   observerTokens: [process.env.DASHBOARD_TOKEN!],
 *   graceMs: 20_000,
 *   rateLimit: { messagesPerSecond: 1_000, burst: 2_000 },
 * };
 * ```
 */
export interface ServerOptions {
  /** TCP port; 0 picks a free one (read it back from `server.port`). Default 7411. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1` (loopback only). */
  host?: string;
  /** Path of the WebSocket endpoint. Default `/v1/ws`. */
  path?: string;
  /** Tokens that let a connection act as an agent. */
  agentTokens?: AgentTokenSpec[];
  /** Tokens that let a connection observe (read-only). */
  observerTokens?: string[];
  /**
   * Tokens of clients: they submit, steer and read work through the HTTP API under `/v1`
   * (`docs/api.md`). A client token cannot connect as an agent or an observer.
   */
  clientTokens?: string[];
  /**
   * Names of tokens, by token: who the audit log records as having acted (a configuration's
   * token names). A token without one is recorded as a digest prefix, never the secret.
   */
  tokenNames?: Record<string, string>;
  /** Largest HTTP request body, in bytes; larger ones get 413 `E_PAYLOAD_TOO_LARGE`. Default 4 MiB. */
  maxBodyBytes?: number;
  /** HTTP requests per token: a token bucket. `false` turns it off. Default 200/s, burst 400. */
  httpRateLimit?: { requestsPerSecond: number; burst: number } | false;
  /** How often agents are asked to beat, in ms. Default 15 s. */
  heartbeatIntervalMs?: number;
  /** Silence after which a WebSocket agent is stale and its tasks requeue. Default 45 s. */
  staleAfterMs?: number;
  /**
   * How long a disconnected agent keeps its leases, in ms; reconnecting within it resumes its
   * tasks. Default 25 s: keep it below `staleAfterMs - heartbeatIntervalMs`, or the agent may
   * go stale (and lose its tasks) while still inside its grace period.
   */
  graceMs?: number;
  /** An agent connection must say hello within this many ms. Default 10 s. */
  helloTimeoutMs?: number;
  /** Largest frame read and handled, in bytes. Larger frames get `E_FRAME_TOO_LARGE`. Default 1 MiB. */
  maxFrameBytes?: number;
  /**
   * Frames above this are not read at all: `ws` closes the connection with 1009. Default four
   * times `maxFrameBytes`. Between the two, the frame is read, refused, and the connection lives.
   */
  frameCutoffBytes?: number;
  /** Messages per connection: a token bucket. `false` turns it off. Default 5,000/s, burst 10,000. */
  rateLimit?: { messagesPerSecond: number; burst: number } | false;
  /** A connection whose unsent data passes this many bytes is closed with 4001. Default 8 MiB. */
  maxBufferedBytes?: number;
  /** Bad frames and rate-limited messages tolerated per window before closing with 4000. Default 20 per 60 s. */
  maxViolations?: { count: number; windowMs: number };
  /** Subscriptions one observer connection may hold. Default 64. */
  maxSubscriptions?: number;
  /** Connections at once; further upgrades get HTTP 503. Default 10,000. */
  maxConnections?: number;
  /** WebSocket connections at once per token; further upgrades with it get HTTP 429. Default 1,000. */
  maxConnectionsPerToken?: number;
  /**
   * How often an observer connection is pinged, in ms. One that has not answered the previous
   * ping (a WebSocket pong) by the next is dropped. Default 30 s.
   */
  observerPingIntervalMs?: number;
  /**
   * Whether a hello without the agent's resume secret may take over an agent id another session
   * holds (its connection is closed with 4002). Default false: it is refused with `E_AGENT_TAKEN`.
   */
  allowTakeover?: boolean;
  /** Longest wait for clients to answer the close handshake on shutdown, in ms. Default 2 s. */
  shutdownTimeoutMs?: number;
  /** Default: the runtime's logger. */
  logger?: Logger;
}

const tokenSchema = z.string().min(16, 'tokens must be at least 16 characters').max(1_000);

const optionsSchema = z
  .strictObject({
    port: z.int().min(0).max(65_535).default(7411),
    host: z.string().min(1).default('127.0.0.1'),
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9._~/-]*$/, 'a path starts with / and uses URL-safe characters')
      .default('/v1/ws'),
    agentTokens: z
      .array(
        z.union([tokenSchema, z.strictObject({ token: tokenSchema, agentIds: z.array(z.string().min(1)).optional() })]),
      )
      .default([]),
    observerTokens: z.array(tokenSchema).default([]),
    clientTokens: z.array(tokenSchema).default([]),
    tokenNames: z.record(z.string(), z.string().min(1)).default({}),
    maxBodyBytes: z
      .int()
      .min(1_024)
      .default(4 * 1024 * 1024),
    httpRateLimit: z
      .union([z.literal(false), z.strictObject({ requestsPerSecond: z.number().positive(), burst: z.number().min(1) })])
      .default({ requestsPerSecond: 200, burst: 400 }),
    heartbeatIntervalMs: z.int().positive().default(15_000),
    staleAfterMs: z.int().positive().default(45_000),
    graceMs: z.int().min(0).default(25_000),
    helloTimeoutMs: z.int().positive().default(10_000),
    maxFrameBytes: z
      .int()
      .min(1_024)
      .default(1024 * 1024),
    frameCutoffBytes: z.int().min(1_024).optional(),
    rateLimit: z
      .union([z.literal(false), z.strictObject({ messagesPerSecond: z.number().positive(), burst: z.number().min(1) })])
      .default({ messagesPerSecond: 5_000, burst: 10_000 }),
    maxBufferedBytes: z
      .int()
      .min(1_024)
      .default(8 * 1024 * 1024),
    maxViolations: z
      .strictObject({ count: z.int().min(1), windowMs: z.int().positive() })
      .default({ count: 20, windowMs: 60_000 }),
    maxSubscriptions: z.int().min(1).default(64),
    maxConnections: z.int().min(1).default(10_000),
    maxConnectionsPerToken: z.int().min(1).default(1_000),
    observerPingIntervalMs: z.int().min(100).default(30_000),
    allowTakeover: z.boolean().default(false),
    shutdownTimeoutMs: z.int().min(0).default(2_000),
    logger: z.custom<Logger>().optional(),
  })
  .refine((o) => o.agentTokens.length + o.observerTokens.length + o.clientTokens.length > 0, {
    message: 'give at least one agent, observer or client token (there is no anonymous mode)',
    path: ['agentTokens'],
  });

export type ResolvedServerOptions = Omit<z.output<typeof optionsSchema>, 'frameCutoffBytes' | 'logger'> & {
  frameCutoffBytes: number;
};

/** Checks the options and fills in the defaults; throws `E_INVALID_INPUT` naming each bad field. */
export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  const { logger: _logger, ...rest } = options;
  const parsed = parseOrThrow(optionsSchema, rest, 'server options');
  const { logger: _ignored, frameCutoffBytes, ...resolved } = parsed;
  return {
    ...resolved,
    frameCutoffBytes: Math.max(frameCutoffBytes ?? resolved.maxFrameBytes * 4, resolved.maxFrameBytes),
  };
}

/** Limits a running server can change (`server.reload`): read afresh by each new connection or session. */
export const LIVE_SERVER_OPTIONS = [
  'rateLimit',
  'maxConnections',
  'maxConnectionsPerToken',
  'observerPingIntervalMs',
  'maxViolations',
  'maxBufferedBytes',
  'graceMs',
  'helloTimeoutMs',
] as const;

/** What `server.reload` takes: the tokens and the live limits. */
export type LiveServerOptions = Pick<
  ServerOptions,
  'agentTokens' | 'observerTokens' | 'clientTokens' | 'tokenNames' | (typeof LIVE_SERVER_OPTIONS)[number]
>;

/** The limits a client is told of in `welcome`. */
export function limitsOf(options: ResolvedServerOptions): WelcomeMessage['limits'] {
  return {
    maxFrameBytes: options.maxFrameBytes,
    frameCutoffBytes: options.frameCutoffBytes,
    maxBufferedBytes: options.maxBufferedBytes,
    messagesPerSecond: options.rateLimit === false ? null : options.rateLimit.messagesPerSecond,
    burst: options.rateLimit === false ? null : options.rateLimit.burst,
    helloTimeoutMs: options.helloTimeoutMs,
    maxSubscriptions: options.maxSubscriptions,
  };
}
