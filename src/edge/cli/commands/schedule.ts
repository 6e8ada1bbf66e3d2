import type { Command } from 'commander';
import type { ScheduleView } from '../../client/create-client.js';
import type { ScheduleCreateBody } from '../../http/schemas/schedule-schemas.js';
import {
  clientFrom,
  CommandFailure,
  runClientCommand,
  withClientOptions,
  type ClientCommandOptions,
} from './cli-client.js';
import { formatTable, short, when } from './cli-table.js';

interface AddOptions extends ClientCommandOptions {
  id?: string;
  cron: string;
  tz?: string;
  catchUp?: string;
  graceMs?: string;
  task?: string;
  ticket?: string;
  pattern?: string;
  inputs?: string;
}

/** A JSON object given on the command line; a usage error (exit 2) names the option otherwise. */
function jsonObject(option: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CommandFailure(`${option}: not JSON: ${(error as Error).message}`, 2);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CommandFailure(`${option}: give a JSON object`, 2);
  return value as Record<string, unknown>;
}

/** What each fire creates, from exactly one of --task, --ticket and --pattern. */
function targetOf(o: AddOptions): ScheduleCreateBody['target'] {
  const given = [o.task, o.ticket, o.pattern].filter((x) => x !== undefined).length;
  if (given !== 1) throw new CommandFailure('give exactly one of --task <json>, --ticket <json>, --pattern <name>', 2);
  if (o.task !== undefined) return { task: jsonObject('--task', o.task) as never };
  if (o.ticket !== undefined) return { ticket: jsonObject('--ticket', o.ticket) as never };
  return {
    pattern: o.pattern as string,
    ...(o.inputs !== undefined ? { inputs: jsonObject('--inputs', o.inputs) } : {}),
  };
}

const targetText = (s: ScheduleView): string => {
  const t = s.target as Record<string, unknown>;
  if ('pattern' in t) return `pattern ${String(t['pattern'])}`;
  if ('ticket' in t) return `ticket ${String((t['ticket'] as { title?: unknown }).title ?? '')}`;
  return `task ${String((t['task'] as { type?: unknown }).type ?? '')}`;
};

function table(items: ScheduleView[]): string[] {
  return formatTable(
    ['ID', 'STATUS', 'CRON', 'ZONE', 'NEXT', 'FIRED', 'MISSED', 'TARGET'],
    items.map((s) => [
      s.id,
      s.status,
      s.cron,
      s.timezone,
      when(s.nextAt),
      String(s.fired),
      String(s.missed),
      short(targetText(s)),
    ]),
  );
}

const print = (options: ClientCommandOptions, views: ScheduleView[]): void => {
  if (options.json) console.log(JSON.stringify(views.length === 1 ? views[0] : views, null, 2));
  else for (const line of table(views)) console.log(line);
};

/**
 * `troupe schedule ls|show|add|rm`: the cron schedules of a running server, over its HTTP API
 * (`/v1/schedules`; docs/controls.md, "Schedules"). Listing takes an observer or client token,
 * adding and removing a client token.
 */
export function registerSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('cron schedules that create tasks, tickets or pattern runs (docs/controls.md)');

  withClientOptions(schedule.command('ls').description('list the active schedules')).action(
    (options: ClientCommandOptions) =>
      runClientCommand('schedule ls', options, async () => {
        const items = await clientFrom(options).schedules.list();
        if (options.json) console.log(JSON.stringify(items, null, 2));
        else for (const line of table(items)) console.log(line);
        if (!options.json) console.error(`${items.length} schedule(s)`);
      }),
  );

  withClientOptions(schedule.command('show').description('one schedule, active or removed').argument('<id>')).action(
    (id: string, options: ClientCommandOptions) =>
      runClientCommand('schedule show', options, async () =>
        print(options, [await clientFrom(options).schedules.get(id)]),
      ),
  );

  withClientOptions(
    schedule
      .command('add')
      .description('create a schedule; its first fire time is the first one after now')
      .requiredOption(
        '--cron <expr>',
        "five fields, minute first ('0 2 * * *'), six with seconds, or @daily and the like",
      )
      .option('--id <id>', 'the schedule id (runs are <id>@<fire time>); default schedule-<uuid>')
      .option('--tz <zone>', 'an IANA time zone (Europe/Berlin); default UTC')
      .option('--catch-up <once|skip>', 'fire times missed while the server was down: one run (once, default) or none')
      .option('--grace-ms <ms>', 'a fire later than this counts as missed (default 60000)')
      .option('--task <json>', 'create this task at each fire: {"type":"report","requires":["writer"]}')
      .option('--ticket <json>', 'create this ticket at each fire: {"title":"...","phases":[...]}')
      .option('--pattern <name>', 'run this pattern at each fire')
      .option('--inputs <json>', "the pattern's inputs, a JSON object"),
  ).action((options: AddOptions) =>
    runClientCommand('schedule add', options, async () => {
      const body: ScheduleCreateBody = { cron: options.cron, target: targetOf(options) };
      if (options.id !== undefined) body.id = options.id;
      if (options.tz !== undefined) body.timezone = options.tz;
      if (options.catchUp !== undefined) body.catchUp = options.catchUp as 'once' | 'skip';
      if (options.graceMs !== undefined) body.graceMs = Number(options.graceMs);
      print(options, [await clientFrom(options).schedules.create(body)]);
    }),
  );

  withClientOptions(
    schedule.command('rm').description('remove schedules: no later fire time gets a run').argument('<ids...>'),
  ).action((ids: string[], options: ClientCommandOptions) =>
    runClientCommand('schedule rm', options, async () => {
      const client = clientFrom(options);
      const removed: ScheduleView[] = [];
      for (const id of ids) removed.push(await client.schedules.remove(id));
      print(options, removed);
    }),
  );
}
