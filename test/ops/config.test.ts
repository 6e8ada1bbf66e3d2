import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startServer } from '../../src/edge/server/server.js';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changedPaths, liveServerOptionsOf } from '../../src/edge/config/config-apply.js';
import { envNameOf } from '../../src/edge/config/config-env.js';
import { formatConfigProblem, loadConfig } from '../../src/edge/config/config-load.js';
import { ConfigReloader } from '../../src/edge/config/config-reload.js';
import { configSchema } from '../../src/edge/config/config-schema.js';
import { serveConfig } from '../../src/edge/config/serve-config.js';
import { call, CLIENT_TOKEN, runCli, startServe } from '../support/serve-process.js';
import { connectAgent } from '../../src/edge/sdk/index.js';
import { createRuntime } from '../../src/index.js';
import { SqliteStore } from '../../src/engine/store/sqlite-store.js';

const AGENT = 'config-test-agent-token-0001';
const AGENT_2 = 'config-test-agent-token-0002';
const OBSERVER = 'config-test-observer-token-01';

const GOOD = `# troupe.yaml
server:
  port: 0
store:
  memory: true
tokens:
  - { name: ci-agent, token: ${AGENT}, role: agent }
  - { name: dashboard, token: ${OBSERVER}, role: observer }
retention:
  finished: 7d
  archive: ./archive
log:
  level: warn
`;

