import { z } from 'zod';
import { durationSchema } from './duration.js';

/**
 * The `troupe serve` configuration (`--config troupe.yaml`), every option also from the
 * environment (`TROUPE_` and the path in capitals: `TROUPE_RETENTION_FINISHED=1d`). See
 * docs/operations.md for an annotated example. Strict: a key this Troupe does not know is an
 * error, so a misspelt option never goes unnoticed.
 */
/** The rule every token obeys, in the words a refusal uses (docs/protocol.md, docs/api.md, `serve --help`). */
export const TOKEN_RULE = 'tokens must be at least 16 characters';

/** A token's secret: long enough not to be guessed, short enough to be cheap to check. */
export const tokenSecretSchema = z.string().min(16, TOKEN_RULE).max(1_000, 'tokens are at most 1,000 characters');

export const configSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.int().min(0).max(65_535).default(7411),
        /** A hello without the agent's resume secret may take over an agent id another session holds. */
        allowTakeover: z.boolean().default(false),
      })
      .default({ host: '127.0.0.1', port: 7411, allowTakeover: false }),
    store: z
      .strictObject({
        /** The SQLite file, or a `postgres://` URL; ignored with `memory: true`. */
        path: z.string().min(1).default('./.troupe/troupe.db'),
        memory: z.boolean().default(false),
        synchronous: z.enum(['NORMAL', 'FULL']).default('NORMAL'),
      })
      .default({ path: './.troupe/troupe.db', memory: false, synchronous: 'NORMAL' }),
    /** Who may connect, each token under a name that the audit log records. */
    tokens: z
      .array(
        z.strictObject({
          name: z
            .string()
            .regex(/^[A-Za-z0-9._-]{1,64}$/, 'a token name is 1-64 letters, digits, dots, dashes or underscores'),
          token: tokenSecretSchema,
          /** `agent` runs tasks, `observer` watches, `client` submits and manages work (HTTP API). */
          role: z.enum(['agent', 'observer', 'client']),
          /** For agent tokens: the agent ids it may say hello as (any when absent). */
          agentIds: z.array(z.string().min(1)).optional(),
        }),
      )
      .default([]),
    limits: z
      .strictObject({
        maxConnections: z.int().min(1).default(10_000),
        /** WebSocket connections at once per token. */
        maxConnectionsPerToken: z.int().min(1).default(1_000),
        /** How often observer connections are pinged; one that missed the previous pong is dropped. */
        observerPingInterval: durationSchema.default(30_000),
        rateLimit: z
          .union([
            z.literal(false),
            z.strictObject({
              messagesPerSecond: z.number().positive().default(5_000),
              burst: z.number().min(1).default(10_000),
            }),
          ])
          .prefault({}),
        maxViolations: z
          .strictObject({ count: z.int().min(1).default(20), window: durationSchema.default(60_000) })
          .prefault({}),
        maxBufferedBytes: z
          .int()
          .min(1_024)
          .default(8 * 1024 * 1024),
        grace: durationSchema.default(25_000),
        helloTimeout: durationSchema.default(10_000),
        maxFrameBytes: z
          .int()
          .min(1_024)
          .default(1024 * 1024),
        maxSubscriptions: z.int().min(1).default(64),
        maxPayloadBytes: z
          .int()
          .min(1)
          .default(1024 * 1024),
        /** Largest HTTP request body. */
        maxBodyBytes: z
          .int()
          .min(1_024)
          .default(4 * 1024 * 1024),
        /** HTTP requests per token. */
        httpRateLimit: z
          .union([
            z.literal(false),
            z.strictObject({
              requestsPerSecond: z.number().positive().default(200),
              burst: z.number().min(1).default(400),
            }),
          ])
          .prefault({}),
      })
      .prefault({}),
    retention: z
      .strictObject({
        /** Off: nothing is removed on its own (`runtime.retention.sweep()` still can). */
        enabled: z.boolean().default(true),
        finished: durationSchema.default(7 * 86_400_000),
        deadLettered: durationSchema.default(30 * 86_400_000),
        /** At most this many dead letters kept; the oldest beyond it are removed at the next sweep. Default: no limit. */
        deadLetteredMaxCount: z.int().min(0).optional(),
        /** Events of no ticket and no task; default: `finished`. */
        events: durationSchema.optional(),
        audit: durationSchema.default(90 * 86_400_000),
        interval: durationSchema.default(60_000),
        batchSize: z.int().min(1).max(10_000).default(100),
        /** A directory for JSON Lines archives written before delete; `false`: no archive. */
        archive: z.union([z.literal(false), z.string().min(1)]).default(false),
      })
      .prefault({}),
    log: z
      .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .default({ level: 'info' }),
  })
  .superRefine((config, ctx) => {
    const names = new Set<string>();
    const secrets = new Set<string>();
    config.tokens.forEach((t, i) => {
      if (names.has(t.name))
        ctx.addIssue({
          code: 'custom',
          path: ['tokens', i, 'name'],
          message: `the token name "${t.name}" is used twice`,
        });
      if (secrets.has(t.token))
        ctx.addIssue({ code: 'custom', path: ['tokens', i, 'token'], message: 'this token is given twice' });
      names.add(t.name);
      secrets.add(t.token);
      if (t.agentIds !== undefined && t.role !== 'agent') {
        ctx.addIssue({ code: 'custom', path: ['tokens', i, 'agentIds'], message: 'only agent tokens name agent ids' });
      }
    });
  });

/** A checked configuration, defaults filled in, durations in ms. */
export type TroupeConfig = z.output<typeof configSchema>;
/** A configuration as written. */
export type TroupeConfigInput = z.input<typeof configSchema>;

/**
 * Paths (dotted) that a reload applies while serving. Anything else (server, store) is read at
 * start only: a reload that changes it says so in the log and leaves it until the next start.
 */
export const LIVE_CONFIG_PATHS = ['tokens', 'limits', 'retention', 'log'] as const;
/** Limits read once at start (the WebSocket server's frame cutoff, per-connection tables). */
export const RESTART_ONLY_LIMITS = [
  'maxFrameBytes',
  'maxSubscriptions',
  'maxPayloadBytes',
  'maxBodyBytes',
  'httpRateLimit',
] as const;
