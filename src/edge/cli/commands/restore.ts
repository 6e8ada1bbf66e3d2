import type { Command } from 'commander';
import { restoreSqliteFile } from '../../../engine/store/sqlite-backup.js';

/**
 * `troupe restore <backup>`: puts a backup in place as the store. Stop the server first; the
 * next `troupe serve` carries on from what the backup holds (docs/operations.md).
 */
export function registerRestore(program: Command): void {
  program
    .command('restore')
    .argument('<backup>', 'the backup file')
    .option(
      '--db <path>',
      'the SQLite store to replace (or TROUPE_STORE_PATH)',
      process.env.TROUPE_STORE_PATH ?? process.env.TROUPE_DB ?? './.troupe/troupe.db',
    )
    .option('--force', 'replace an existing store')
    .action(async (backup: string, options: { db: string; force?: boolean }) => {
      try {
        const { totalPages } = await restoreSqliteFile(backup, options.db, { force: options.force === true });
        console.log(`troupe restore: ${backup} -> ${options.db} (${totalPages} pages); start the server to carry on`);
      } catch (error) {
        console.error(`troupe restore: ${(error as Error).message}`);
        process.exitCode = 1;
      }
    });
}
