import { InvalidArgumentError, type Command } from 'commander';
import type { Page, TroupeClient } from '../../client/create-client.js';
import {
  clientFrom,
  CommandFailure,
  runClientCommand,
  withClientOptions,
  type ClientCommandOptions,
} from './cli-client.js';
import { formatTable, short, when } from './cli-table.js';

interface LsOptions extends ClientCommandOptions {
  status?: string;
  ticket?: string;
  phase?: string;
  type?: string;
  agent?: string;
  capability?: string;
  pattern?: string;
  limit: number;
  all?: boolean;
  order?: 'newest' | 'oldest';
}

const KINDS = ['tasks', 'tickets', 'agents', 'runs'] as const;
type Kind = (typeof KINDS)[number];

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1_000)
    throw new InvalidArgumentError('expected a whole number from 1 to 1000');
  return n;
};

/** One page of a list, by kind, with the filters that kind takes. */
function readPage(client: TroupeClient, kind: Kind, o: LsOptions, cursor: string | undefined): Promise<Page<unknown>> {
  const paging = { limit: o.limit, ...(cursor ? { cursor } : {}), ...(o.order ? { order: o.order } : {}) };
  const pick = (entries: Record<string, string | undefined>) =>
    Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined)) as Record<string, string>;
  switch (kind) {
    case 'tasks':
      return client.tasks.list({
        ...paging,
        ...pick({ status: o.status, ticket: o.ticket, phase: o.phase, type: o.type, agent: o.agent }),
      } as never);
    case 'tickets':
      return client.tickets.list({ ...paging, ...pick({ status: o.status }) } as never);
    case 'agents':
      return client.agents.list({ ...paging, ...pick({ status: o.status, capability: o.capability }) } as never);
    case 'runs':
      return client.runs.list({
        ...paging,
        ...pick({ status: o.status, ticket: o.ticket, pattern: o.pattern }),
      } as never);
  }
}

type Row = Record<string, unknown>;

/** The table of a kind: header and one row per item. */
function table(kind: Kind, items: Row[]): string[] {
  const s = (v: unknown) => (v === null || v === undefined ? '-' : String(v));
  switch (kind) {
    case 'tasks':
      return formatTable(
        ['ID', 'STATUS', 'TYPE', 'TICKET/PHASE', 'AGENT', 'ATTEMPT', 'CREATED'],
        items.map((t) => [
          s(t.id),
          s(t.status),
          s(t.type),
          t.ticketId ? `${s(t.ticketId)}/${s(t.phase)}` : '-',
          s(t.agentId),
          `${s(t.attempt)}/${s(t.maxAttempts)}`,
          when(t.createdAt as number),
        ]),
      );
    case 'tickets':
      return formatTable(
        ['ID', 'STATUS', 'PHASE', 'TASKS', 'TITLE'],
        items.map((t) => {
          const phases = t.phases as Array<{ tasks: { total: number; open: number } }>;
          const total = phases.reduce((n, p) => n + p.tasks.total, 0);
          const done = phases.reduce((n, p) => n + p.tasks.total - p.tasks.open, 0);
          return [s(t.id), s(t.status), s(t.currentPhase), `${done}/${total}`, short(s(t.title))];
        }),
      );
    case 'agents':
      return formatTable(
        ['ID', 'STATUS', 'LOAD', 'TRANSPORT', 'LAST BEAT', 'CAPABILITIES'],
        items.map((a) => [
          s(a.id),
          s(a.status),
          `${s(a.load)}/${s(a.capacity)}`,
          s(a.transport),
          when(a.lastHeartbeatAt as number),
          (a.capabilities as string[]).join(','),
        ]),
      );
    case 'runs':
      return formatTable(
        ['ID', 'STATUS', 'PATTERN', 'STATE', 'TICKET', 'STARTED'],
        items.map((r) => [
          s(r.id),
          s(r.status),
          s(r.pattern),
          short(s(r.state), 40),
          s(r.ticketId),
          when(r.startedAt as number),
        ]),
      );
  }
}

/** `troupe ls tasks|tickets|agents|runs`: a table of what a server holds, filtered and paged. */
export function registerLs(program: Command): void {
  withClientOptions(
    program
      .command('ls')
      .argument('<what>', KINDS.join(' | '))
      .option('--status <list>', 'comma-separated statuses, e.g. queued,running')
      .option('--ticket <id>', 'of this ticket (tasks, runs)')
      .option('--phase <name>', 'of this phase, with --ticket (tasks)')
      .option('--type <type>', 'of this type (tasks)')
      .option('--agent <id>', 'held or attempted by this agent (tasks)')
      .option('--capability <name>', 'offering this capability (agents)')
      .option('--pattern <name>', 'of this pattern (runs)')
      .option('--limit <n>', 'items per page (1-1000)', positive, 50)
      .option('--all', 'follow the pages to the end')
      .option('--order <order>', 'newest (default) or oldest first'),
  ).action((what: string, options: LsOptions) =>
    runClientCommand('ls', options, async () => {
      if (!(KINDS as readonly string[]).includes(what))
        throw new CommandFailure(`expected one of ${KINDS.join(', ')}, got "${what}"`, 2);
      const kind = what as Kind;
      const client = clientFrom(options);
      const items: Row[] = [];
      let cursor: string | undefined;
      let more: boolean;
      do {
        const page = await readPage(client, kind, options, cursor);
        items.push(...(page.items as Row[]));
        cursor = page.nextCursor ?? undefined;
        more = cursor !== undefined;
      } while (more && options.all);
      if (options.json) {
        console.log(JSON.stringify({ items, nextCursor: cursor ?? null }, null, 2));
        return;
      }
      if (items.length === 0) console.log(`no ${kind}`);
      else for (const line of table(kind, items)) console.log(line);
      if (more) console.log(`(more: --all, or --limit up to 1000)`);
    }),
  );
}
