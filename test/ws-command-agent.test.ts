import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectAgent, execHandler, type RemoteAgent } from '../src/edge/sdk/index.js';
import { AGENT_TOKEN, countEvents, nextEvent, startTestServer, type TestServer } from './agent-conformance-helpers.js';

/** Command-line agents: the exec handler, and the `troupe agent` and `troupe serve` commands. */
let dir: string;
const script = (name: string, body: string) => {
  const path = join(dir, name);
  writeFileSync(path, body);
  return `"${process.execPath}" "${path}"`;
};
let echo: string;
let chatty: string;
let broken: string;
let sleepy: string;
let envelope: string;
let stubborn: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'troupe-exec-'));
  const readInput = `let s = ''; process.stdin.on('data', (c) => (s += c)); process.stdin.on('end', () => main(JSON.parse(s)));`;
  echo = script(
    'echo.mjs',
    `${readInput}\nfunction main({ task, context }) { process.stdout.write(JSON.stringify({ type: task.type, input: task.input, attempt: context.attempt, id: process.env.TROUPE_TASK_ID, attemptEnv: process.env.TROUPE_TASK_ATTEMPT })); }`,
  );
  chatty = script(
    'chatty.mjs',
    `${readInput}\nfunction main() { console.error('step one'); console.error('step two'); console.log('"talked"'); }`,
  );
  broken = script('broken.mjs', `${readInput}\nfunction main() { console.error('something broke'); process.exit(3); }`);
  sleepy = script('sleepy.mjs', `console.error('started'); setInterval(() => {}, 1000);`);
  // Ignores SIGTERM, and so does the child it starts: only SIGKILL to the whole group stops both.
  stubborn = script(
    'stubborn.mjs',
    `import { spawn } from 'node:child_process';
const ignore = "process.on('SIGTERM', () => console.error('child got SIGTERM')); setInterval(() => {}, 1000);";
const child = spawn(process.execPath, ['-e', ignore], { stdio: ['ignore', 'ignore', 'inherit'] });
process.on('SIGTERM', () => console.error('parent got SIGTERM'));
setInterval(() => {}, 1000);
console.error('pids ' + process.pid + ' ' + child.pid);`,
  );
  envelope = script(
    'envelope.mjs',
    `${readInput}\nfunction main() { console.log(JSON.stringify({ result: 'wrapped', artifacts: { report: 'r' }, quality: 0.7 })); }`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let t: TestServer | undefined;
let agents: RemoteAgent[] = [];
const children: ChildProcess[] = [];
/** Processes a test saw started by a command: killed afterwards even if the test failed. */
const strays: number[] = [];
afterEach(async () => {
  for (const pid of strays.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(agents.map((a) => a.close()));
  agents = [];
  await t?.close();
  t = undefined;
});

async function execAgent(command: string, options: { envelope?: boolean; killGraceMs?: number } = {}) {
  const server = t as TestServer;
  const agent = await connectAgent({
    url: server.url,
    token: AGENT_TOKEN,
    id: 'exec',
    clock: server.clock,
    handler: execHandler(command, options),
  });
  agents.push(agent);
  return agent;
}

describe('execHandler', () => {
  it('passes the task on stdin and takes stdout as the result', async () => {
    t = await startTestServer();
    await execAgent(echo);
    await t.runtime.tasks.create({ id: 'e1', type: 'greet', input: { name: 'Ada' } });
    expect(await t.runtime.tasks.wait('e1')).toMatchObject({
      status: 'succeeded',
      result: { type: 'greet', input: { name: 'Ada' }, attempt: 1, id: 'e1', attemptEnv: '1' },
    });
  });

  it('reports stderr lines as progress', async () => {
    t = await startTestServer();
    await execAgent(chatty);
    const progress = countEvents(t.runtime, { types: ['task.progress'] }, 2);
    await t.runtime.tasks.create({ id: 'e2', type: 'talk' });
    expect((await progress).map((e) => e.data.message)).toEqual(['step one', 'step two']);
    expect((await t.runtime.tasks.wait('e2')).result).toBe('talked');
  });

  it('fails the attempt on a non-zero exit, naming the code and the last stderr line', async () => {
    t = await startTestServer();
    await execAgent(broken);
    await t.runtime.tasks.create({ id: 'e3', type: 'break', retry: { maxAttempts: 1 } });
    const done = await t.runtime.tasks.wait('e3');
    expect(done.status).toBe('dead_lettered');
    expect(done.error?.message).toMatch(/exited with code 3: something broke/);
  });

  it('stops the command when its task is cancelled', async () => {
    t = await startTestServer();
    const agent = await execAgent(sleepy);
    const started = nextEvent(t.runtime, { types: ['task.progress'], taskId: 'e4' });
    await t.runtime.tasks.create({ id: 'e4', type: 'sleep' });
    await started;
    const cancelled = new Promise((resolve) => agent.once('cancelled', resolve));
    await t.runtime.tasks.cancel('e4', 'enough');
    await cancelled;
    expect((await t.runtime.tasks.get('e4')).status).toBe('cancelled');
  });

  it("sends SIGTERM to the command's process group, then SIGKILL after the grace period", async () => {
    t = await startTestServer();
    await execAgent(stubborn, { killGraceMs: 300 });
    const messages: string[] = [];
    const started = new Promise<number[]>((resolve) => {
      t?.runtime.events.subscribe({ types: ['task.progress'], taskId: 'e6' }, (e) => {
        const message = String(e.data.message);
        messages.push(message);
        if (message.startsWith('pids ')) resolve(message.slice(5).split(' ').map(Number));
      });
    });
    await t.runtime.tasks.create({ id: 'e6', type: 'stubborn' });
    const pids = await started;
    strays.push(...pids);
    expect(pids.every(alive)).toBe(true);
    await t.runtime.tasks.cancel('e6', 'enough');
    // Both ignore SIGTERM: they die only by the SIGKILL the grace period ends with.
    for (const pid of pids) await until(() => !alive(pid), `process ${pid} to be gone`);
    expect((await t.runtime.tasks.get('e6')).status).toBe('cancelled');
  });

  it('documents the environment it gives the command', () => {
    const code = readFileSync(join(import.meta.dirname, '../src/edge/sdk/exec-handler.ts'), 'utf8');
    const doc = readFileSync(join(import.meta.dirname, '../docs/protocol.md'), 'utf8');
    const set = [...(/env: \{([^}]*)\}/.exec(code)?.[1] ?? '').matchAll(/(TROUPE_\w+):/g)].map((m) => m[1]).sort();
    expect(set).toEqual(['TROUPE_TASK_ATTEMPT', 'TROUPE_TASK_ID']);
    const named = (text: string) =>
      [...new Set([...text.matchAll(/`(TROUPE_(?:TASK|LEASE)_\w+)`/g)].map((m) => m[1]))].sort();
    expect(named(doc)).toEqual(set);
    expect(named(code)).toEqual(set);
  });

  it('reads an envelope with artifacts and quality when asked to', async () => {
    t = await startTestServer();
    await execAgent(envelope, { envelope: true });
    await t.runtime.tasks.create({ id: 'e5', type: 'wrap' });
    expect(await t.runtime.tasks.wait('e5')).toMatchObject({
      result: 'wrapped',
      artifacts: { report: 'r' },
      quality: 0.7,
    });
  });
});

/** Whether a process is still running (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls a condition about another process, which sends no event when it changes. */
async function until(condition: () => boolean, what: string, withinMs = 10_000): Promise<void> {
  const end = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs the CLI in a child process; resolves with it once a stdout line matches. */
function troupe(
  args: string[],
  waitFor: RegExp,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; match: RegExpMatchArray; lines: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/edge/cli/main.ts', ...args], {
    cwd: join(import.meta.dirname, '..'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        const match = waitFor.exec(line);
        if (match) resolve({ child, match, lines });
      });
    }
    child.once('exit', (code) => reject(new Error(`exited with ${code} before ${waitFor}: ${lines.join('\n')}`)));
  });
}

