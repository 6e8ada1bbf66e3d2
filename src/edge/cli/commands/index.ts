import type { Command } from 'commander';

/** One subcommand: its name, the line `troupe --help` shows for it, and how to load its file. */
export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<(program: Command) => void>;
}

/**
 * Every subcommand, in the order `troupe --help` lists them. Each lives in its own file, exports
 * `register<Name>(program)`, and is imported only when it runs: importing all of them (the
 * server, both stores, the pattern compiler, the client) made `troupe ls --help` take about 3 s
 * through tsx (`time node bin/troupe.js ls --help`; the figures are in the commit that made this
 * table). The summary lives here, not in the command's file, so `troupe --help` needs no import.
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'demo',
    summary: 'run a small ticket through its phases with in-process agents, printing progress',
    load: async () => (await import('./demo.js')).registerDemo,
  },
  {
    name: 'serve',
    summary: 'serve a runtime: WebSocket agents and observers (docs/protocol.md), HTTP clients (docs/api.md)',
    load: async () => (await import('./serve.js')).registerServe,
  },
  {
    name: 'nodes',
    summary: 'list the nodes of a cluster on a PostgreSQL database, with the writer lease',
    load: async () => (await import('./nodes.js')).registerNodes,
  },
  {
    name: 'agent',
    summary: 'connect to a troupe server and run a command for each task',
    load: async () => (await import('./agent.js')).registerAgent,
  },
  {
    name: 'validate',
    summary: 'check pattern files and print every problem with file:line:column and its path in the document',
    load: async () => (await import('./validate.js')).registerValidate,
  },
  {
    name: 'graph',
    summary: 'draw the statechart a pattern compiles to',
    load: async () => (await import('./graph.js')).registerGraph,
  },
  {
    name: 'paths',
    summary: 'generate test paths from the statechart (every step, failure and timeout branch)',
    load: async () => (await import('./paths.js')).registerPaths,
  },
  {
    name: 'run',
    summary:
      'run a pattern with simulated agents on a simulated clock; print progress, the timeline and the total duration',
    load: async () => (await import('./run.js')).registerRun,
  },
  {
    name: 'backup',
    summary: 'copy a live SQLite store consistently into <file> (SQLite online backup API)',
    load: async () => (await import('./backup.js')).registerBackup,
  },
  {
    name: 'restore',
    summary: 'replace a SQLite store with a backup taken by `troupe backup` (stop the server first)',
    load: async () => (await import('./restore.js')).registerRestore,
  },
  {
    name: 'import',
    summary: 'read archived units (JSON Lines from retention) back into a SQLite store',
    load: async () => (await import('./import-archive.js')).registerImport,
  },
  {
    name: 'audit',
    summary: 'print the audit log (who submitted, cancelled, redrove or changed what, and when), newest first',
    load: async () => (await import('./audit.js')).registerAudit,
  },
  {
    name: 'submit',
    summary: 'submit a task, a ticket (YAML or JSON file) or a pattern run to a server; --wait follows it to the end',
    load: async () => (await import('./submit.js')).registerSubmit,
  },
  {
    name: 'ls',
    summary: 'list tasks, tickets, agents or pattern runs of a server (docs/api.md)',
    load: async () => (await import('./ls.js')).registerLs,
  },
  {
    name: 'show',
    summary: 'show one task, ticket, pattern run or agent of a server: state, attempts and errors, result, timings',
    load: async () => (await import('./show.js')).registerShow,
  },
  {
    name: 'cancel',
    summary: 'cancel a task, a ticket or a pattern run on a server; agents running its work are told to stop',
    load: async () => (await import('./cancel.js')).registerCancel,
  },
  {
    name: 'tail',
    summary: 'print the live events of a server (filtered), resuming after a dropped connection',
    load: async () => (await import('./tail.js')).registerTail,
  },
  {
    name: 'dlq',
    summary: 'the dead-letter queue: list and redrive tasks that failed for good',
    load: async () => (await import('./dlq.js')).registerDlq,
  },
  {
    name: 'schedule',
    summary: 'cron schedules of a server that create tasks, tickets or pattern runs: ls, show, add, rm',
    load: async () => (await import('./schedule.js')).registerSchedule,
  },
];

/**
 * The subcommand the arguments run, if any: the first word that is not an option (the program's
 * own options, `--help` and `--version`, take no value), or the word after `help`.
 */
export function commandNamed(args: readonly string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/**
 * Registers every subcommand on `program`: the one that `args` (the arguments after the script)
 * run is loaded and registered whole; the others only by name and summary, enough for
 * `troupe --help` and for commander's "did you mean" on a misspelt name.
 *
 * @example
 *   const program = new Command('troupe');
 *   await registerCommands(program, process.argv.slice(2));
 *   await program.parseAsync(process.argv);
 */
export async function registerCommands(program: Command, args: readonly string[]): Promise<void> {
  const wanted = commandNamed(args);
  for (const entry of COMMANDS) {
    if (entry.name === wanted) (await entry.load())(program);
    else program.command(entry.name);
    program.commands.at(-1)?.description(entry.summary);
  }
}