describe('configuration: file, environment, flags', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-config-'));
    file = join(dir, 'troupe.yaml');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file with defaults filled in and durations in ms', async () => {
    await writeFile(file, GOOD);
    const result = loadConfig({ file, env: {} });
    if (!result.ok) throw new Error(result.problems.map(formatConfigProblem).join('\n'));
    expect(result.config.retention).toMatchObject({
      enabled: true,
      finished: 7 * 86_400_000,
      deadLettered: 30 * 86_400_000,
      archive: './archive',
    });
    expect(result.config.tokens.map((t) => t.name)).toEqual(['ci-agent', 'dashboard']);
    expect(result.config.server).toEqual({ host: '127.0.0.1', port: 0, allowTakeover: false });
  });

  it('reports every problem with file:line:column and its path, as pattern errors are', async () => {
    await writeFile(
      file,
      `server:
  port: 70000
retention:
  finished: 7 days
  archve: ./x
tokens:
  - { name: a, token: short, role: agent }
  - { name: a, token: ${AGENT}, role: admin }
`,
    );
    const result = loadConfig({ file, env: {} });
    expect(result.ok).toBe(false);
    const lines = result.ok ? [] : result.problems.map(formatConfigProblem);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2:9 server\\.port: `)),
        `${file}:4:13 retention.finished: a duration is a number with a unit: 500ms, 45s, 10m, 12h, 7d`,
        `${file}:5:3 retention.archve: not an option this Troupe knows`,
        `${file}:7:23 tokens[0].token: tokens must be at least 16 characters`,
        expect.stringMatching(/:8:59 tokens\[1\]\.role: Invalid option/),
      ]),
    );
  });

  it('reports YAML syntax errors with their position', async () => {
    await writeFile(file, 'server:\n  port: [1, 2\n');
    const result = loadConfig({ file, env: {} });
    expect(result.ok ? '' : formatConfigProblem(result.problems[0] as never)).toMatch(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+ .*not valid YAML`),
    );
  });

  it('takes every option from the environment too, over the file, and flags over both', async () => {
    await writeFile(file, GOOD);
    const env = {
      TROUPE_RETENTION_FINISHED: '1d',
      TROUPE_RETENTION_DEAD_LETTERED_MAX_COUNT: '500',
      TROUPE_LOG_LEVEL: 'debug',
      TROUPE_LIMITS_RATE_LIMIT: 'false',
      TROUPE_LIMITS_MAX_VIOLATIONS_COUNT: '5',
      TROUPE_SERVER_PORT: '7500',
      TROUPE_TOKENS: JSON.stringify([{ name: 'from-env', token: AGENT_2, role: 'client' }]),
    };
    const result = loadConfig({ file, env, overrides: [{ name: '--port', path: ['server', 'port'], value: 7600 }] });
    if (!result.ok) throw new Error(result.problems.map(formatConfigProblem).join('\n'));
    expect(result.config.retention.finished).toBe(86_400_000);
    expect(result.config.retention.deadLetteredMaxCount).toBe(500);
    expect(result.config.log.level).toBe('debug');
    expect(result.config.limits.rateLimit).toBe(false);
    expect(result.config.limits.maxViolations).toEqual({ count: 5, window: 60_000 });
    expect(result.config.server.port).toBe(7600);
    expect(result.config.tokens.map((t) => t.name)).toEqual(['from-env']);

    const bad = loadConfig({ file, env: { TROUPE_RETENTION_DEAD_LETTERED: 'soon' } });
    expect(bad.ok ? [] : bad.problems.map(formatConfigProblem)).toEqual([
      'TROUPE_RETENTION_DEAD_LETTERED retention.deadLettered: a duration is a number with a unit: 500ms, 45s, 10m, 12h, 7d',
    ]);
  });

  it('takes --log-level over TROUPE_LOG_LEVEL and the file, checked like them', async () => {
    await writeFile(file, GOOD);
    const { load } = serveConfig({ config: file, logLevel: 'debug' }, { TROUPE_LOG_LEVEL: 'error' });
    const result = load();
    expect(result.ok && result.config.log.level).toBe('debug');
    const fromEnv = serveConfig({ config: file }, { TROUPE_LOG_LEVEL: 'error' }).load();
    expect(fromEnv.ok && fromEnv.config.log.level).toBe('error');
    const bad = serveConfig({ config: file, logLevel: 'loud' }, {}).load();
    expect(bad.ok ? [] : bad.problems.map(formatConfigProblem)).toEqual([
      expect.stringMatching(/^--log-level log\.level: Invalid option/),
    ]);
  });

  it('names a variable for every option of the schema', () => {
    const names: string[] = [];
    const walk = (value: unknown, path: string[]) => {
      if (path.length > 0) names.push(envNameOf(path));
      if (typeof value === 'object' && value !== null && !Array.isArray(value))
        for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    };
    walk(configSchema.parse({}), []);
    expect(names).toEqual(
      expect.arrayContaining([
        'TROUPE_SERVER_PORT',
        'TROUPE_STORE_PATH',
        'TROUPE_TOKENS',
        'TROUPE_RETENTION_DEAD_LETTERED',
        'TROUPE_LIMITS_RATE_LIMIT_BURST',
        'TROUPE_LOG_LEVEL',
      ]),
    );
    for (const name of names) {
      const result = loadConfig({ env: { [name]: '{"surely": "wrong"}' } });
      expect(result.ok ? name : (result.problems[0] as { where: string }).where).toBe(name);
    }
  });
});

