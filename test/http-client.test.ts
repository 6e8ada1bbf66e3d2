import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NonRetryableError } from '../src/core/errors.js';
import { ApiError, createClient, type TaskView, type TicketView, type TroupeClient } from '../src/edge/client/index.js';
import { readSse } from '../src/edge/client/sse-reader.js';
import { connectAgent } from '../src/edge/sdk/connect-agent.js';
import { AGENT_TOKEN, CLIENT_TOKEN, OBSERVER_TOKEN, startServe, type ServeProcess } from './support/serve-process.js';

/**
 * The TypeScript client (`troupe/client`) against a real `troupe serve` process with an agent
 * connected over the WebSocket: tickets, tasks and runs submitted, waited for, cancelled (the
 * cancel reaching the agent), events resumed, and resubmission after a restart.
 */
let serve: ServeProcess;
let client: TroupeClient;
let agent: Awaited<ReturnType<typeof connectAgent>>;
const aborted: string[] = [];

async function connect(url: string) {
  return connectAgent({
    url,
    token: AGENT_TOKEN,
    id: 'worker-1',
    capabilities: ['code', 'ci'],
    capacity: 4,
    handler: async (task, ctx) => {
      if (task.type === 'explode') throw new NonRetryableError('this cannot work');
      if (task.type === 'block') {
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        aborted.push(task.id);
        return null;
      }
      ctx.artifact('note', `made by ${task.type}`);
      return { did: task.type, input: task.input };
    },
  });
}

beforeAll(async () => {
  serve = await startServe();
  client = createClient({ url: serve.url, token: CLIENT_TOKEN });
  agent = await connect(serve.wsUrl);
}, 30_000);
afterAll(async () => {
  await agent?.close();
  await serve.dispose();
});

