import { InvalidArgumentError, type Command } from 'commander';
import type { TroupeEvent } from '../../client/create-client.js';
import { clientFrom, runClientCommand, withClientOptions, type ClientCommandOptions } from './cli-client.js';
import { short, when } from './cli-table.js';

interface TailOptions extends ClientCommandOptions {
  types?: string;
  ticket?: string;
  task?: string;
  agent?: string;
  after?: number;
}

const seq = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a seq (a whole number)');
  return n;
};

/** One event as one line for people. */
export function eventLine(e: TroupeEvent): string {
  const ids = [
    e.ticketId ? `ticket=${e.ticketId}` : '',
    e.phase ? `phase=${e.phase}` : '',
    e.taskId ? `task=${e.taskId}` : '',
    e.agentId ? `agent=${e.agentId}` : '',
  ]
    .filter((s) => s.length > 0)
    .join(' ');
  const data = Object.keys(e.data).length > 0 ? ` ${short(JSON.stringify(e.data), 160)}` : '';
  return `#${e.seq} ${when(e.at)} ${e.type} ${ids}${data}`.replace(/ {2,}/g, ' ');
}

/**
 * `troupe tail`: live events of a server, filtered, one line each (or JSON lines), until
 * interrupted. A dropped connection is resumed after the last event seen, so none is missed.
 */
export function registerTail(program: Command): void {
  withClientOptions(
    program
      .command('tail')
      .option('--types <list>', 'comma-separated types or prefixes: task.*,ticket.completed')
      .option('--ticket <id>', 'events of this ticket')
      .option('--task <id>', 'events of this task')
      .option('--agent <id>', 'events of this agent')
      .option('--after <seq>', 'start with the stored events after this seq (0: the whole history)', seq),
  ).action((options: TailOptions) =>
    runClientCommand('tail', options, async () => {
      const client = clientFrom(options);
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      let after = options.after;
      const filter = {
        ...(options.types
          ? {
              types: options.types
                .split(',')
                .map((t) => t.trim())
                .filter((t) => t.length > 0),
            }
          : {}),
        ...(options.ticket ? { ticket: options.ticket } : {}),
        ...(options.task ? { task: options.task } : {}),
        ...(options.agent ? { agent: options.agent } : {}),
      };
      while (!controller.signal.aborted) {
        try {
          for await (const event of client.events.stream({
            ...filter,
            ...(after !== undefined ? { after } : {}),
            signal: controller.signal,
          })) {
            after = event.seq;
            console.log(options.json ? JSON.stringify(event) : eventLine(event));
          }
        } catch (error) {
          if (controller.signal.aborted) break;
          // A refusal (bad filter, wrong token) is final; a dropped connection is resumed.
          if ((error as { status?: number }).status !== undefined) throw error;
          console.error(`troupe tail: ${(error as Error).message}; resuming`);
        }
        if (!controller.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }),
  );
}
