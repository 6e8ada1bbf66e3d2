import type { Command } from 'commander';
import { backupSqliteFile } from '../../../engine/store/sqlite-backup.js';

/**
 * `troupe backup <file>`: a consistent copy of a SQLite store, taken with SQLite's online
 * backup API while a server may be using it (docs/operations.md).
 */
export function registerBackup(program: Command): void {
  program
    .command('backup')
    .argument('<file>', 'where the copy goes (replaced if it exists)')
    .option(
      '--db <path>',
      'the SQLite store (or TROUPE_STORE_PATH)',
      process.env.TROUPE_STORE_PATH ?? process.env.TROUPE_DB ?? './.troupe/troupe.db',
    )
    .action(async (file: string, options: { db: string }) => {
      try {
        const { totalPages } = await backupSqliteFile(options.db, file);
        console.log(`troupe backup: ${options.db} -> ${file} (${totalPages} pages)`);
      } catch (error) {
        console.error(`troupe backup: ${(error as Error).message}`);
        process.exitCode = 1;
      }
    });
}
