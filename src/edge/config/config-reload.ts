import type { Logger } from 'pino';
import type { Runtime } from '../../runtime.js';
import { resolveRetention } from '../../engine/retention/retention-policy.js';
import { resolveServerOptions } from '../server/shared/options.js';
import type { TroupeServer } from '../server/server.js';
import { changedPaths, liveServerOptionsOf, retentionOf } from './config-apply.js';
import { formatConfigProblem, type ConfigProblem, type ConfigResult } from './config-load.js';
import { RESTART_ONLY_LIMITS, type TroupeConfig } from './config-schema.js';

/** What a reload did. */
export type ReloadOutcome =
  | { ok: false; problems: ConfigProblem[] }
  | { ok: true; changed: string[]; applied: string[]; restartNeeded: string[] };

/** What a reload acts on. Loggers get the new level (pino children keep their own, so each is listed). */
export interface ReloadTargets {
  runtime: Runtime;
  server?: TroupeServer;
  loggers: Logger[];
}

const isLive = (path: string) =>
  path === 'tokens' ||
  path === 'log.level' ||
  path.startsWith('retention.') ||
  (path.startsWith('limits.') && !RESTART_ONLY_LIMITS.some((l) => path === `limits.${l}`));

/**
 * Reloads the configuration (on SIGHUP): read and checked whole; when anything is wrong nothing
 * changes and every problem is logged; else what can change live (tokens, limits, retention,
 * log level) is applied at once, what cannot (server, store, some limits) is named in the log as
 * waiting for a restart. Each outcome is logged and written to the audit log as `config.reloaded`
 * or `config.refused` by `who`.
 */
export class ConfigReloader {
  constructor(
    private readonly load: () => ConfigResult,
    private current: TroupeConfig,
    private readonly targets: ReloadTargets,
    private readonly who = 'sighup',
  ) {}

  /** The configuration in force. */
  get config(): TroupeConfig {
    return this.current;
  }

  async reload(): Promise<ReloadOutcome> {
    const logger = this.targets.runtime.logger;
    const result = this.load();
    if (!result.ok) {
      logger.error(
        { problems: result.problems.map(formatConfigProblem) },
        'configuration reload refused: nothing changed',
      );
      await this.audit('config.refused', { problems: result.problems.map(formatConfigProblem) });
      return { ok: false, problems: result.problems };
    }
    const next = result.config;
    const changed = changedPaths(this.current, next);
    const applied = changed.filter(isLive);
    const restartNeeded = changed.filter((p) => !isLive(p));
    // Checked before anything applies: a policy or server option the runtime refuses leaves all as it was.
    const retention = retentionOf(next);
    const server = liveServerOptionsOf(next);
    try {
      resolveRetention(retention);
      if (this.targets.server !== undefined) resolveServerOptions({ ...server });
    } catch (error) {
      const problems = [{ where: 'reload', path: '', message: (error as Error).message }];
      logger.error({ problems: problems.map(formatConfigProblem) }, 'configuration reload refused: nothing changed');
      await this.audit('config.refused', { problems: problems.map(formatConfigProblem) });
      return { ok: false, problems };
    }
    if (applied.some((p) => p.startsWith('retention.'))) this.targets.runtime.retention.update(retention);
    if (this.targets.server !== undefined && applied.some((p) => p === 'tokens' || p.startsWith('limits.')))
      this.targets.server.reload(server);
    if (applied.includes('log.level')) for (const l of this.targets.loggers) l.level = next.log.level;
    this.current = next;
    logger.info(
      { changed, applied, restartNeeded },
      changed.length === 0 ? 'configuration reloaded: no changes' : 'configuration reloaded',
    );
    await this.audit('config.reloaded', { changed, applied, restartNeeded });
    return { ok: true, changed, applied, restartNeeded };
  }

  private async audit(action: string, details: Record<string, unknown>): Promise<void> {
    try {
      await this.targets.runtime.audit.record({ actor: this.who, action, target: null, details });
    } catch (error) {
      this.targets.runtime.logger.error({ err: error }, 'could not write the audit log');
    }
  }
}
