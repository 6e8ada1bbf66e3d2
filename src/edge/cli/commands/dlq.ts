import type { Command } from 'commander';
import { pino } from 'pino';
import { SqliteStore } from '../../../engine/store/sqlite-store.js';
import type { DeadLetter, DeadLetterFilter } from '../../../engine/controls/dead-letter-index.js';
import { createRuntime, type Runtime } from '../../../runtime.js';

interface FilterOptions {
  db: string;
  type?: string;
  category?: string;
  code?: string;
  ticket?: string;
  since?: string;
  until?: string;
  limit?: string;
  json?: boolean;
}

interface RedriveOptions extends FilterOptions {
  all?: boolean;
  input?: string;
  maxAttempts?: string;
  reason?: string;
}

function filterOf(o: FilterOptions): DeadLetterFilter {
  const f: DeadLetterFilter = {};
  if (o.type !== undefined) f.type = o.type;
  if (o.category !== undefined) f.category = o.category;
  if (o.code !== undefined) f.code = o.code;
  if (o.ticket !== undefined) f.ticketId = o.ticket;
  if (o.since !== undefined) f.since = instant(o.since);
  if (o.until !== undefined) f.until = instant(o.until);
  if (o.limit !== undefined) f.limit = Number(o.limit);
  return f;
}

/** ms since the epoch, or an ISO date. */
function instant(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (Number.isNaN(n)) throw new Error(`not a time: ${value} (ms since the epoch, or an ISO date)`);
  return n;
}

function line(d: DeadLetter): string {
  const when = new Date(d.at).toISOString();
  const error = d.error ? `${d.error.category} ${d.error.code}: ${d.error.message}` : '-';
  return `${d.id}\t${d.type}\t${when}\tattempts=${d.attempts}\tredrives=${d.redrives}\t${d.ticketId ?? '-'}\t${error}`;
}

/**
 * Opens the runtime on the database file. The runtime carries on with the file's work while it is
 * open, so use these commands on a file no server has open (against a running server, use its HTTP API).
 */
async function withRuntime<T>(db: string, run: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = createRuntime({ store: new SqliteStore({ path: db }), logger: pino({ level: 'silent' }) });
  try {
    return await run(runtime);
  } finally {
    await runtime.stop();
  }
}

const filterOptions = (c: Command): Command =>
  c
    .option('--db <path>', 'SQLite database file', './.troupe/troupe.db')
    .option('--type <type>', 'only tasks of this type')
    .option('--category <category>', 'only this error category (transient, permanent, timeout, agent-lost)')
    .option('--code <code>', 'only this error code')
    .option('--ticket <id>', 'only tasks of this ticket')
    .option('--since <time>', 'dead-lettered at or after (ms or ISO date)')
    .option('--until <time>', 'dead-lettered before (ms or ISO date)')
    .option('--limit <n>', 'at most this many')
    .option('--json', 'print JSON');

/** `troupe dlq ls|redrive`: the dead-letter queue of a database file. */
export function registerDlq(program: Command): void {
  const dlq = program.command('dlq');
  filterOptions(dlq.command('ls').description('list dead letters, oldest first')).action(async (o: FilterOptions) => {
    const listed = await withRuntime(o.db, (r) => r.deadLetters.list(filterOf(o)));
    if (o.json) console.log(JSON.stringify(listed, null, 2));
    else for (const d of listed) console.log(line(d));
    if (!o.json) console.error(`${listed.length} dead letter(s)`);
  });
  filterOptions(dlq.command('redrive').description('send dead letters back to the queue with a fresh retry budget'))
    .argument('[ids...]', 'task ids (or use filters, or --all)')
    .option('--all', 'every dead letter that matches the filters (required when no id and no filter is given)')
    .option('--input <json>', 'replace the input of each redriven task')
    .option('--max-attempts <n>', 'a new retry budget')
    .option('--reason <text>', 'why, kept in each task history')
    .action(async (ids: string[], o: RedriveOptions) => {
      const filter = filterOf(o);
      if (ids.length === 0 && Object.keys(filter).length === 0 && !o.all) {
        console.error('name task ids, give filters, or pass --all to redrive every dead letter');
        process.exitCode = 1;
        return;
      }
      const changes: Parameters<Runtime['deadLetters']['redrive']>[1] = {};
      if (o.input !== undefined) changes.input = JSON.parse(o.input) as unknown;
      if (o.maxAttempts !== undefined) changes.retry = { maxAttempts: Number(o.maxAttempts) };
      if (o.reason !== undefined) changes.reason = o.reason;
      try {
        const views = await withRuntime(o.db, (r) => r.deadLetters.redrive(ids.length > 0 ? ids : filter, changes));
        for (const v of views) console.log(`${v.id}\t${v.status}`);
        console.error(`${views.length} redriven`);
      } catch (error) {
        console.error((error as Error).message);
        process.exitCode = 1;
      }
    });
}
