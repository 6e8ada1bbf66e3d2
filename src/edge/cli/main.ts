#!/usr/bin/env node
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';

/**
 * The `troupe` command line: one subcommand per file in `src/edge/cli/commands/`, of which only
 * the one that `args` runs is loaded (see `COMMANDS`).
 */
export async function buildProgram(args: readonly string[]): Promise<Command> {
  const program = new Command();
  program
    .name('troupe')
    .description('Coordinate teams of AI agents (and any other workers) on long-running work.')
    .version('0.1.0')
    .showHelpAfterError();
  await registerCommands(program, args);
  return program;
}

await (await buildProgram(process.argv.slice(2))).parseAsync(process.argv);
