import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { connectAgent } from '../src/edge/sdk/index.js';
import { AGENT_TOKEN, call, startServe, type ServeProcess } from './support/serve-process.js';

/**
 * `troupe serve --otlp <url>` sends the engine's spans to an OTLP/HTTP collector: here a real
 * HTTP server on loopback that keeps what it is sent.
 */
let serve: ServeProcess | undefined;
const received: Array<{ path: string; type: string; body: string }> = [];
const collector = createServer((req: IncomingMessage, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    received.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', body });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
  });
});
afterAll(async () => {
  await serve?.dispose();
  collector.close();
});

it('exports a span per task and attempt, under the trace the client submitted with', async () => {
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
  serve = await startServe(['--otlp', url]);
  const agent = await connectAgent({
    url: serve.wsUrl,
    token: AGENT_TOKEN,
    id: 'a',
    capabilities: ['w'],
    handler: () => 'ok',
  });
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const made = await call(serve.url, 'POST', '/v1/tasks', {
    body: { id: 'traced', type: 'summarise', requires: ['w'], traceparent: `00-${traceId}-b7ad6b7169203331-01` },
  });
  expect(made.status).toBe(201);
  for (let i = 0; i < 200 && (await call(serve.url, 'GET', '/v1/tasks/traced')).body.status !== 'succeeded'; i++)
    await new Promise((r) => setTimeout(r, 50));
  await agent.close();
  // Spans leave in batches; stopping the server flushes the last one.
  expect(await serve.stop()).toBe(0);
  expect(serve.lines.join('\n')).toContain(`sending traces to ${url}`);
  const sent = received.filter((r) => r.path === '/v1/traces');
  expect(sent.length).toBeGreaterThan(0);
  const body = sent.map((r) => r.body).join('\n');
  expect(sent[0]!.type).toContain('application/json');
  expect(body).toContain('"task summarise"');
  expect(body).toContain('"attempt 1"');
  expect(body).toContain(traceId);
  expect(body).toContain('"troupe"');
});
