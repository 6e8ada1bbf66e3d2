import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_STATUS_OF_CODE } from '../src/edge/http/shared/http-errors.js';
import { connectAgent } from '../src/edge/sdk/connect-agent.js';
import { AGENT_TOKEN, call, CLIENT_TOKEN, ROOT, startServe, type ServeProcess } from './support/serve-process.js';

/** docs/api.md is enough to use the API: its curl quick start runs as written against a real server. */
const doc = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');

let serve: ServeProcess;
let agent: Awaited<ReturnType<typeof connectAgent>>;
beforeAll(async () => {
  serve = await startServe();
  agent = await connectAgent({
    url: serve.wsUrl,
    token: AGENT_TOKEN,
    id: 'sh-1',
    capabilities: ['shell'],
    handler: async (task) => ({ did: task.type }),
  });
}, 30_000);
afterAll(async () => {
  await agent?.close();
  await serve.dispose();
});

function bash(script: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-e', '-c', script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => resolve({ code, out }));
  });
}

describe('docs/api.md', () => {
  it('its curl quick start submits a ticket, follows it to the end and reads it', async () => {
    const section = doc.slice(doc.indexOf('## Quick start with curl'));
    const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1] as string;
    expect(block).toContain('curl');
    const { code, out } = await bash(block, { TROUPE_URL: serve.url, TROUPE_TOKEN: CLIENT_TOKEN });
    expect(code, out).toBe(0);
    const events = out
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as { seq: number; type: string });
    // The stream ended by itself with the ticket's completion, every seq once and in order.
    expect(events.at(-1)?.type).toBe('ticket.completed');
    expect(events.map((e) => e.seq)).toEqual([...new Set(events.map((e) => e.seq))].sort((a, b) => a - b));
    expect(out).toContain('"id":"greet-1-write","status":"succeeded"');
    expect(out).toContain('"result":{"did":"write"}');
  }, 60_000);

  it("its actor examples answer for the quick start's ticket: the actors, a phase with its statechart, the role", async () => {
    const section = doc.slice(doc.indexOf('### Actors and statecharts'));
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] as string;
    const { code, out } = await bash(block, { TROUPE_URL: serve.url, TROUPE_TOKEN: CLIENT_TOKEN });
    expect(code, out).toBe(0);
    // curl prints each answer without a newline: three JSON objects back to back.
    const [actors, phase, who] = out
      .trim()
      .split(/(?<=\})(?=\{)/)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const items = (actors as { items: { kind: string; id: string; view: Record<string, unknown> | null }[] }).items;
    expect(items.map((a) => `${a.kind} ${a.id}`).sort()).toEqual([
      'phase greet-1/build',
      'phase greet-1/plan',
      'task greet-1-outline',
      'task greet-1-write',
      'ticket greet-1',
    ]);
    expect(items.find((a) => a.id === 'greet-1-write')?.view).toEqual({ type: 'write', phase: 'build' });
    expect(phase).toMatchObject({ kind: 'phase', id: 'greet-1/plan', state: 'passed', active: ['phase.passed'] });
    const chart = phase?.['chart'] as { nodes: { id: string }[]; edges: unknown[] };
    expect(chart.nodes.map((n) => n.id)).toContain('phase.passed');
    expect(chart.edges.length).toBeGreaterThan(0);
    expect(who).toEqual({ role: 'client', name: null });
  }, 30_000);

  it('lists every route of the OpenAPI document, and every error code with its status', async () => {
    const openapi = (await call(serve.url, 'GET', '/v1/openapi.json', { token: null })).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const [path, methods] of Object.entries(openapi.paths)) {
      for (const method of Object.keys(methods))
        expect(doc, `${method} ${path}`).toContain(`${method.toUpperCase()} ${path}`);
    }
    for (const [code, status] of Object.entries(HTTP_STATUS_OF_CODE))
      expect(doc).toContain(`| \`${code}\` | ${status} |`);
  });
});