describe('reload (SIGHUP)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-reload-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('applies tokens, limits, retention and log level live, refuses an invalid file whole, and audits both', async () => {
    const file = join(dir, 'troupe.yaml');
    await writeFile(file, GOOD);
    const load = () => loadConfig({ file, env: {} });
    const first = load();
    if (!first.ok) throw new Error('the good file failed');
    const logger = pino({ level: 'warn' });
    const runtime = createRuntime({ store: new SqliteStore({ path: join(dir, 'troupe.db') }), logger });
    const server = await startServer(runtime, { ...liveServerOptionsOf(first.config), port: 0, logger });
    try {
      const reloader = new ConfigReloader(load, first.config, { runtime, server, loggers: [logger] });
      const old = await connectAgent({
        url: server.url,
        token: AGENT,
        id: 'old',
        handler: () => null,
        reconnect: false,
      });
      const dropped = new Promise((resolve) => old.once('disconnected', resolve));

      expect(runtime.retention.policy.deadLetteredMaxCount).toBeUndefined();
      await writeFile(
        file,
        GOOD.replace(AGENT, AGENT_2)
          .replace('finished: 7d', 'finished: 2d\n  deadLetteredMaxCount: 3')
          .replace('level: warn', 'level: error')
          .replace('memory: true', 'memory: false') + 'limits:\n  maxConnections: 50\n',
      );
      const outcome = await reloader.reload();
      expect(outcome).toEqual({
        ok: true,
        changed: [
          'store.memory',
          'tokens',
          'limits.maxConnections',
          'retention.finished',
          'retention.deadLetteredMaxCount',
          'log.level',
        ],
        applied: [
          'tokens',
          'limits.maxConnections',
          'retention.finished',
          'retention.deadLetteredMaxCount',
          'log.level',
        ],
        restartNeeded: ['store.memory'],
      });
      expect(runtime.retention.policy.finishedMs).toBe(2 * 86_400_000);
      expect(runtime.retention.policy.deadLetteredMaxCount).toBe(3);
      expect(logger.level).toBe('error');
      expect(server.options.maxConnections).toBe(50);
      // The old token is gone: its connection is closed, a new one refused; the new token works.
      expect(await dropped).toMatchObject({ code: 1008 });
      await expect(
        connectAgent({ url: server.url, token: AGENT, id: 'old-again', handler: () => null, reconnect: false }),
      ).rejects.toThrow();
      const fresh = await connectAgent({
        url: server.url,
        token: AGENT_2,
        id: 'new',
        handler: () => null,
        reconnect: false,
      });
      await fresh.close();

      await writeFile(file, GOOD.replace('finished: 7d', 'finished: forever'));
      const refused = await reloader.reload();
      expect(refused.ok).toBe(false);
      expect(runtime.retention.policy.finishedMs).toBe(2 * 86_400_000);
      expect(reloader.config.tokens[0]?.token).toBe(AGENT_2);

      const audit = await runtime.audit.read({ actor: 'sighup', order: 'oldest' });
      expect(audit.map((e) => e.action)).toEqual(['config.reloaded', 'config.refused']);
      expect(audit[0]?.details).toMatchObject({ restartNeeded: ['store.memory'] });
      expect(JSON.stringify(audit)).not.toContain(AGENT_2);
      expect(changedPaths(first.config, first.config)).toEqual([]);
    } finally {
      await server.close();
      await runtime.stop();
    }
  });

  it('troupe serve --config reloads on SIGHUP and logs it; an invalid file is refused and serving goes on', async () => {
    const file = join(dir, 'troupe.yaml');
    await writeFile(file, GOOD.replace('level: warn', 'level: info'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/edge/cli/main.ts', 'serve', '--config', file], {
      cwd: join(import.meta.dirname, '..', '..'),
      env: { ...process.env, TROUPE_RETENTION_INTERVAL: '10m' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const waitFor = watch(child, lines);
    try {
      const url = (await waitFor(/listening on (ws:\/\/\S+)/))[1] as string;
      await writeFile(file, GOOD.replace('level: warn', 'level: info').replace('finished: 7d', 'finished: 1d'));
      child.kill('SIGHUP');
      expect((await waitFor(/configuration reloaded \(changed: ([^)]*)\)/))[1]).toBe('retention.finished');
      // The log line comes on stderr, the line above on stdout: two pipes, in either order.
      await waitFor(/"msg":"configuration reloaded"/);
      await writeFile(file, 'retention:\n  finished: 1 day\n');
      child.kill('SIGHUP');
      expect((await waitFor(/SIGHUP refused: (.*)/))[1]).toBe(
        `${file}:2:13 retention.finished: a duration is a number with a unit: 500ms, 45s, 10m, 12h, 7d`,
      );
      const agent = await connectAgent({
        url,
        token: AGENT,
        id: 'still-served',
        handler: () => null,
        reconnect: false,
      });
      await agent.close();
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }, 60_000);

  it('troupe serve --log-level debug writes the debug decision lines; --log-level loud does not start', async () => {
    const serve = await startServe(['--log-level', 'debug'], dir);
    try {
      expect(
        (await call(serve.url, 'POST', '/v1/tasks', { token: CLIENT_TOKEN, body: { id: 'logged', type: 'hello' } }))
          .status,
      ).toBe(201);
      // task.created is a debug decision (docs/logging.md): absent at the default info level.
      await expect
        .poll(() =>
          serve.lines.some(
            (l) => l.includes('"level":20') && l.includes('"event":"task.created"') && l.includes('"taskId":"logged"'),
          ),
        )
        .toBe(true);
    } finally {
      await serve.stop();
    }
    const refused = runCli(['serve', '--memory', '--port', '0', '--log-level', 'loud'], { waitFor: /not started/ });
    await refused.matched;
    expect(await refused.exited).toBe(1);
    expect(refused.lines.some((l) => /^--log-level log\.level: Invalid option/.test(l))).toBe(true);
  }, 60_000);

  it('troupe serve refuses to start on an invalid configuration, naming every problem', async () => {
    const file = join(dir, 'troupe.yaml');
    await writeFile(file, 'server:\n  prot: 1\nlog:\n  level: loud\n');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/edge/cli/main.ts', 'serve', '--config', file], {
      cwd: join(import.meta.dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const waitFor = watch(child, lines);
    await waitFor(/not started/);
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(lines).toContain(`${file}:2:3 server.prot: not an option this Troupe knows`);
    expect(lines.some((l) => l.startsWith(`${file}:4:10 log.level:`))).toBe(true);
  }, 60_000);

  it('troupe serve refuses a short token from a flag or the environment with the rule, and --help states it', async () => {
    const root = join(import.meta.dirname, '..', '..');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/edge/cli/main.ts', 'serve', '--memory', '--port', '0', '--agent-token', 'short-token'],
      {
        cwd: root,
        env: { ...process.env, TROUPE_OBSERVER_TOKENS: `${OBSERVER},tiny` },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const lines: string[] = [];
    const waitFor = watch(child, lines);
    await waitFor(/not started/);
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(1);
    expect(lines).toContain(
      '--agent-token tokens (1st --agent-token token): tokens must be at least 16 characters (this one has 11)',
    );
    expect(lines).toContain(
      'TROUPE_OBSERVER_TOKENS tokens (2nd TROUPE_OBSERVER_TOKENS token): tokens must be at least 16 characters (this one has 4)',
    );
    expect(lines.join('\n')).not.toMatch(/E_INVALID_INPUT|at parseOrThrow/);
    const help = spawn(process.execPath, ['--import', 'tsx', 'src/edge/cli/main.ts', 'serve', '--help'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const helpLines: string[] = [];
    const helpDone = new Promise((resolve) => help.once('exit', resolve));
    watch(help, helpLines);
    await helpDone;
    expect(helpLines.join('\n')).toMatch(/Tokens: tokens must be at least 16 characters/);
  }, 60_000);
});

/** Resolves with the first line (stdout or stderr) from now on that matches. */
function watch(child: ChildProcess, lines: string[]): (pattern: RegExp) => Promise<RegExpMatchArray> {
  const waiting: Array<{ pattern: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue;
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      for (const w of [...waiting]) {
        const m = w.pattern.exec(line);
        if (m) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
  }
  // A line that already came counts too: stdout and stderr are separate pipes, read in any order.
  return (pattern) =>
    new Promise((resolve, reject) => {
      for (const line of lines) {
        const m = pattern.exec(line);
        if (m) return resolve(m);
      }
      waiting.push({ pattern, resolve });
      if (child.exitCode !== null || child.signalCode !== null)
        reject(new Error(`exited with ${child.exitCode ?? child.signalCode} before ${pattern}: ${lines.join('\n')}`));
      child.once('exit', (code) => reject(new Error(`exited with ${code} before ${pattern}: ${lines.join('\n')}`)));
      // Say what was seen instead of letting the test time out without a word.
      setTimeout(
        () => reject(new Error(`no line matched ${pattern} within 40 s; lines so far:\n${lines.join('\n')}`)),
        40_000,
      ).unref();
    });
}
