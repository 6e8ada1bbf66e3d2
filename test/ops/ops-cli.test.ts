import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerAudit } from '../../src/edge/cli/commands/audit.js';
import { registerBackup } from '../../src/edge/cli/commands/backup.js';
import { registerImport } from '../../src/edge/cli/commands/import-archive.js';
import { registerRestore } from '../../src/edge/cli/commands/restore.js';
import { appendToArchive } from '../../src/engine/retention/archive-file.js';
import { SqliteStore } from '../../src/engine/store/sqlite-store.js';
import { actor, event } from '../store-conformance.js';
import { runInProcess } from '../support/cli-in-process.js';

/** Runs one `troupe` command in this process: what it printed and its exit status. */
const troupe = (...args: string[]) =>
  runInProcess([registerBackup, registerRestore, registerImport, registerAudit], args);

describe('troupe backup, restore, import, audit', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-ops-cli-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('backs up a store in use, restores it, imports an archive into it and prints its audit log', async () => {
    const db = join(dir, 'troupe.db');
    const store = new SqliteStore({ path: db });
    await store.open();
    await store.commit({
      actors: [actor('a', { ticketId: null })],
      timersSet: [],
      timersCleared: [],
      events: [event(1, { ticketId: null, taskId: 'a' })],
      outbox: [],
      outboxDelivered: [],
    });
    await store.appendAudit([
      {
        at: Date.UTC(2026, 11, 5, 12),
        actor: 'ci',
        action: 'task.cancelled',
        target: 'a',
        details: { reason: 'typo' },
      },
    ]);

    // The store stays open (as under a running server) while the backup is taken.
    const backup = await troupe('backup', join(dir, 'b.db'), '--db', db);
    expect(backup).toMatchObject({ status: 0 });
    expect(backup.out).toMatch(/pages/);
    await store.commit({
      actors: [actor('after-backup', { ticketId: null })],
      timersSet: [],
      timersCleared: [],
      events: [],
      outbox: [],
      outboxDelivered: [],
    });
    await store.close();

    expect((await troupe('restore', join(dir, 'b.db'), '--db', db)).status).toBe(1);
    expect(await troupe('restore', join(dir, 'b.db'), '--db', db, '--force')).toMatchObject({ status: 0 });
    const archive = join(dir, 'archive');
    const file = await appendToArchive(archive, Date.UTC(2026, 11, 5), [
      {
        kind: 'actor',
        id: 'old',
        actors: [actor('old', { ticketId: null, settled: true })],
        events: [event(7, { ticketId: null, taskId: 'old' })],
      },
    ]);
    const imported = await troupe('import', file, '--db', db);
    expect(imported).toMatchObject({ status: 0 });
    expect(imported.out).toContain('1 units read; 1 actors and 1 events written');

    const check = new SqliteStore({ path: db, readonly: true });
    await check.open();
    expect((await check.listActors({})).map((a) => a.id)).toEqual(['a', 'old']);
    await check.close();

    const audit = await troupe('audit', '--db', db, '--actor', 'ci');
    expect(audit.out).toBe('2026-12-05T12:00:00.000Z  ci  task.cancelled  a  {"reason":"typo"}');
    expect((await troupe('audit', '--db', db, '--actor', 'nobody')).out).toBe('');
    expect(JSON.parse((await troupe('audit', '--db', db, '--json')).out)).toMatchObject({ actor: 'ci', target: 'a' });
  });

  it('says what is wrong with a bad archive line, naming file and line', async () => {
    const db = join(dir, 'troupe.db');
    const file = join(dir, 'bad.jsonl');
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(file, '{"v":1,"archivedAt":1,"kind":"ticket","id":"t","actors":[],"events":[]}\n{"v":1}\n'),
    );
    const result = await troupe('import', file, '--db', db);
    expect(result.status).toBe(1);
    expect(result.err).toContain(`${file}:2: not an archived unit`);
  });
});
