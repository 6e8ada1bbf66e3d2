import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { TaskCreateInput } from '../../../engine/api/task-input.js';
import type { TicketCreateInput } from '../../../engine/api/ticket-api.js';
import { PatternLibrary } from '../../../features/patterns/load/library.js';
import { collect, parseSets, readPatternArg } from '../../../features/patterns/tools/cli-support.js';
import { formatProblem, type PatternProblemCode } from '../../../features/patterns/problems/problems.js';
import { ApiError } from '../../client/api-error.js';
import type { PatternRunView, TaskView, TicketView, TroupeClient, TroupeEvent } from '../../client/create-client.js';
import type { RunCreateBody } from '../../http/schemas/run-schemas.js';
import {
  clientFrom,
  CommandFailure,
  runClientCommand,
  withClientOptions,
  type ClientCommandOptions,
} from './cli-client.js';
import { ProgressDisplay, succeeded, TaskCounter, ticketProgress } from './submit-progress.js';

interface SubmitOptions extends ClientCommandOptions {
  type?: string;
  input?: string;
  requires?: string[];
  id?: string;
  pattern?: string;
  set: string[];
  ticket?: string;
  phase?: string;
  wait?: boolean;
}

/** What a submission is: a task (or a batch), a ticket, or a pattern run. */
type Submission =
  | { kind: 'tasks'; body: TaskCreateInput | { tasks: TaskCreateInput[] } }
  | { kind: 'ticket'; body: TicketCreateInput }
  /** `file`: the pattern file whose text is `body.yaml`, to name in the problems the server finds. */
  | { kind: 'run'; body: RunCreateBody; file?: string };

function parseJsonOption(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CommandFailure(`${what} is not JSON: ${text}`, 2);
  }
}

/** A pattern by name or file, with `--set` values read by the types its inputs declare. */
function runSubmission(pattern: string, o: SubmitOptions): Submission {
  const source = readPatternArg(pattern, PatternLibrary.builtIn());
  if (!source) throw new CommandFailure(`no pattern file or built-in pattern named "${pattern}"`, 2);
  const inputs = parseSets(o.set, source);
  const named = !existsSync(pattern);
  return {
    kind: 'run',
    ...(named ? {} : { file: pattern }),
    body: {
      ...(named ? { pattern } : { yaml: readFileSync(pattern, 'utf8') }),
      inputs,
      ...(o.id ? { runId: o.id } : {}),
      ...(o.ticket ? { ticketId: o.ticket } : {}),
      ...(o.phase ? { phase: o.phase } : {}),
    },
  };
}

