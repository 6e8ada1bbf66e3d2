import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'troupe-exec-'));
  const readInput = `let s = ''; process.stdin.on('data', (c) => (s += c)); process.stdin.on('end', () => main(JSON.parse(s)));`;
  echo = script('echo.mjs', `${readInput}\nfunction main({ task, context }) { process.stdout.write(JSON.stringify({ type: task.type, input: task.input, attempt: context.attempt, id: process.env.TROUPE_TASK_ID })); }`);
  chatty = script('chatty.mjs', `${readInput}\nfunction main() { console.error('step one'); console.error('step two'); console.log('"talked"'); }`);
  broken = script('broken.mjs', `${readInput}\nfunction main() { console.error('something broke'); process.exit(3); }`);
  sleepy = script('sleepy.mjs', `console.error('started'); setInterval(() => {}, 1000);`);
  envelope = script('envelope.mjs', `${readInput}\nfunction main() { console.log(JSON.stringify({ result: 'wrapped', artifacts: { report: 'r' }, quality: 0.7 })); }`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let t: TestServer | undefined;
let agents: RemoteAgent[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(agents.map((a) => a.close()));
  agents = [];
  await t?.close();
  t = undefined;
});

async function execAgent(command: string, options: { envelope?: boolean } = {}) {
  const server = t as TestServer;
  const agent = await connectAgent({ url: server.url, token: AGENT_TOKEN, id: 'exec', clock: server.clock, handler: execHandler(command, options) });
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
      result: { type: 'greet', input: { name: 'Ada' }, attempt: 1, id: 'e1' },
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

  it('reads an envelope with artifacts and quality when asked to', async () => {
    t = await startTestServer();
    await execAgent(envelope, { envelope: true });
    await t.runtime.tasks.create({ id: 'e5', type: 'wrap' });
    expect(await t.runtime.tasks.wait('e5')).toMatchObject({ result: 'wrapped', artifacts: { report: 'r' }, quality: 0.7 });
  });
});

/** Runs the CLI in a child process; resolves with it once a stdout line matches. */
function troupe(args: string[], waitFor: RegExp, env: Record<string, string> = {}): Promise<{ child: ChildProcess; match: RegExpMatchArray; lines: string[] }> {
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
    await troupe(['agent', '--url', t.url, '--id', 'cli-agent', '--capability', 'shell', '--exec', echo], /connected to/, {
      TROUPE_AGENT_TOKEN: AGENT_TOKEN,
    });
    await registered;
    await t.runtime.tasks.create({ id: 'c1', type: 'via-cli', requires: ['shell'], input: 42 });
    expect(await t.runtime.tasks.wait('c1')).toMatchObject({ status: 'succeeded', result: { type: 'via-cli', input: 42 } });
  });

  it('troupe serve listens, answers health checks, takes agents and shuts down cleanly on SIGTERM', async () => {
    const token = 'serve-test-agent-token-01';
    const { child, match } = await troupe(['serve', '--memory', '--port', '0', '--agent-token', token], /listening on (ws:\/\/\S+)/);
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
