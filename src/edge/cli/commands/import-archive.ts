import type { Command } from 'commander';
import { readArchive } from '../../../engine/retention/archive-file.js';
import { SqliteStore } from '../../../engine/store/sqlite-store.js';
import type { UnitRecord } from '../../../engine/store/store.js';

const BATCH = 100;

/**
 * `troupe import <files...>`: reads archive files (JSON Lines written by retention) back into
 * a store. Nothing there already is overwritten; the events of a unit come back with it.
 */
export function registerImport(program: Command): void {
  program
    .command('import')
    .argument('<files...>', 'archive files, e.g. archive/troupe-archive-2026-12-05.jsonl')
    .option(
      '--db <path>',
      'the SQLite store (or TROUPE_STORE_PATH)',
      process.env.TROUPE_STORE_PATH ?? process.env.TROUPE_DB ?? './.troupe/troupe.db',
    )
    .action(async (files: string[], options: { db: string }) => {
      const store = new SqliteStore({ path: options.db });
      try {
        await store.open();
        let units = 0;
        let actors = 0;
        let events = 0;
        for (const file of files) {
          let batch: UnitRecord[] = [];
          const flush = async () => {
            const written = await store.importUnits(batch);
            actors += written.actors;
            events += written.events;
            units += batch.length;
            batch = [];
          };
          for await (const unit of readArchive(file)) {
            batch.push(unit);
            if (batch.length >= BATCH) await flush();
          }
          await flush();
        }
        console.log(
          `troupe import: ${units} units read; ${actors} actors and ${events} events written to ${options.db}`,
        );
      } catch (error) {
        console.error(`troupe import: ${(error as Error).message}`);
        process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
}