describe('the client against a server', () => {
  it('creates a ticket and waits for it to complete; its tasks show attempts, results and artifacts', async () => {
    const ticket = await client.tickets.create({
      id: 'tk-1',
      title: 'Two phases',
      phases: [
        { name: 'design', tasks: [{ id: 'tk-1-spec', type: 'spec', requires: ['code'] }] },
        { name: 'build', tasks: [{ id: 'tk-1-code', type: 'code', requires: ['code'], input: { n: 2 } }] },
      ],
    });
    expect(ticket).toMatchObject({ id: 'tk-1', status: 'active', currentPhase: 'design' });
    const done = (await client.wait('tk-1')) as TicketView;
    expect(done.status).toBe('completed');
    const tasks = await client.tasks.list({ ticket: 'tk-1', order: 'oldest' });
    // Both were created by the one call, in the same millisecond or not: oldest first, then by id.
    const byAge = [...tasks.items].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    expect(tasks.items.map((t) => t.id)).toEqual(byAge.map((t) => t.id));
    expect(tasks.items.map((t) => [t.id, t.status]).sort()).toEqual([
      ['tk-1-code', 'succeeded'],
      ['tk-1-spec', 'succeeded'],
    ]);
    const code = await client.tasks.get('tk-1-code');
    expect(code).toMatchObject({
      result: { did: 'code', input: { n: 2 } },
      artifacts: { note: 'made by code' },
      attempts: [{ attempt: 1, agentId: 'worker-1' }],
    });
    expect(code.settledAt).toBeGreaterThanOrEqual(code.startedAt as number);
  });

  it('answers a resubmitted ticket as it is, and refuses another body under its id', async () => {
    const again = await client.tickets.create({
      id: 'tk-1',
      title: 'Two phases',
      phases: [
        { name: 'design', tasks: [{ id: 'tk-1-spec', type: 'spec', requires: ['code'] }] },
        { name: 'build', tasks: [{ id: 'tk-1-code', type: 'code', requires: ['code'], input: { n: 2 } }] },
      ],
    });
    expect(again.status).toBe('completed');
    const refused = await client.tickets.create({ id: 'tk-1', title: 'Another' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ code: 'E_DUPLICATE_ID', status: 409, path: ['body', 'id'] });
  });

  it('waits for a task that fails for good, with its error in the attempts', async () => {
    await client.tasks.submit({ id: 'boom', type: 'explode', requires: ['code'] });
    const done = (await client.wait('boom')) as TaskView;
    expect(done.status).toBe('dead_lettered');
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]?.error).toMatchObject({ category: 'permanent', message: 'this cannot work' });
    const failed = await client.tasks.list({ status: 'dead_lettered' });
    expect(failed.items.map((t) => t.id)).toContain('boom');
  });

  it('cancels a running task, and the cancel reaches the agent', async () => {
    await client.tasks.submit({ id: 'long', type: 'block', requires: ['code'] });
    const stream = await client.events.open({ task: 'long', after: 0 });
    for await (const event of stream) if (event.type === 'task.started') break;
    const cancelled = await client.tasks.cancel('long', 'changed our mind');
    expect(cancelled).toMatchObject({ status: 'cancelled', reason: 'changed our mind' });
    await expect.poll(() => aborted).toContain('long');
    const again = await client.tasks.cancel('long').catch((e: unknown) => e);
    expect(again).toMatchObject({ code: 'E_INVALID_STATE', status: 409 });
  });

  it('applies a built-in pattern and waits for the run; a bad YAML pattern names the problem', async () => {
    const run = await client.runs.apply({
      pattern: 'fork_join',
      inputs: { branches: ['lint', 'test'] },
      runId: 'fj-1',
    });
    expect(run).toMatchObject({ id: 'fj-1', pattern: 'fork_join' });
    const done = await client.wait('fj-1');
    expect(done.status).toBe('completed');
    expect((await client.runs.list({ pattern: 'fork_join' })).items.map((r) => r.id)).toContain('fj-1');
    const same = await client.runs.apply({
      pattern: 'fork_join',
      inputs: { branches: ['lint', 'test'] },
      runId: 'fj-1',
    });
    expect(same.status).toBe('completed');
    const other = await client.runs
      .apply({ pattern: 'fork_join', inputs: { branches: ['lint', 'test', 'types'] }, runId: 'fj-1' })
      .catch((e: unknown) => e);
    expect(other).toMatchObject({ code: 'E_DUPLICATE_ID', status: 409 });
    const bad = await client.runs
      .apply({
        yaml: 'name: broken\nsteps:\n  - id: a\n    nonsense: 1\n  - id: b\n    task: { type: x, retires: 2 }\n',
      })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'E_INVALID_INPUT', status: 400, path: ['body', 'yaml'] });
    // Every problem, as `troupe validate` reports them, each at its line and column; the message names the first.
    expect((bad as ApiError).message).toMatch(/^yaml:3:5 error E_STEP_KIND_MISSING steps\[0\]: .*\(and 1 more\)$/);
    expect((bad as ApiError).problems).toEqual([
      expect.objectContaining({ code: 'E_STEP_KIND_MISSING', severity: 'error', line: 3, column: 5, path: 'steps[0]' }),
      expect.objectContaining({
        code: 'E_UNKNOWN_KEY',
        severity: 'error',
        line: 6,
        column: 22,
        path: 'steps[1].task.retires',
        suggestion: 'requires',
      }),
    ]);
  });

  it('applies a pattern sent as YAML with its inputs, and runs it to the end', async () => {
    const yaml = [
      'name: greet_twice',
      'inputs:',
      '  who: { type: string }',
      'steps:',
      '  - id: first',
      '    task: { type: greet, requires: [code], input: { to: "${who}" } }',
      '  - id: second',
      '    task: { type: greet_again, requires: [code], input: { to: "${who}" } }',
      '',
    ].join('\n');
    const missing = await client.runs.apply({ yaml, runId: 'greet-0' }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'E_INVALID_INPUT', status: 400 });
    expect((missing as ApiError).problems).toContainEqual(
      expect.objectContaining({ code: 'E_INPUT_MISSING', line: 3, column: 8, path: 'inputs.who' }),
    );
    expect(await client.runs.get('greet-0').catch((e: unknown) => e)).toMatchObject({
      code: 'E_UNKNOWN_RUN',
      status: 404,
    });
    const run = await client.runs.apply({ yaml, inputs: { who: 'Ada' }, runId: 'greet-1' });
    expect(run).toMatchObject({ id: 'greet-1', pattern: 'greet_twice' });
    expect((await client.wait('greet-1')).status).toBe('completed');
    const second = await client.tasks.get('greet-1/second');
    expect(second).toMatchObject({ status: 'succeeded', result: { did: 'greet_again', input: { to: 'Ada' } } });
    // The same body again answers with the run; the server's library did not gain the pattern.
    expect(await client.runs.apply({ yaml, inputs: { who: 'Ada' }, runId: 'greet-1' })).toMatchObject({
      id: 'greet-1',
      status: 'completed',
    });
    expect(await client.runs.apply({ pattern: 'greet_twice' }).catch((e: unknown) => e)).toMatchObject({
      code: 'E_INVALID_INPUT',
      path: ['body', 'pattern'],
    });
  });

  it('lists agents; an observer token reads but cannot write', async () => {
    const agents = await client.agents.list();
    expect(agents.items).toEqual([
      expect.objectContaining({ id: 'worker-1', transport: 'websocket', capabilities: ['code', 'ci'] }),
    ]);
    const observer = createClient({ url: serve.url, token: OBSERVER_TOKEN });
    expect((await observer.tasks.get('boom')).status).toBe('dead_lettered');
    expect(await observer.tasks.submit({ type: 'nope' }).catch((e: unknown) => e)).toMatchObject({
      code: 'E_FORBIDDEN',
      status: 403,
    });
  });
});

