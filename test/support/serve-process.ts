import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLIENT_TOKEN = 'client-token-for-tests-0001';
export const OBSERVER_TOKEN = 'observer-token-for-tests-01';
export const AGENT_TOKEN = 'agent-token-for-tests-00001';

/** A `troupe serve` child process on a loopback port with a SQLite file in a fresh directory. */
export interface ServeProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `ws://127.0.0.1:<port>/v1/ws` */
  wsUrl: string;
  dir: string;
  db: string;
  lines: string[];
  /** SIGTERM, wait for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Removes the directory too. */
  dispose(): Promise<void>;
}

/** Runs the CLI (through tsx) and resolves once a line of its output matches. */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; waitFor?: RegExp; cwd?: string } = {},
): { child: ChildProcess; lines: string[]; matched: Promise<RegExpMatchArray>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/edge/cli/main.ts'), ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const matched = new Promise<RegExpMatchArray>((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        const match = options.waitFor?.exec(line);
        if (match) resolve(match);
      });
    }
    void exited.then((code) => reject(new Error(`exited with ${code} before ${options.waitFor}: ${lines.join('\n')}`)));
  });
  matched.catch(() => undefined);
  return { child, lines, matched, exited };
}

/** Starts `troupe serve --port 0` with client, observer and agent tokens and a SQLite file. */
export async function startServe(
  extra: string[] = [],
  dir = mkdtempSync(join(tmpdir(), 'troupe-serve-')),
): Promise<ServeProcess> {
  const db = join(dir, 'troupe.db');
  const run = runCli(
    [
      'serve',
      '--port',
      '0',
      '--db',
      db,
      '--client-token',
      CLIENT_TOKEN,
      '--observer-token',
      OBSERVER_TOKEN,
      '--agent-token',
      AGENT_TOKEN,
      ...extra,
    ],
    { waitFor: /listening on (ws:\/\/(\S+?)\/v1\/ws)/ },
  );
  const match = await run.matched;
  const wsUrl = match[1] as string;
  const url = `http://${match[2] as string}`;
  let stopped: Promise<number | null> | null = null;
  const stop = () => {
    stopped ??=
      run.child.exitCode !== null ? Promise.resolve(run.child.exitCode) : (run.child.kill('SIGTERM'), run.exited);
    return stopped;
  };
  return {
    child: run.child,
    url,
    wsUrl,
    dir,
    db,
    lines: run.lines,
    stop,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fetch with a bearer token and JSON in and out. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read JSON answers field by field
): Promise<{ status: number; body: any; headers: Headers }> {
  const token = options.token === undefined ? CLIENT_TOKEN : options.token;
  const headers: Record<string, string> = {
    ...(token !== null ? { Authorization: `Bearer ${token}` } : {}),
    ...options.headers,
  };
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const response = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (metrics, SSE): the text as it is
  }
  return { status: response.status, body: parsed, headers: response.headers };
}
