import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { ROOT } from './serve-process.js';

/** A `troupe serve --node-id` child process of a test cluster. */
export interface ClusterNode {
  id: string;
  port: number;
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

/** A free loopback port (taken and let go: the node listens on it next). */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * The nodes a test starts, by id (a restarted node replaces its entry); `killAll` ends every
 * one still running, paused ones included.
 */
export class ClusterNodes {
  readonly nodes = new Map<string, ClusterNode>();

  /** Starts `troupe serve --db <db> --node-id <id> --port <port> --lease-ms <leaseMs>` plus `extra`. */
  start(id: string, port: number, db: string, leaseMs: number, extra: string[]): ClusterNode {
    const args = ['serve', '--db', db, '--node-id', id, '--port', String(port), '--lease-ms', String(leaseMs)];
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/edge/cli/main.ts', ...args, ...extra], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream }).on('line', (line) => lines.push(line));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const node = { id, port, child, lines, exited };
    this.nodes.set(id, node);
    return node;
  }

  killAll(): void {
    for (const node of this.nodes.values()) {
      if (node.child.exitCode === null && node.child.signalCode === null) {
        node.child.kill('SIGCONT');
        node.child.kill('SIGKILL');
      }
    }
  }
}

/** Polls `probe` every 100 ms until it gives a value; throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