describe('events', () => {
  it('pages the stored history by seq, and a stream resumes after Last-Event-ID with each seq once', async () => {
    const first = await client.events.list({ ticket: 'tk-1', limit: 3 });
    expect(first.events.map((e) => e.seq)).toEqual([...first.events.map((e) => e.seq)].sort((a, b) => a - b));
    const rest = await client.events.list({ ticket: 'tk-1', after: first.lastSeq, limit: 1000 });
    const all = [...first.events, ...rest.events];
    expect(all.map((e) => e.type)).toContain('ticket.completed');
    expect(new Set(all.map((e) => e.seq)).size).toBe(all.length);

    const resumeAfter = all[4]?.seq as number;
    const controller = new AbortController();
    const response = await fetch(`${serve.url}/v1/events?ticket=tk-1`, {
      headers: {
        Authorization: `Bearer ${CLIENT_TOKEN}`,
        Accept: 'text/event-stream',
        'Last-Event-ID': String(resumeAfter),
      },
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const ids: number[] = [];
    for await (const message of readSse(response.body as ReadableStream<Uint8Array>)) {
      ids.push(Number(message.id));
      expect(JSON.parse(message.data).seq).toBe(Number(message.id));
      if (ids.length === all.length - 5) break;
    }
    controller.abort();
    expect(ids).toEqual(all.slice(5).map((e) => e.seq));
  });
});

describe('after a restart', () => {
  it('keeps everything, and a resubmission whose answer was lost finds the task it made', async () => {
    const body = { id: 'lost-answer', type: 'spec', requires: ['code'] };
    expect((await client.tasks.submit(body)).created).toEqual(['lost-answer']);
    await client.wait('lost-answer');
    await agent.close();
    expect(await serve.stop()).toBe(0);
    serve = await startServe([], serve.dir);
    client = createClient({ url: serve.url, token: CLIENT_TOKEN });
    agent = await connect(serve.wsUrl);
    const again = await client.tasks.submit(body);
    expect(again.created).toEqual([]);
    expect(again.tasks[0]).toMatchObject({ id: 'lost-answer', status: 'succeeded' });
    expect((await client.tickets.get('tk-1')).status).toBe('completed');
  }, 30_000);
});