describe('the troupe agent and troupe serve commands', () => {
  it('troupe agent runs its command for each task of a server', async () => {
    t = await startTestServer();
    const registered = nextEvent(t.runtime, { types: ['agent.registered'], agentId: 'cli-agent' });
    await troupe(
      ['agent', '--url', t.url, '--id', 'cli-agent', '--capability', 'shell', '--exec', echo],
      /connected to/,
      {
        TROUPE_AGENT_TOKEN: AGENT_TOKEN,
      },
    );
    await registered;
    await t.runtime.tasks.create({ id: 'c1', type: 'via-cli', requires: ['shell'], input: 42 });
    expect(await t.runtime.tasks.wait('c1')).toMatchObject({
      status: 'succeeded',
      result: { type: 'via-cli', input: 42 },
    });
  });

  it('troupe serve listens, answers health checks, takes agents and shuts down cleanly on SIGTERM', async () => {
    const token = 'serve-test-agent-token-01';
    const { child, match } = await troupe(
      ['serve', '--memory', '--port', '0', '--agent-token', token],
      /listening on (ws:\/\/\S+)/,
    );
    const url = match[1] as string;
    const health = await fetch(url.replace('ws://', 'http://').replace('/v1/ws', '/healthz'));
    expect(health.status).toBe(200);
    const agent = await connectAgent({ url, token, id: 'visitor', handler: () => null, reconnect: false });
    const dropped = new Promise((resolve) => agent.once('disconnected', resolve));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await dropped).toMatchObject({ code: 1001 });
    expect(await exited).toBe(0);
  });

  it('troupe serve --json-schema prints the protocol', async () => {
    const { lines, child } = await troupe(['serve', '--json-schema'], /"subprotocol": "troupe.v1"/);
    await new Promise((resolve) => child.once('close', resolve));
    const schema = JSON.parse(lines.join('\n')) as { agentMessages: Record<string, unknown> };
    expect(Object.keys(schema.agentMessages)).toContain('hello');
  });
});
