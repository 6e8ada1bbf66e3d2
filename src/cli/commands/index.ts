import type { Command } from 'commander';
import { registerDemo } from './demo.js';

/**
 * Every subcommand registers itself here. Each lives in its own file and exports
 * `register<Name>(program)`.
 */
export function registerCommands(program: Command): void {
  registerDemo(program);
}
