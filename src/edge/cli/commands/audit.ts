import { InvalidArgumentError, type Command } from 'commander';
import { SqliteStore } from '../../../engine/store/sqlite-store.js';

interface AuditOptions {
  db: string;
  actor?: string;
  action?: string;
  target?: string;
  since?: string;
  limit: number;
  json?: boolean;
}

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
};

/** `troupe audit`: who did what, when, newest first, from a store's audit log. */
export function registerAudit(program: Command): void {
  program
    .command('audit')
    .option(
      '--db <path>',
      'the SQLite store (or TROUPE_STORE_PATH)',
      process.env.TROUPE_STORE_PATH ?? process.env.TROUPE_DB ?? './.troupe/troupe.db',
    )
    .option('--actor <name>', 'only this token name')
    .option('--action <action>', 'only this action, e.g. task.cancelled')
    .option('--target <id>', 'only entries about this id')
    .option('--since <time>', 'only entries at or after this ISO time')
    .option('--limit <n>', 'at most this many entries', positive, 50)
    .option('--json', 'one JSON object per line')
    .action(async (options: AuditOptions) => {
      const store = new SqliteStore({ path: options.db, readonly: true });
      try {
        const since = options.since === undefined ? undefined : Date.parse(options.since);
        if (since !== undefined && Number.isNaN(since)) throw new Error(`--since: not a time: ${options.since}`);
        await store.open();
        const entries = await store.readAudit({
          limit: options.limit,
          ...(options.actor !== undefined ? { actor: options.actor } : {}),
          ...(options.action !== undefined ? { action: options.action } : {}),
          ...(options.target !== undefined ? { target: options.target } : {}),
          ...(since !== undefined ? { since } : {}),
        });
        for (const e of entries) {
          if (options.json) console.log(JSON.stringify(e));
          else
            console.log(
              `${new Date(e.at).toISOString()}  ${e.actor}  ${e.action}  ${e.target ?? '-'}  ${JSON.stringify(e.details)}`,
            );
        }
      } catch (error) {
        console.error(`troupe audit: ${(error as Error).message}`);
        process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
}
