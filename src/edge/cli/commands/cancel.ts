import type { Command } from 'commander';
import { clientFrom, runClientCommand, withClientOptions, type ClientCommandOptions } from './cli-client.js';

interface CancelOptions extends ClientCommandOptions {
  reason?: string;
}

/** `troupe cancel <id>`: cancels a task, a ticket (with its unfinished work) or a pattern run. */
export function registerCancel(program: Command): void {
  withClientOptions(
    program
      .command('cancel')
      .argument('<id>', 'a task, ticket or run id')
      .option('--reason <text>', 'why (kept on the entity and its events)'),
  ).action((id: string, options: CancelOptions) =>
    runClientCommand('cancel', options, async () => {
      const client = clientFrom(options);
      const found = await client.find(id);
      const view =
        found.kind === 'task'
          ? await client.tasks.cancel(id, options.reason)
          : found.kind === 'ticket'
            ? await client.tickets.cancel(id, options.reason)
            : await client.runs.cancel(id, options.reason);
      if (options.json) console.log(JSON.stringify(view, null, 2));
      else console.log(`${found.kind} ${id}: ${view.status}`);
    }),
  );
}