/** Reads what to submit from the file or the options. */
function submissionOf(file: string | undefined, o: SubmitOptions): Submission {
  if (o.pattern) return runSubmission(o.pattern, o);
  if (file) {
    if (!existsSync(file)) throw new CommandFailure(`no file "${file}"`, 2);
    const text = readFileSync(file, 'utf8');
    let doc: unknown;
    try {
      doc = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    } catch (error) {
      throw new CommandFailure(`${file}: ${(error as Error).message}`, 2);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
      throw new CommandFailure(`${file}: expected a ticket, a task, { tasks: [...] } or a pattern`, 2);
    const record = doc as Record<string, unknown>;
    if ('steps' in record) return runSubmission(file, o);
    if ('title' in record)
      return { kind: 'ticket', body: { ...(record as TicketCreateInput), ...(o.id ? { id: o.id } : {}) } };
    if ('tasks' in record) return { kind: 'tasks', body: record as { tasks: TaskCreateInput[] } };
    if ('type' in record)
      return { kind: 'tasks', body: { ...(record as TaskCreateInput), ...(o.id ? { id: o.id } : {}) } };
    throw new CommandFailure(
      `${file}: expected a ticket (title), a task (type), { tasks: [...] } or a pattern (steps)`,
      2,
    );
  }
  if (o.type) {
    return {
      kind: 'tasks',
      body: {
        type: o.type,
        ...(o.id ? { id: o.id } : {}),
        ...(o.input !== undefined ? { input: parseJsonOption(o.input, '--input') } : {}),
        ...(o.requires ? { requires: o.requires } : {}),
        ...(o.ticket ? { ticketId: o.ticket } : {}),
        ...(o.phase ? { phase: o.phase } : {}),
      },
    };
  }
  throw new CommandFailure('give a file (ticket, task or pattern; YAML or JSON), --type for a task, or --pattern', 2);
}

/** Sends the submission; returns the id to follow and what to print. */
async function send(
  client: TroupeClient,
  submission: Submission,
): Promise<{ id: string; kind: 'task' | 'ticket' | 'run'; views: unknown; line: string }> {
  switch (submission.kind) {
    case 'tasks': {
      const answer = await client.tasks.submit('tasks' in submission.body ? submission.body.tasks : submission.body);
      const first = answer.tasks[answer.tasks.length - 1] as TaskView;
      const line = answer.tasks
        .map((t) => `task ${t.id} ${answer.created.includes(t.id) ? 'created' : 'existed already'}: ${t.status}`)
        .join('\n');
      return { id: first.id, kind: 'task', views: answer, line };
    }
    case 'ticket': {
      const before =
        submission.body.id !== undefined ? await client.tickets.get(submission.body.id).catch(() => null) : null;
      const ticket = await client.tickets.create(submission.body);
      return {
        id: ticket.id,
        kind: 'ticket',
        views: ticket,
        line: `ticket ${ticket.id} ${before ? 'existed already' : 'created'}: ${ticket.status}, phase ${ticket.currentPhase ?? '-'}`,
      };
    }
    case 'run': {
      const run = await client.runs.apply(submission.body).catch((error: unknown) => {
        throw refusedPattern(error, submission.file);
      });
      return { id: run.id, kind: 'run', views: run, line: `run ${run.id} of ${run.pattern}: ${run.status}` };
    }
  }
}

/**
 * A pattern file the server refused: every problem printed as `troupe validate` prints it, at its
 * line and column in the file, then a failure (exit 1). Any other error as it is.
 */
function refusedPattern(error: unknown, file: string | undefined): unknown {
  if (!(error instanceof ApiError) || error.problems.length === 0) return error;
  for (const p of error.problems)
    console.error(formatProblem({ ...p, code: p.code as PatternProblemCode, file: file ?? 'yaml' }));
  const errors = error.problems.filter((p) => p.severity === 'error').length;
  return new CommandFailure(
    `the server refused the pattern: ${errors} error${errors === 1 ? '' : 's'} (${error.code})`,
    1,
  );
}

/** Follows the work until it settles, drawing progress on stderr. */
async function follow(
  client: TroupeClient,
  id: string,
  kind: 'task' | 'ticket' | 'run',
): Promise<TaskView | TicketView | PatternRunView> {
  const display = new ProgressDisplay({
    isTTY: process.stderr.isTTY === true,
    columns: process.stderr.columns,
    write: (text) => process.stderr.write(text),
  });
  const counter = new TaskCounter();
  let refreshing: Promise<void> | null = null;
  let stale = false;
  // A ticket is read again after events (at most one read at a time): its phases carry the counts.
  const refresh = () => {
    if (refreshing) {
      stale = true;
      return;
    }
    refreshing = client.tickets
      .get(id)
      .then((t) => display.show(ticketProgress(t)))
      .catch(() => undefined)
      .finally(() => {
        refreshing = null;
        if (stale) {
          stale = false;
          refresh();
        }
      });
  };
  const onEvent = (event: TroupeEvent) => {
    if (kind === 'ticket') {
      refresh();
      return;
    }
    counter.see(event);
    display.show(counter.state(event.type));
  };
  if (kind === 'ticket') refresh();
  const done = await client.wait(id, { onEvent });
  await refreshing;
  if (kind === 'ticket') display.show(ticketProgress(done as TicketView));
  display.finish();
  return done;
}

/**
 * `troupe submit`: gives a server work (a task, a ticket from a YAML or JSON file, or a pattern
 * with `--set`); with `--wait`, follows it to the end with live progress and exits non-zero if
 * it did not succeed.
 */
export function registerSubmit(program: Command): void {
  withClientOptions(
    program
      .command('submit')
      .argument(
        '[file]',
        'a ticket (has title), a task (has type), { tasks: [...] }, or a pattern (has steps); YAML or JSON',
      )
      .option('--type <type>', 'submit one task of this type (no file needed)')
      .option('--input <json>', 'the task input, as JSON')
      .option('--requires <capability...>', 'capabilities the task needs')
      .option('--id <id>', 'the id of the task, ticket or run (resubmitting the same is safe)')
      .option('--pattern <name|file>', 'apply a pattern: a built-in name or a pattern file')
      .option('--set <key=value>', 'a pattern input (repeatable)', collect, [])
      .option('--ticket <id>', 'the task or run belongs to this ticket')
      .option('--phase <name>', 'the phase of that ticket')
      .option('--wait', 'follow the work to the end (progress on stderr); exit 1 unless it succeeded'),
  ).action((file: string | undefined, options: SubmitOptions) =>
    runClientCommand('submit', options, async () => {
      const submission = submissionOf(file, options);
      const client = clientFrom(options);
      const sent = await send(client, submission);
      if (!options.wait) {
        console.log(options.json ? JSON.stringify(sent.views, null, 2) : sent.line);
        return;
      }
      if (!options.json) console.log(sent.line);
      const done = await follow(client, sent.id, sent.kind);
      if (options.json) console.log(JSON.stringify(done, null, 2));
      else
        console.log(
          `${sent.kind} ${sent.id}: ${done.status}${'reason' in done && done.reason ? ` (${done.reason})` : ''}`,
        );
      if (!succeeded(done)) process.exitCode = 1;
    }),
  );
}
