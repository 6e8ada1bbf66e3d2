import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandNamed, COMMANDS, registerCommands } from '../src/edge/cli/commands/index.js';

const run = promisify(execFile);
const cli = resolve('src/edge/cli/main.ts');
const tsx = import.meta.resolve('tsx');

/** What a command declares besides its name: options, arguments, subcommands. */
const declared = (c: Command) => c.options.length + c.registeredArguments.length + c.commands.length;

describe('troupe commands load lazily', () => {
  it('finds the command the arguments run', () => {
    expect(commandNamed(['ls', '--help'])).toBe('ls');
    expect(commandNamed(['--help'])).toBeUndefined();
    expect(commandNamed(['help', 'submit'])).toBe('submit');
    expect(commandNamed(['dlq', 'redrive', '--all'])).toBe('dlq');
  });

  it('registers the command that runs whole and every other by name and summary only', async () => {
    const program = new Command('troupe');
    await registerCommands(program, ['ls', '--help']);
    expect(program.commands.map((c) => c.name())).toEqual(COMMANDS.map((c) => c.name));
    for (const c of program.commands) {
      expect(c.description()).toBe(COMMANDS.find((e) => e.name === c.name())?.summary);
      if (c.name() === 'ls')
        expect(c.options.map((o) => o.long)).toEqual(expect.arrayContaining(['--status', '--all', '--url']));
      else expect(declared(c)).toBe(0);
    }
  });

  it('each entry loads the command of its name and nothing else', async () => {
    for (const entry of COMMANDS) {
      const program = new Command('troupe');
      await registerCommands(program, [entry.name]);
      expect(program.commands.map((c) => c.name())).toEqual(COMMANDS.map((c) => c.name));
      expect(declared(program.commands.find((c) => c.name() === entry.name) as Command)).toBeGreaterThan(0);
    }
  });

  it('shows a command its full help through `help <command>`, and suggests for a misspelt one', async () => {
    const { stdout } = await run(process.execPath, ['--import', tsx, cli, 'help', 'ls']);
    expect(stdout).toContain('Usage: troupe ls [options] <what>');
    expect(stdout).toContain('--capability <name>');
    const wrong = await run(process.execPath, ['--import', tsx, cli, 'lss']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(wrong).toMatchObject({ code: 1, stderr: expect.stringContaining('Did you mean ls?') });
  });
});
