import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WebSocketServer, type WebSocket } from 'ws';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { MemoryStore } from '../../src/engine/store/memory-store.js';
import { startServer } from '../../src/edge/server/server.js';
import type { Figure, Scenario } from '../harness.js';
import { percentile } from '../harness.js';

const TASKS = 20_000;
const AGENTS = 8;
const CAPACITY = 64;
const SERIAL = 2_000;
const WARMUP = 200;
const ROUND_TRIPS = 5_000;
const TOKEN = 'bench-agent-token-0123456789';

const ms = (from: bigint, to: bigint): number => Number(to - from) / 1e6;

/**
 * Creates the tasks in batches of 1,000; resolves once the last has completed with tasks/s and
 * this process's CPU time per task (which machine load disturbs far less than wall time).
 */
async function drain(runtime: Runtime, requires: string[]): Promise<{ rate: number; cpuUs: number }> {
  let done = 0;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const off = runtime.events.subscribe({ types: ['task.completed'] }, () => {
    done += 1;
    if (done === TASKS) allDone();
  });
  const inputs = Array.from({ length: TASKS }, (_, i) => ({ id: `t${i}`, type: 'noop', requires }));
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < inputs.length; i += 1_000) await runtime.tasks.createMany(inputs.slice(i, i + 1_000));
  await finished;
  off();
  const used = process.cpuUsage(cpu);
  return { rate: Math.round(TASKS / ((performance.now() - start) / 1000)), cpuUs: Math.round((used.user + used.system) / TASKS) };
}

/** The same load through in-process agents, for scale: the runtime's own ceiling on this machine now. */
async function inProcessBaseline(): Promise<{ rate: number; cpuUs: number }> {
  const runtime = createRuntime({ store: new MemoryStore() });
  for (let i = 0; i < AGENTS; i++) await runtime.agents.register({ id: `local-${i}`, capacity: CAPACITY, handler: () => null });
  const measured = await drain(runtime, []);
  await runtime.stop();
  return measured;
}

/** Raw `ws` round trips, parent to child and back, one at a time. */
async function rawRoundTrips(wss: WebSocketServer): Promise<number[]> {
  const [socket] = (await once(wss, 'connection')) as [WebSocket];
  const payload = JSON.stringify({ type: 'ping', pad: 'x'.repeat(200) });
  const times: number[] = [];
  for (let i = 0; i < ROUND_TRIPS + WARMUP; i++) {
    const start = process.hrtime.bigint();
    socket.send(payload);
    await once(socket, 'message');
    if (i >= WARMUP) times.push(ms(start, process.hrtime.bigint()));
  }
  return times.sort((a, b) => a - b);
}

/**
 * Agents over loopback WebSocket, in a separate process: throughput of 20,000 no-op tasks
 * through 8 agents, and serial dispatch latency next to a raw `ws` round trip of the same run.
 */
export const wsDispatch: Scenario = {
  name: 'ws-dispatch',
  description: '20k no-op tasks through 8 WebSocket agents in a child process; serial dispatch latency vs raw ws round trip',
  async run(): Promise<Figure[]> {
    const runtime = createRuntime({ store: new MemoryStore() });
    const server = await startServer(runtime, { port: 0, agentTokens: [TOKEN] });
    const echo = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await once(echo, 'listening');
    const echoUrl = `ws://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    const trips = rawRoundTrips(echo);
    // BENCH_CHILD_PROF=<dir> writes a CPU profile of the agent process there.
    const profile = process.env.BENCH_CHILD_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CHILD_PROF}`] : [];
    const child = spawn(
      process.execPath,
      [...profile, ...agentProcessScript(), server.url, TOKEN, echoUrl, String(AGENTS), String(CAPACITY)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => line === 'ready' && resolve());
      child.once('exit', (code) => reject(new Error(`the agent process exited with ${code}`)));
    });
    const raw = await trips;
    const figures: Figure[] = [];

    // Throughput: create everything in batches, until the last completion.
    const remote = await drain(runtime, ['noop']);
    figures.push({
      name: 'throughput',
      value: remote.rate,
      unit: 'tasks/s',
      target: { op: '>=', value: 15_000 },
      note: `${AGENTS} agents x capacity ${CAPACITY}, memory store`,
    });
    figures.push({ name: 'server CPU per task', value: remote.cpuUs, unit: 'us', note: 'runtime + WebSocket server process' });

    // Serial dispatch: one task in flight; the agent's handler stamps when it got the assignment.
    {
      const queuedAt = new Map<string, bigint>();
      const off = runtime.events.subscribe({ types: ['task.queued'] }, (e) => queuedAt.set(e.taskId as string, process.hrtime.bigint()));
      const fromQueued: number[] = [];
      const fromCreate: number[] = [];
      for (let i = 0; i < SERIAL + WARMUP; i++) {
        const id = `s${i}`;
        const created = process.hrtime.bigint();
        await runtime.tasks.create({ id, type: 'noop', requires: ['solo'] });
        const done = await runtime.tasks.wait(id);
        const handled = BigInt(done.result as string);
        if (i < WARMUP) continue;
        fromQueued.push(ms(queuedAt.get(id) ?? created, handled));
        fromCreate.push(ms(created, handled));
      }
      off();
      fromQueued.sort((a, b) => a - b);
      fromCreate.sort((a, b) => a - b);
      const rawP99 = percentile(raw, 99);
      figures.push({
        name: 'dispatch p50 (queued to assign)',
        value: percentile(fromQueued, 50),
        unit: 'ms',
        note: 'task.queued event to the handler starting in the agent process',
      });
      figures.push({
        name: 'dispatch p99 (queued to assign)',
        value: percentile(fromQueued, 99),
        unit: 'ms',
        target: { op: '<=', value: Number((2 * rawP99 + 0.3).toFixed(3)) },
        note: 'target: 2 x raw p99 + 0.3 ms',
      });
      figures.push({ name: 'dispatch p50 (create call to assign)', value: percentile(fromCreate, 50), unit: 'ms' });
      figures.push({ name: 'dispatch p99 (create call to assign)', value: percentile(fromCreate, 99), unit: 'ms' });
      figures.push({ name: 'raw ws round trip p50', value: percentile(raw, 50), unit: 'ms' });
      figures.push({ name: 'raw ws round trip p99', value: rawP99, unit: 'ms' });
    }

    child.stdin?.end();
    await once(child, 'exit');
    echo.close();
    await server.close();
    await runtime.stop();
    const local = await inProcessBaseline();
    figures.push({ name: 'in-process throughput, same load', value: local.rate, unit: 'tasks/s', note: 'for scale: the runtime alone' });
    figures.push({ name: 'in-process CPU per task', value: local.cpuUs, unit: 'us', note: 'for scale: the runtime alone' });
    return figures;
  },
};

/**
 * The agent process's entry: the compiled bundle beside the bench's own (`npm run bench` builds
 * both), or the TypeScript source through tsx when the bench runs from source.
 */
function agentProcessScript(): string[] {
  const bundled = join(import.meta.dirname, 'scenarios', 'ws-agent-process.mjs');
  if (existsSync(bundled)) return [bundled];
  return ['--import', 'tsx', join(import.meta.dirname, 'ws-agent-process.ts')];
}
