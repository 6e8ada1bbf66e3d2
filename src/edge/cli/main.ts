#!/usr/bin/env node
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';

/** The `troupe` command line: one subcommand per file in `src/cli/commands/`. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('troupe')
    .description('Coordinate teams of AI agents (and any other workers) on long-running work.')
    .version('0.1.0')
    .showHelpAfterError();
  registerCommands(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
