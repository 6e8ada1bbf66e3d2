import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Runtime } from '../src/runtime.js';
import { percentile, type Figure } from './harness.js';

/** Shared parts of the benchmarks whose agents run in another process over WebSocket. */

export const BENCH_AGENT_TOKEN = 'bench-agent-token-0123456789';
const WARMUP = 200;

export const ms = (from: bigint, to: bigint): number => Number(to - from) / 1e6;

/**
 * Creates `tasks` no-op tasks in batches of 1,000; resolves once the last has completed with
 * tasks/s and this process's CPU time per task (which machine load disturbs far less than wall time).
 */
export async function drain(
  runtime: Runtime,
  tasks: number,
  requires: string[],
  prefix = 't',
): Promise<{ rate: number; cpuUs: number }> {
  let done = 0;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const off = runtime.events.subscribe({ types: ['task.completed'] }, () => {
    done += 1;
    if (done === tasks) allDone();
  });
  const inputs = Array.from({ length: tasks }, (_, i) => ({ id: `${prefix}${i}`, type: 'noop', requires }));
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < inputs.length; i += 1_000) await runtime.tasks.createMany(inputs.slice(i, i + 1_000));
  await finished;
  off();
  const used = process.cpuUsage(cpu);
  return {
    rate: Math.round(tasks / ((performance.now() - start) / 1000)),
    cpuUs: Math.round((used.user + used.system) / tasks),
  };
}

/** A raw `ws` echo server; `trips()` measures round trips to the agent process's echo client. */
export async function echoServer(): Promise<{ url: string; trips: Promise<number[]>; close(): void }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await once(wss, 'listening');
  const trips = (async () => {
    const [socket] = (await once(wss, 'connection')) as [WebSocket];
    const payload = JSON.stringify({ type: 'ping', pad: 'x'.repeat(200) });
    const times: number[] = [];
    for (let i = 0; i < 5_000 + WARMUP; i++) {
      const start = process.hrtime.bigint();
      socket.send(payload);
      await once(socket, 'message');
      if (i >= WARMUP) times.push(ms(start, process.hrtime.bigint()));
    }
    return times.sort((a, b) => a - b);
  })();
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, trips, close: () => wss.close() };
}

/**
 * Starts the agent process (`ws-agent-process`): `agents` no-op agents of `capacity` plus one
 * `solo` agent for serial latency and an echo client; resolves once all are connected.
 */
export async function startAgentProcess(
  url: string,
  echoUrl: string,
  agents: number,
  capacity: number,
): Promise<ChildProcess> {
  // BENCH_CHILD_PROF=<dir> writes a CPU profile of the agent process there.
  const profile = process.env.BENCH_CHILD_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CHILD_PROF}`] : [];
  const child = spawn(
    process.execPath,
    [...profile, ...agentProcessScript(), url, BENCH_AGENT_TOKEN, echoUrl, String(agents), String(capacity)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => line === 'ready' && resolve());
    child.once('exit', (code) => reject(new Error(`the agent process exited with ${code}`)));
  });
  return child;
}

export async function stopAgentProcess(child: ChildProcess): Promise<void> {
  child.stdin?.end();
  await once(child, 'exit');
}

/**
 * Serial dispatch: one task in flight on the `solo` agent, whose handler returns the
 * CLOCK_MONOTONIC reading at which it got the assignment. Percentiles in ms.
 */
export async function serialDispatch(
  runtime: Runtime,
  count: number,
  prefix = 's',
): Promise<{ fromQueued: number[]; fromCreate: number[] }> {
  const queuedAt = new Map<string, bigint>();
  const off = runtime.events.subscribe({ types: ['task.queued'] }, (e) =>
    queuedAt.set(e.taskId as string, process.hrtime.bigint()),
  );
  const fromQueued: number[] = [];
  const fromCreate: number[] = [];
  for (let i = 0; i < count + WARMUP; i++) {
    const id = `${prefix}${i}`;
    const created = process.hrtime.bigint();
    await runtime.tasks.create({ id, type: 'noop', requires: ['solo'] });
    const done = await runtime.tasks.wait(id);
    const handled = BigInt(done.result as string);
    if (i < WARMUP) continue;
    fromQueued.push(ms(queuedAt.get(id) ?? created, handled));
    fromCreate.push(ms(created, handled));
  }
  off();
  return { fromQueued: fromQueued.sort((a, b) => a - b), fromCreate: fromCreate.sort((a, b) => a - b) };
}

export { percentile };

/**
 * Serial dispatch latency as figures: p50 and p99 of one series (`fromQueued` or `fromCreate`),
 * the p99 held to the target 2 x raw ws p99 + 0.3 ms, and the raw round trip p99 of the same run.
 */
export function dispatchFigures(store: string, series: number[], what: string, raw: number[]): Figure[] {
  const rawP99 = percentile(raw, 99);
  return [
    { name: `${store}: dispatch p50 (${what})`, value: percentile(series, 50), unit: 'ms' },
    {
      name: `${store}: dispatch p99 (${what})`,
      value: percentile(series, 99),
      unit: 'ms',
      target: { op: '<=', value: Number((2 * rawP99 + 0.3).toFixed(3)) },
      note: `one task in flight; target 2 x raw ws p99 (${rawP99.toFixed(3)} ms) + 0.3 ms`,
    },
    { name: `${store}: raw ws round trip p99`, value: rawP99, unit: 'ms' },
  ];
}

/**
 * The agent process's entry: the compiled bundle beside the bench's own (`npm run bench` builds
 * both), or the TypeScript source through tsx when the bench runs from source.
 */
function agentProcessScript(): string[] {
  const bundled = join(import.meta.dirname, 'scenarios', 'ws-agent-process.mjs');
  if (existsSync(bundled)) return [bundled];
  return ['--import', 'tsx', join(import.meta.dirname, 'scenarios', 'ws-agent-process.ts')];
}
