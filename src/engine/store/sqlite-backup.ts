import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { TroupeError } from '../../core/errors.js';
import { SqliteStore } from './sqlite-store.js';
import { ALL_PAGES, backupDatabase } from './sqlite-backup-copy.js';

/**
 * Backup and restore of a SQLite store (`troupe backup`, `troupe restore`), through SQLite's
 * online backup API as better-sqlite3 exposes it. PostgreSQL has its own tools (pg_dump,
 * pg_restore): see docs/operations.md.
 */

/**
 * Backs up the store at `dbPath` (which a running server may be using) into `file`. Copies
 * every page in one step: one read transaction, a consistent snapshot that a writer in another
 * process cannot make the backup restart (in WAL mode readers and the writer do not block).
 *
 * @example
 * ```ts
 * import { backupSqliteFile } from 'troupe';
 *
 * const { totalPages } = await backupSqliteFile('.troupe/troupe.db', '/backups/troupe-2026-12-05.db');
 * ```
 */
export async function backupSqliteFile(dbPath: string, file: string): Promise<{ totalPages: number }> {
  // Opened as a store first: the file must be a Troupe store this version can read.
  const check = new SqliteStore({ path: dbPath, readonly: true });
  await check.open();
  await check.close();
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return await backupDatabase(db, file, ALL_PAGES, dbPath);
  } finally {
    db.close();
  }
}

/**
 * Puts a backup in place as the store at `target`. Stop every process using `target` first:
 * the copy replaces the database under it. Refuses a backup that is not a Troupe store, and an
 * existing target unless `force`. The backup is copied with the backup API (not the file
 * system), so the target's write-ahead log cannot mix old pages into it.
 *
 * @example
 * ```ts
 * import { restoreSqliteFile } from 'troupe';
 *
 * // With every server on .troupe/troupe.db stopped:
 * await restoreSqliteFile('/backups/troupe-2026-12-05.db', '.troupe/troupe.db', { force: true });
 * ```
 */
export async function restoreSqliteFile(
  backup: string,
  target: string,
  options: { force?: boolean } = {},
): Promise<{ totalPages: number }> {
  if (!existsSync(backup)) throw new TroupeError('E_INVALID_INPUT', `no backup at ${backup}`);
  const check = new SqliteStore({ path: backup, readonly: true });
  await check.open();
  await check.close();
  if (existsSync(target) && options.force !== true) {
    throw new TroupeError(
      'E_INVALID_INPUT',
      `${target} exists; stop whatever uses it and pass --force to replace it with the backup`,
    );
  }
  mkdirSync(dirname(target), { recursive: true });
  const source = new Database(backup, { readonly: true, fileMustExist: true });
  try {
    const result = await backupDatabase(source, `${target}.restoring`, ALL_PAGES, backup);
    // The old database and its log go, then the restored copy takes its name.
    for (const suffix of ['-wal', '-shm', '']) rmSync(`${target}${suffix}`, { force: true });
    renameSync(`${target}.restoring`, target);
    return result;
  } finally {
    source.close();
  }
}
