import { Command } from 'commander';
import { vi } from 'vitest';

/** What a `troupe` command printed, and the exit status it set. */
export interface CliOutcome {
  out: string;
  err: string;
  status: number;
}

/**
 * Runs one `troupe` command in this process with the commands `registers` adds, and returns
 * what it printed (stdout and stderr lines, joined) and its exit status. Faster than a child
 * process, and the command's code is the same.
 */
export async function runInProcess(
  registers: ReadonlyArray<(program: Command) => void>,
  args: readonly string[],
): Promise<CliOutcome> {
  const program = new Command().exitOverride();
  for (const register of registers) register(program);
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void out.push(String(line)));
  const error = vi.spyOn(console, 'error').mockImplementation((line: unknown) => void err.push(String(line)));
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'troupe', ...args]);
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
  const status = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out: out.join('\n'), err: err.join('\n'), status };
}
