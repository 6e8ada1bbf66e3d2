import { randomBytes } from 'node:crypto';
import { loadConfig, type ConfigResult } from './config-load.js';
import type { TroupeConfig } from './config-schema.js';

/** The flags of `troupe serve` that set configuration options (they win over file and environment). */
export interface ServeFlags {
  config?: string;
  port?: number;
  host?: string;
  db?: string;
  memory?: boolean;
  agentToken?: string[];
  observerToken?: string[];
  clientToken?: string[];
  graceMs?: number;
  /** `--log-level`: checked against the schema like the file's `log.level`. */
  logLevel?: string;
}

type Token = TroupeConfig['tokens'][number];

/**
 * How `troupe serve` reads its configuration: `--config` file, `TROUPE_*` variables, flags.
 * Tokens from `--agent-token`/`--observer-token` and the older comma-separated
 * `TROUPE_AGENT_TOKENS`/`TROUPE_OBSERVER_TOKENS`/`TROUPE_CLIENT_TOKENS` are added to the configured ones (named
 * `flag-agent-1`, `env-observer-1`, ...). When no token is configured at all,
 * one of each role is made up for the run (`generated-agent`, `generated-observer`, `generated-client`) and `generated`
 * says so; they are kept across reloads.
 */
export function serveConfig(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): { load: () => ConfigResult; generated: Token[] } {
  // TROUPE_DB (the older name) counts as TROUPE_STORE_PATH when that is not set.
  if (env['TROUPE_DB'] !== undefined && env['TROUPE_STORE_PATH'] === undefined) env = { ...env, TROUPE_STORE_PATH: env['TROUPE_DB'] };
  const overrides = [
    ...(flags.port !== undefined ? [{ name: '--port', path: ['server', 'port'], value: flags.port }] : []),
    ...(flags.host !== undefined ? [{ name: '--host', path: ['server', 'host'], value: flags.host }] : []),
    ...(flags.db !== undefined ? [{ name: '--db', path: ['store', 'path'], value: flags.db }] : []),
    ...(flags.memory === true ? [{ name: '--memory', path: ['store', 'memory'], value: true }] : []),
    ...(flags.graceMs !== undefined ? [{ name: '--grace-ms', path: ['limits', 'grace'], value: flags.graceMs }] : []),
    ...(flags.logLevel !== undefined ? [{ name: '--log-level', path: ['log', 'level'], value: flags.logLevel }] : []),
  ];
  const list = (name: string) => (env[name] ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const extra: Token[] = [
    ...(flags.agentToken ?? []).map((token, i) => ({ name: `flag-agent-${i + 1}`, token, role: 'agent' as const })),
    ...(flags.observerToken ?? []).map((token, i) => ({ name: `flag-observer-${i + 1}`, token, role: 'observer' as const })),
    ...(flags.clientToken ?? []).map((token, i) => ({ name: `flag-client-${i + 1}`, token, role: 'client' as const })),
    ...list('TROUPE_AGENT_TOKENS').map((token, i) => ({ name: `env-agent-${i + 1}`, token, role: 'agent' as const })),
    ...list('TROUPE_OBSERVER_TOKENS').map((token, i) => ({ name: `env-observer-${i + 1}`, token, role: 'observer' as const })),
    ...list('TROUPE_CLIENT_TOKENS').map((token, i) => ({ name: `env-client-${i + 1}`, token, role: 'client' as const })),
  ];
  const generated: Token[] = [];
  const load = (): ConfigResult => {
    const result = loadConfig({ ...(flags.config !== undefined ? { file: flags.config } : {}), env, overrides });
    if (!result.ok) return result;
    const tokens = [...result.config.tokens, ...extra];
    if (generated.length === 0 && tokens.length === 0) {
      // Never open without a token: make some up (once) and let the caller say what they are.
      generated.push(
        { name: 'generated-agent', token: randomBytes(24).toString('base64url'), role: 'agent' },
        { name: 'generated-observer', token: randomBytes(24).toString('base64url'), role: 'observer' },
        { name: 'generated-client', token: randomBytes(24).toString('base64url'), role: 'client' },
      );
    }
    return { ok: true, config: { ...result.config, tokens: [...tokens, ...generated] } };
  };
  return { load, generated };
}
