import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { NonRetryableError } from '../../core/errors.js';
import type { TaskHandler } from '../../engine/api/task-handler.js';

/** Options of `execHandler`: how the command runs, and how long it may take. */
export interface ExecHandlerOptions {
  /** Working directory of the command. Default: the current one. */
  cwd?: string;
  /**
   * Extra environment variables. The command also gets `TROUPE_TASK_ID` (the task's id) and
   * `TROUPE_TASK_ATTEMPT` (which attempt of the task this run is, from 1).
   */
  env?: Record<string, string>;
  /**
   * How long a stopped command's process group has between SIGTERM and SIGKILL. Default 5000 ms.
   */
  killGraceMs?: number;
  /**
   * Read stdout as `{ "result": ..., "artifacts": {...}, "quality": 0.9 }` instead of as the
   * bare result, so that a command can hand artifacts on. Default false.
   */
  envelope?: boolean;
  /** Most bytes of stdout kept; more fails the attempt (non-retryable). Default 16 MiB. */
  maxOutputBytes?: number;
}

/** How long a stopped command has between SIGTERM and SIGKILL unless told otherwise. */
export const DEFAULT_KILL_GRACE_MS = 5000;

/** Sends `signal` to every process of group `pid`; false when none is left. */
function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * A task handler that runs a shell command per task: the task and its context go to the
 * command's stdin as one JSON document `{ "task": ..., "context": ... }`, its stdout (JSON) is
 * the result, each stderr line is reported as progress, and a non-zero exit fails the attempt
 * (retried with backoff). When the task is cancelled or its lease ends, the command's whole
 * process group gets SIGTERM, and SIGKILL `killGraceMs` later if any of it is still alive.
 *
 * @example
 * ```ts
 * import { connectAgent, execHandler } from 'troupe/sdk';
 * await connectAgent({ url, token, id: 'py-1', capabilities: ['python'], handler: execHandler('python3 agent.py') });
 * ```
 */
export function execHandler(command: string, options: ExecHandlerOptions = {}): TaskHandler {
  const maxOutput = options.maxOutputBytes ?? 16 * 1024 * 1024;
  const graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  return (task, context) =>
    new Promise((resolve, reject) => {
      const { signal, heartbeat: _h, progress, artifact, quality, message: _m, ...pkg } = context;
      const child = spawn(command, {
        shell: true,
        // Its own process group, so that stopping it reaches what the shell started as well.
        detached: true,
        cwd: options.cwd,
        env: { ...process.env, ...options.env, TROUPE_TASK_ID: task.id, TROUPE_TASK_ATTEMPT: String(task.attempt) },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const chunks: Buffer[] = [];
      let size = 0;
      let lastError = '';
      let killTimer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        const pid = child.pid;
        if (pid === undefined || !signalGroup(pid, 'SIGTERM')) {
          child.kill('SIGTERM');
          return;
        }
        // A command that ignores SIGTERM (or left children that do) must not outlive its task.
        killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= maxOutput) chunks.push(chunk);
      });
      createInterface({ input: child.stderr }).on('line', (line) => {
        lastError = line;
        progress(null, line);
      });
      // A command that exits without reading its input must not fail the write.
      child.stdin.on('error', () => undefined);
      child.stdin.end(JSON.stringify({ task, context: pkg }));
      child.on('error', (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(new NonRetryableError(`could not run "${command}": ${error.message}`));
      });
      child.on('close', (code, killedBy) => {
        signal.removeEventListener('abort', onAbort);
        // The group may outlive the shell (a background child): the timer stays until it is gone.
        if (killTimer !== undefined && child.pid !== undefined && !signalGroup(child.pid, 0)) clearTimeout(killTimer);
        if (code !== 0) {
          const how = code === null ? `was killed by ${killedBy}` : `exited with code ${code}`;
          reject(new Error(`"${command}" ${how}${lastError ? `: ${lastError}` : ''}`));
          return;
        }
        if (size > maxOutput) {
          reject(new NonRetryableError(`"${command}" wrote ${size} bytes to stdout, over the limit of ${maxOutput}`));
          return;
        }
        const text = Buffer.concat(chunks).toString('utf8').trim();
        let output: unknown;
        try {
          output = text === '' ? null : JSON.parse(text);
        } catch {
          reject(new NonRetryableError(`"${command}" did not write JSON to stdout: ${text.slice(0, 200)}`));
          return;
        }
        if (!options.envelope) {
          resolve(output);
          return;
        }
        const envelope = (output ?? {}) as { result?: unknown; artifacts?: Record<string, unknown>; quality?: number };
        for (const [name, value] of Object.entries(envelope.artifacts ?? {})) artifact(name, value);
        if (typeof envelope.quality === 'number') quality(envelope.quality);
        resolve(envelope.result ?? null);
      });
    });
}
