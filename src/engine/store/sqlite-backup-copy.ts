import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { TroupeError } from '../../core/errors.js';

/**
 * SQLite's online backup API as better-sqlite3 exposes it: the one copy routine under
 * `SqliteStore.backup` and the file-level `troupe backup` / `troupe restore` (sqlite-backup.ts).
 * Its own module so that the store and those helpers do not import each other.
 */

/** The largest step better-sqlite3 accepts: every page in one step. */
export const ALL_PAGES = 0x7fffffff;

/**
 * Copies `db` into `file` with the online backup API, `pagesPerStep` pages per step. The copy
 * goes to `file.partial` and is renamed into place once complete, so `file` is never half a
 * database.
 */
export async function backupDatabase(
  db: Database.Database,
  file: string,
  pagesPerStep: number,
  source: string,
): Promise<{ totalPages: number }> {
  mkdirSync(dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  rmSync(partial, { force: true });
  try {
    // better-sqlite3 clamps the step to 0..2^31-1 (0 pauses), so "all at once" is the largest step.
    const step = pagesPerStep > 0 ? pagesPerStep : ALL_PAGES;
    const result = await db.backup(partial, { progress: () => step });
    renameSync(partial, file);
    return { totalPages: result.totalPages };
  } catch (error) {
    rmSync(partial, { force: true });
    throw new TroupeError('E_STORE', `backup of ${source} to ${file} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
