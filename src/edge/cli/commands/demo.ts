import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { runDemo } from './demo-scenario.js';
import { SqliteStore } from '../../../engine/store/sqlite-store.js';
import { MemoryStore } from '../../../engine/store/memory-store.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .option('--store <kind>', 'sqlite (a fresh file under ./.troupe/) or memory', 'sqlite')
    .option('--quiet', 'print only the summary')
    .action(async (opts: { store: string; quiet?: boolean }) => {
      let store;
      if (opts.store === 'memory') store = new MemoryStore();
      else {
        mkdirSync('.troupe', { recursive: true });
        const path = join('.troupe', 'demo.db');
        for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
        store = new SqliteStore({ path });
      }
      const ok = await runDemo({
        store,
        print: opts.quiet ? () => {} : (line) => console.log(line),
        summary: (l) => console.log(l),
      });
      process.exitCode = ok ? 0 : 1;
    });
}
