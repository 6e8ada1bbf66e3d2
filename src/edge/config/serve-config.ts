import { randomBytes } from 'node:crypto';
import { loadConfig, type ConfigResult } from './config-load.js';
import { tokenSecretSchema, type TroupeConfig } from './config-schema.js';

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
export function serveConfig(
  flags: ServeFlags,
  env: NodeJS.ProcessEnv = process.env,
): { load: () => ConfigResult; generated: Token[] } {
  // TROUPE_DB (the older name) counts as TROUPE_STORE_PATH when that is not set.
  if (env['TROUPE_DB'] !== undefined && env['TROUPE_STORE_PATH'] === undefined)
    env = { ...env, TROUPE_STORE_PATH: env['TROUPE_DB'] };
  const overrides = [
    ...(flags.port !== undefined ? [{ name: '--port', path: ['server', 'port'], value: flags.port }] : []),
    ...(flags.host !== undefined ? [{ name: '--host', path: ['server', 'host'], value: flags.host }] : []),
    ...(flags.db !== undefined ? [{ name: '--db', path: ['store', 'path'], value: flags.db }] : []),
    ...(flags.memory === true ? [{ name: '--memory', path: ['store', 'memory'], value: true }] : []),
    ...(flags.graceMs !== undefined ? [{ name: '--grace-ms', path: ['limits', 'grace'], value: flags.graceMs }] : []),
    ...(flags.logLevel !== undefined ? [{ name: '--log-level', path: ['log', 'level'], value: flags.logLevel }] : []),
  ];
  const list = (name: string) =>
    (env[name] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  // Each token with where it was given, so a refusal names the flag or variable.
  const extra: Array<Token & { where: string }> = [
    ...(flags.agentToken ?? []).map((spec, i) => ({
      name: `flag-agent-${i + 1}`,
      ...boundAgentToken(spec),
      role: 'agent' as const,
      where: '--agent-token',
    })),
    ...(flags.observerToken ?? []).map((token, i) => ({
      name: `flag-observer-${i + 1}`,
      token,
      role: 'observer' as const,
      where: '--observer-token',
    })),
    ...(flags.clientToken ?? []).map((token, i) => ({
      name: `flag-client-${i + 1}`,
      token,
      role: 'client' as const,
      where: '--client-token',
    })),
    ...list('TROUPE_AGENT_TOKENS').map((spec, i) => ({
      name: `env-agent-${i + 1}`,
      ...boundAgentToken(spec),
      role: 'agent' as const,
      where: 'TROUPE_AGENT_TOKENS',
    })),
    ...list('TROUPE_OBSERVER_TOKENS').map((token, i) => ({
      name: `env-observer-${i + 1}`,
      token,
      role: 'observer' as const,
      where: 'TROUPE_OBSERVER_TOKENS',
    })),
    ...list('TROUPE_CLIENT_TOKENS').map((token, i) => ({
      name: `env-client-${i + 1}`,
      token,
      role: 'client' as const,
      where: 'TROUPE_CLIENT_TOKENS',
    })),
  ];
  // Checked here with the configuration's own rule: these tokens never pass through its schema.
  const tokenProblems = extra.flatMap(({ where, name, token }) => {
    const checked = tokenSecretSchema.safeParse(token);
    const index = Number(name.slice(name.lastIndexOf('-') + 1));
    return checked.success
      ? []
      : [
          {
            where,
            path: `tokens (${ordinal(index)} ${where} token)`,
            message: `${checked.error.issues[0]?.message ?? 'invalid token'} (this one has ${token.length})`,
          },
        ];
  });
  const generated: Token[] = [];
  const load = (): ConfigResult => {
    const result = loadConfig({ ...(flags.config !== undefined ? { file: flags.config } : {}), env, overrides });
    if (!result.ok)
      return tokenProblems.length > 0 ? { ok: false, problems: [...result.problems, ...tokenProblems] } : result;
    if (tokenProblems.length > 0) return { ok: false, problems: tokenProblems };
    const tokens = [...result.config.tokens, ...extra.map(({ where: _where, ...token }) => token)];
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

const ordinal = (n: number): string =>
  `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;

/** An agent id as hello takes it: the ids a token is bound to are written with these characters. */
const AGENT_IDS = /^(.+)=([A-Za-z0-9._:@-]+(?:[|,][A-Za-z0-9._:@-]+)*)$/;

/**
 * An agent token as `--agent-token` and `TROUPE_AGENT_TOKENS` write it: `TOKEN`, or
 * `TOKEN=agent-a,agent-b` (in the variable, whose entries commas separate, `TOKEN=agent-a|agent-b`)
 * for a token bound to those agent ids. The last `=` followed by ids splits; a token may hold `=`.
 *
 * @example
 * ```ts
 * boundAgentToken('s3cret-s3cret-s3cret=coder-1|coder-2'); // { token: 's3cret-s3cret-s3cret', agentIds: ['coder-1', 'coder-2'] }
 * ```
 */
export function boundAgentToken(spec: string): { token: string; agentIds?: string[] } {
  const match = AGENT_IDS.exec(spec);
  if (match === null) return { token: spec };
  return { token: match[1] as string, agentIds: (match[2] as string).split(/[|,]/) };
}
