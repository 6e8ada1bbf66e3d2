import type { Command } from 'commander';
import { ApiError } from '../../client/api-error.js';
import { createClient, type TroupeClient } from '../../client/create-client.js';

/** The options every command that talks to a server takes. */
export interface ClientCommandOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

/** The default server: what `troupe serve` listens on without options. */
export const DEFAULT_URL = 'http://127.0.0.1:7411';

/** Adds `--url`, `--token` and `--json` to a command. */
export function withClientOptions(command: Command): Command {
  return command
    .option('--url <url>', `server HTTP base (or TROUPE_URL; default ${DEFAULT_URL})`)
    .option('--token <token>', 'client or observer token (better: TROUPE_TOKEN, which other users cannot see in ps)')
    .option('--json', 'print JSON for scripts instead of tables for people');
}

/** Signals a failure already reported to the user: the command exits with this status. */
export class CommandFailure extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

const refused = (error: unknown): boolean => (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';

/**
 * `fetch` that waits for a server still starting: a refused connection is tried again every
 * 250 ms for up to `TROUPE_CONNECT_WAIT_MS` (default 15 s), so that commands typed or pasted
 * right after `troupe serve &` work. Only refused connections: nothing was sent, nothing repeats.
 */
function patientFetch(url: string): typeof fetch {
  const waitMs = Number(process.env.TROUPE_CONNECT_WAIT_MS ?? 15_000);
  return async (input, init) => {
    const deadline = Date.now() + waitMs;
    let told = false;
    for (;;) {
      try {
        return await fetch(input, init);
      } catch (error) {
        if (!refused(error) || Date.now() >= deadline || init?.signal?.aborted) throw error;
        if (!told) console.error(`waiting for the server at ${url} ...`);
        told = true;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  };
}

/** The client the options name; a missing token is a usage error (exit 2). */
export function clientFrom(options: ClientCommandOptions): TroupeClient {
  const token = options.token ?? (process.env.TROUPE_TOKEN || undefined);
  if (!token) throw new CommandFailure('give --token or set TROUPE_TOKEN (a client token of the server)', 2);
  const url = (options.url ?? (process.env.TROUPE_URL || DEFAULT_URL))
    .replace(/^ws(s?):\/\//, 'http$1://')
    .replace(/\/v1\/ws$/, '');
  return createClient({ url, token, fetch: patientFetch(url) });
}

/**
 * Runs a command's body and turns failures into a message on stderr and an exit status: an
 * `ApiError` shows its code (and, with --json, the error body on stdout); a server that cannot
 * be reached says so.
 */
export async function runClientCommand(
  name: string,
  options: ClientCommandOptions,
  body: () => Promise<void>,
): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (error instanceof CommandFailure) {
      if (error.message) console.error(`troupe ${name}: ${error.message}`);
      process.exitCode = error.exitCode;
      return;
    }
    if (error instanceof ApiError) {
      if (options.json)
        console.log(
          JSON.stringify({
            error: { code: error.code, message: error.message, path: error.path, retryable: error.retryable },
          }),
        );
      console.error(`troupe ${name}: ${error.code}: ${error.message}`);
      process.exitCode = 1;
      return;
    }
    if (refused(error) || (error as Error).message === 'fetch failed') {
      console.error(
        `troupe ${name}: cannot reach the server at ${options.url ?? process.env.TROUPE_URL ?? DEFAULT_URL} (is \`troupe serve\` running?)`,
      );
    } else {
      console.error(`troupe ${name}: ${(error as Error).message}`);
    }
    process.exitCode = 1;
  }
}
