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
  agent = await connectAgent({ url: serve.wsUrl, token: AGENT_TOKEN, id: 'sh-1', capabilities: ['shell'], handler: async (task) => ({ did: task.type }) });
}, 30_000);
afterAll(async () => {
  await agent?.close();
  await serve.dispose();
});

function bash(script: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-e', '-c', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
    const events = out.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as { seq: number; type: string });
    // The stream ended by itself with the ticket's completion, every seq once and in order.
    expect(events.at(-1)?.type).toBe('ticket.completed');
    expect(events.map((e) => e.seq)).toEqual([...new Set(events.map((e) => e.seq))].sort((a, b) => a - b));
    expect(out).toContain('"id":"greet-1-write","status":"succeeded"');
    expect(out).toContain('"result":{"did":"write"}');
  }, 60_000);

  it('lists every route of the OpenAPI document, and every error code with its status', async () => {
    const openapi = (await call(serve.url, 'GET', '/v1/openapi.json', { token: null })).body as { paths: Record<string, Record<string, unknown>> };
    for (const [path, methods] of Object.entries(openapi.paths)) {
      for (const method of Object.keys(methods)) expect(doc, `${method} ${path}`).toContain(`${method.toUpperCase()} ${path}`);
    }
    for (const [code, status] of Object.entries(HTTP_STATUS_OF_CODE)) expect(doc).toContain(`| \`${code}\` | ${status} |`);
  });
});
