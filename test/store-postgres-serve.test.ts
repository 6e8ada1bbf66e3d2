import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock } from '../src/index.js';
import { connectAgent } from '../src/edge/sdk/index.js';
import { PostgresStore } from '../src/engine/store/postgres-store.js';
import { usePostgresServer } from './support/postgres-server.js';

/** A runtime on PostgreSQL, in process and as `troupe serve --db postgres://...`. */
const server = usePostgresServer();
const silent = pino({ level: 'silent' });
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('a runtime on PostgreSQL', () => {
  it('runs a ticket, stops, and a new runtime on the same database finds it whole', async () => {
    const url = await server().createDatabase();
    const clock = new SimulatedClock(1_000_000);
    const first = createRuntime({ store: new PostgresStore({ url }), clock, logger: silent });
    await first.start();
    await first.agents.register({
      id: 'coder',
      capabilities: ['ts'],
      capacity: 2,
      handler: async (task) => ({ did: task.type }),
    });
    const ticket = await first.tickets.create({
      id: 'TK',
      title: 'on postgres',
      phases: [
        { name: 'design', tasks: [{ id: 'spec', type: 'spec', requires: ['ts'] }] },
        {
          name: 'build',
          tasks: [
            { id: 'a', type: 'code', requires: ['ts'] },
            { id: 'b', type: 'code', requires: ['ts'], dependsOn: ['a'] },
          ],
        },
      ],
    });
    expect((await first.tickets.wait(ticket.id)).status).toBe('completed');
    await first.tasks.create({ id: 'later', type: 'deploy', requires: ['ops'] });
    await first.stop();

    const second = createRuntime({ store: new PostgresStore({ url }), clock, logger: silent });
    const report = await second.start();
    try {
      expect(report.actors).toBeGreaterThanOrEqual(1);
      expect((await second.tickets.get('TK'))?.status).toBe('completed');
      expect((await second.events.read({ ticketId: 'TK', types: ['task.completed'] })).length).toBe(3);
      await second.agents.register({ id: 'ops', capabilities: ['ops'], capacity: 1, handler: async () => 'deployed' });
      expect(await second.tasks.wait('later')).toMatchObject({ status: 'succeeded', result: 'deployed' });
    } finally {
      await second.stop();
    }
  });

  it('troupe serve --db postgres://... serves stored work to a remote agent', async () => {
    const url = await server().createDatabase();
    const seed = createRuntime({ store: new PostgresStore({ url }), logger: silent });
    await seed.start();
    await seed.tasks.create({ id: 'remote', type: 'greet', requires: ['shell'], input: { name: 'Ada' } });
    await seed.stop();

    const token = 'postgres-serve-agent-token';
    const { child, match } = await troupe(
      ['serve', '--db', url, '--port', '0', '--agent-token', token],
      /listening on (ws:\/\/\S+) .*store: (\S+)\)/,
    );
    expect(match[2]).toMatch(/^postgres:postgres:\/\//);
    const agent = await connectAgent({
      url: match[1] as string,
      token,
      id: 'remote-agent',
      capabilities: ['shell'],
      handler: (task) => ({ hello: (task.input as { name: string }).name }),
      reconnect: false,
    });
    const check = new PostgresStore({ url });
    await check.open();
    try {
      for (let i = 0; i < 200; i++) {
        const stored = await check.getActor('remote');
        if (stored?.settled) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const stored = await check.getActor('remote');
      expect(stored?.settled).toBe(true);
      expect((await check.readEvents({ taskId: 'remote', types: ['task.completed'] })).length).toBe(1);
    } finally {
      await check.close();
      await agent.close();
    }
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

/** Runs the CLI in a child process; resolves with it once an output line matches. */
function troupe(args: string[], waitFor: RegExp): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/edge/cli/main.ts', ...args], {
    cwd: join(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        const match = waitFor.exec(line);
        if (match) resolve({ child, match });
      });
    }
    child.once('exit', (code) => reject(new Error(`exited with ${code} before ${waitFor}: ${lines.join('\n')}`)));
  });
}
