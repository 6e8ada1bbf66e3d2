import { TroupeError } from '../../core/errors.js';

/**
 * Numbered schema migrations, shared by the SQLite and PostgreSQL stores. A store's schema is
 * the result of applying its migrations 1..N in order; the version it records is the last one
 * applied. On open a store applies the ones a database lacks (in one transaction, so an upgrade
 * is all or nothing) and refuses a database written by a newer Troupe instead of guessing.
 *
 * Rules for adding one: append, never edit or renumber a migration that has shipped (files in
 * the field were made by it); each carries a header saying what it adds and why.
 */
export interface Migration {
  /** 1, 2, 3...: consecutive from 1. */
  readonly version: number;
  /** A short name for logs and the migrations table. */
  readonly name: string;
  /** The statements, run as one script inside the upgrade's transaction. */
  readonly sql: string;
}

/** The highest version of a ladder: what a new database is created at. */
export function latestVersion(ladder: readonly Migration[]): number {
  return ladder.length === 0 ? 0 : (ladder[ladder.length - 1]?.version ?? 0);
}

/**
 * The migrations a database at `current` needs, in order. Throws `E_STORE` with a message an
 * operator can act on when the database is newer than this code knows.
 */
export function pendingMigrations(ladder: readonly Migration[], current: number, where: string): Migration[] {
  ladder.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`schema ladder is not consecutive at ${m.name} (version ${m.version}, expected ${i + 1})`);
  });
  const latest = latestVersion(ladder);
  if (!Number.isInteger(current) || current < 0) {
    throw new TroupeError(
      'E_STORE',
      `${where} records schema version ${String(current)}, which is not a version number`,
    );
  }
  if (current > latest) {
    throw new TroupeError(
      'E_STORE',
      `${where} has schema version ${current}, newer than this Troupe knows (${latest}): it was written by a newer Troupe. ` +
        `Run that version (or newer) on it; this one leaves it untouched.`,
      { details: { schemaVersion: current, knownVersion: latest } },
    );
  }
  return ladder.slice(current);
}
