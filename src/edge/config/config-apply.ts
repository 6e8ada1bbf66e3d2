import type { Logger } from 'pino';
import type { RetentionOptions } from '../../engine/retention/retention-policy.js';
import type { AgentTokenSpec, LiveServerOptions, ServerOptions } from '../server/shared/options.js';
import type { TroupeConfig } from './config-schema.js';

/** The retention policy a configuration asks for. */
export function retentionOf(config: TroupeConfig): RetentionOptions {
  const r = config.retention;
  return {
    schedule: r.enabled,
    finishedMs: r.finished,
    deadLetteredMs: r.deadLettered,
    ...(r.deadLetteredMaxCount !== undefined ? { deadLetteredMaxCount: r.deadLetteredMaxCount } : {}),
    ...(r.events !== undefined ? { eventsMs: r.events } : {}),
    auditMs: r.audit,
    intervalMs: r.interval,
    batchSize: r.batchSize,
    archive: r.archive === false ? false : { dir: r.archive },
  };
}

/** The tokens and limits a running server can take (`server.reload`). */
export function liveServerOptionsOf(config: TroupeConfig): Required<LiveServerOptions> {
  const agentTokens: AgentTokenSpec[] = config.tokens
    .filter((t) => t.role === 'agent')
    .map((t) => (t.agentIds === undefined ? t.token : { token: t.token, agentIds: t.agentIds }));
  const l = config.limits;
  return {
    agentTokens,
    observerTokens: config.tokens.filter((t) => t.role === 'observer').map((t) => t.token),
    clientTokens: config.tokens.filter((t) => t.role === 'client').map((t) => t.token),
    tokenNames: Object.fromEntries(config.tokens.map((t) => [t.token, t.name])),
    rateLimit: l.rateLimit,
    maxConnections: l.maxConnections,
    maxConnectionsPerToken: l.maxConnectionsPerToken,
    observerPingIntervalMs: l.observerPingInterval,
    maxViolations: { count: l.maxViolations.count, windowMs: l.maxViolations.window },
    maxBufferedBytes: l.maxBufferedBytes,
    graceMs: l.grace,
    helloTimeoutMs: l.helloTimeout,
  };
}

/** Everything `runtime.listen` takes from a configuration. */
export function serverOptionsOf(config: TroupeConfig, logger: Logger): ServerOptions {
  return {
    ...liveServerOptionsOf(config),
    host: config.server.host,
    port: config.server.port,
    allowTakeover: config.server.allowTakeover,
    maxFrameBytes: config.limits.maxFrameBytes,
    maxSubscriptions: config.limits.maxSubscriptions,
    maxBodyBytes: config.limits.maxBodyBytes,
    httpRateLimit: config.limits.httpRateLimit,
    logger,
  };
}

/**
 * The name of each token, by its secret: what the audit log records as who did something.
 * Edges that authenticate a request (the HTTP API) look the caller up here.
 */
export function tokenNames(config: TroupeConfig): Map<string, { name: string; role: string }> {
  return new Map(config.tokens.map((t) => [t.token, { name: t.name, role: t.role }]));
}

/** Paths that differ between two configurations, one level into each section (`retention.finished`, `tokens`). */
export function changedPaths(before: TroupeConfig, after: TroupeConfig): string[] {
  const changed: string[] = [];
  for (const section of Object.keys(after) as Array<keyof TroupeConfig>) {
    const a = before[section] as unknown;
    const b = after[section] as unknown;
    if (section === 'tokens' || typeof b !== 'object' || b === null) {
      if (JSON.stringify(a) !== JSON.stringify(b)) changed.push(section);
      continue;
    }
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b)]);
    for (const key of keys) {
      if (JSON.stringify((a as Record<string, unknown>)[key]) !== JSON.stringify((b as Record<string, unknown>)[key]))
        changed.push(`${section}.${key}`);
    }
  }
  return changed;
}
