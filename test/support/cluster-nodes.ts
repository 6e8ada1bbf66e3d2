import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { expect } from 'vitest';
import type { PostgresStore } from '../../src/engine/store/postgres-store.js';
import type { LeaseTerm } from '../../src/engine/store/store.js';
import type { TicketCreateInput } from '../../src/index.js';
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

/**
 * Every task of `taskIds` (and no other) is stored settled and completed exactly once (one
 * `task.completed` event each), and every ticket settled.
 */
export async function expectEveryTaskOnce(reader: PostgresStore, taskIds: readonly string[]): Promise<void> {
  const tasks = await reader.listActors({ kind: 'task' });
  expect(tasks.map((t) => t.id).sort()).toEqual([...taskIds].sort());
  expect(tasks.every((t) => t.settled)).toBe(true);
  const completed = await reader.readEvents({ types: ['task.completed'], order: 'oldest' });
  const perTask = new Map<string, number>();
  for (const e of completed) perTask.set(e.taskId ?? '', (perTask.get(e.taskId ?? '') ?? 0) + 1);
  expect([...perTask.keys()].sort()).toEqual([...taskIds].sort());
  expect([...perTask.values()].every((n) => n === 1)).toBe(true);
  const tickets = await reader.listActors({ kind: 'ticket' });
  expect(tickets.filter((t) => !t.settled).map((t) => t.id)).toEqual([]);
}

/** A lease's history: one holder per epoch, epochs consecutive from 1, each a new holder, later than the last. */
export async function expectOneHolderPerEpoch(reader: PostgresStore, lease: string): Promise<LeaseTerm[]> {
  const history = await reader.leaseHistory(lease);
  expect(history.map((t) => t.epoch)).toEqual(history.map((_, i) => i + 1));
  for (let i = 1; i < history.length; i++) {
    expect(history[i]!.holder).not.toBe(history[i - 1]!.holder);
    expect(history[i]!.acquiredAt).toBeGreaterThan(history[i - 1]!.acquiredAt);
  }
  return history;
}

/** The chaos tests' ticket: phases design and build, three tasks each (`<id>-<phase>-<i>`, needing `work`). */
export function twoPhaseTicket(id: string): { ticket: TicketCreateInput; taskIds: string[] } {
  const taskIds: string[] = [];
  const phases = ['design', 'build'].map((name) => ({
    name,
    tasks: [0, 1, 2].map((i) => {
      taskIds.push(`${id}-${name}-${i}`);
      return { id: `${id}-${name}-${i}`, type: name, requires: ['work'] };
    }),
  }));
  return { ticket: { id, title: `ticket ${id}`, phases }, taskIds };
}
