import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NonRetryableError } from '../src/core/errors.js';
import { connectAgent } from '../src/edge/sdk/connect-agent.js';
import { AGENT_TOKEN, CLIENT_TOKEN, runCli, startServe, type ServeProcess } from './support/serve-process.js';

/** The CLI against a `troupe serve` process: submit (with --wait), ls, show, cancel, tail. */
let serve: ServeProcess;
let agent: Awaited<ReturnType<typeof connectAgent>>;
let dir: string;
const aborted: string[] = [];

beforeAll(async () => {
  serve = await startServe();
  dir = mkdtempSync(join(tmpdir(), 'troupe-cli-'));
  agent = await connectAgent({
    url: serve.wsUrl,
    token: AGENT_TOKEN,
    id: 'cli-worker',
    capabilities: ['code'],
    capacity: 4,
    handler: async (task, ctx) => {
      if (task.type === 'fail') throw new NonRetryableError('broken on purpose');
      if (task.type === 'block') {
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        aborted.push(task.id);
      }
      return { did: task.type };
    },
  });
}, 30_000);
afterAll(async () => {
  await agent?.close();
  await serve.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a client command to its end. */
async function cli(args: string[], env: Record<string, string> = {}) {
  const run = runCli(args, { env: { TROUPE_URL: serve.url, TROUPE_TOKEN: CLIENT_TOKEN, ...env } });
  const code = await run.exited;
  // Output lines are read asynchronously; let the last ones arrive.
  await new Promise((resolve) => setImmediate(resolve));
  return { code, out: run.lines.join('\n') };
}

describe('CLI commands against a server', () => {
  it('submits a task (--json), lists it (--json) and shows it whole', async () => {
    const submitted = await cli([
      'submit',
      '--type',
      'build',
      '--input',
      '{"n":1}',
      '--requires',
      'code',
      '--id',
      'cli-t1',
      '--wait',
      '--json',
    ]);
    expect(submitted.code, submitted.out).toBe(0);
    expect(submitted.out).toContain('"status": "succeeded"');
    const [listed, shown, missingToken, unknown] = await Promise.all([
      cli(['ls', 'tasks', '--status', 'succeeded', '--json']),
      cli(['show', 'cli-t1']),
      cli(['ls', 'tasks'], { TROUPE_TOKEN: '' }),
      cli(['show', 'no-such-thing']),
    ]);
    expect(JSON.parse(listed.out).items.map((t: { id: string }) => t.id)).toContain('cli-t1');
    expect(shown.out).toMatch(/^task cli-t1 {2}succeeded/m);
    expect(shown.out).toMatch(/attempts:\n\s+#\s+AGENT/);
    expect(shown.out).toContain('result {"did":"build"}');
    expect(missingToken.code).toBe(2);
    expect(missingToken.out).toContain('TROUPE_TOKEN');
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain('E_NOT_FOUND');
  }, 120_000);

  it('submit --wait on a ticket that fails shows progress as plain lines and exits 1', async () => {
    const file = join(dir, 'failing.yaml');
    writeFileSync(
      file,
      [
        'title: Bound to fail',
        'phases:',
        '  - name: only',
        '    tasks:',
        '      - { type: fail, requires: [code] }',
        '',
      ].join('\n'),
    );
    const run = await cli(['submit', file, '--wait', '--id', 'cli-fail']);
    expect(run.code, run.out).toBe(1);
    expect(run.out).toMatch(/^ticket cli-fail created: active, phase only$/m);
    expect(run.out).toMatch(/^phase 1\/1 only · tasks 0\/1 done · active$/m);
    expect(run.out).toMatch(/^ticket cli-fail: failed/m);
    expect(run.out).not.toContain('\r');
  }, 120_000);

  it('submit --pattern sends a pattern file with its --set inputs; a broken one is refused with every problem at its line', async () => {
    const good = join(dir, 'greet.yaml');
    writeFileSync(
      good,
      [
        'name: greet',
        'inputs:',
        '  who: { type: string }',
        'steps:',
        '  - id: hello',
        '    task: { type: greet, requires: [code], input: { to: "${who}" } }',
        '',
      ].join('\n'),
    );
    const run = await cli(['submit', '--pattern', good, '--set', 'who=Ada', '--id', 'cli-greet', '--wait']);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/^run cli-greet of greet: (pending|running)$/m);
    expect(run.out).toMatch(/^run cli-greet: completed/m);
    const bad = join(dir, 'broken.yaml');
    writeFileSync(
      bad,
      ['name: broken', 'steps:', '  - id: hello', '    task: { type: greet, requires: [code], retires: 2 }', ''].join(
        '\n',
      ),
    );
    const refused = await cli(['submit', '--pattern', bad, '--id', 'cli-broken']);
    expect(refused.code).toBe(1);
    const problem = `${bad}:4:44 error E_UNKNOWN_KEY steps[0].task.retires: unknown key "retires"; expected one of: type, description, input, priority, requires, retry, rate_limits, concurrency, breakers, bulkhead, delay (did you mean "requires"?)`;
    expect(refused.out.split('\n')).toContain(problem);
    // The same line `troupe validate` prints for the file.
    expect((await cli(['validate', bad])).out.split('\n')).toContain(problem);
    expect(refused.out).toMatch(/troupe submit: the server refused the pattern: 1 error \(E_INVALID_INPUT\)/);
    const listed = await cli(['show', 'cli-broken']);
    expect(listed.code).toBe(1);
  }, 120_000);

  it('cancel reaches the agent, and tail prints the events that led there', async () => {
    const submitted = await cli(['submit', '--type', 'block', '--requires', 'code', '--id', 'cli-block']);
    expect(submitted.out).toContain('task cli-block created');
    const tail = runCli(['tail', '--after', '0', '--task', 'cli-block', '--json'], {
      env: { TROUPE_URL: serve.url, TROUPE_TOKEN: CLIENT_TOKEN },
      waitFor: /"type":"task\.started"/,
    });
    await tail.matched;
    const cancelled = await cli(['cancel', 'cli-block', '--reason', 'no longer needed']);
    expect(cancelled.out).toContain('task cli-block: cancelled');
    await expect.poll(() => aborted).toContain('cli-block');
    await expect.poll(() => tail.lines.some((l) => l.includes('"type":"task.cancelled"'))).toBe(true);
    tail.child.kill('SIGINT');
    expect(await tail.exited).toBe(0);
    const types = tail.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l).type as string);
    expect(types.slice(0, 2)).toEqual(['task.created', 'task.queued']);
    expect(types).toContain('task.cancelled');
  }, 120_000);
});
