import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/core/errors.js';
import { AGENT_MESSAGES } from '../src/edge/server/protocol/agent-messages.js';
import { CLOSE_CODES, PROTOCOL_ERROR_CODES } from '../src/edge/server/protocol/codes.js';
import { protocolJsonSchema } from '../src/edge/server/protocol/protocol-json-schema.js';
import { OBSERVER_MESSAGES } from '../src/edge/server/protocol/observer-messages.js';
import { SERVER_MESSAGES } from '../src/edge/server/protocol/server-messages.js';
import { RawClient, startTestServer, type TestServer } from './agent-conformance-helpers.js';
import { MAX_JSON_DEPTH } from '../src/core/json-value.js';

/** The documents are part of the protocol: they must say what the code does. */
const root = join(import.meta.dirname, '..');
const protocolDoc = readFileSync(join(root, 'docs/protocol.md'), 'utf8');
const errorsDoc = readFileSync(join(root, 'docs/errors.md'), 'utf8');

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('docs/protocol.md and docs/errors.md', () => {
  it('document every message type', () => {
    for (const type of new Set([
      ...Object.keys(AGENT_MESSAGES),
      ...Object.keys(OBSERVER_MESSAGES),
      ...Object.keys(SERVER_MESSAGES),
    ])) {
      expect(protocolDoc, type).toMatch(new RegExp(`^### .*\\b${type}\\b`, 'm'));
    }
  });

  it('list every protocol error code with its meaning, and every close code', () => {
    for (const [code, meaning] of Object.entries(PROTOCOL_ERROR_CODES)) {
      expect(protocolDoc).toContain(`| \`${code}\` | ${meaning} |`);
      expect(errorsDoc).toContain(`| \`${code}\` | ${meaning} |`);
    }
    for (const [name, code] of Object.entries(CLOSE_CODES)) expect(protocolDoc).toContain(`| ${code} | \`${name}\` |`);
  });

  it('documents what a validator is given and what its result must be', () => {
    const section = protocolDoc.slice(protocolDoc.indexOf('## Validators'), protocolDoc.indexOf('## Leases'));
    expect(section.length).toBeGreaterThan(0);
    const assign = SERVER_MESSAGES.assign.shape.context.shape.validation.unwrap();
    for (const field of Object.keys(assign.shape)) expect(section, field).toContain(`"${field}"`);
    expect(section).toContain('"result":{"approved":true,"feedback":');
    expect(section).toContain('{"approved": false, "feedback": "..."}');
  });

  it('files a frame that is an array, a string, a number or null under the code the server answers it with', async () => {
    t = await startTestServer();
    const { client } = await RawClient.agent(t.url, { agentId: 'frames-not-objects' });
    const table = new Map(
      [...protocolDoc.matchAll(/^\| `(E_[A-Z_]+)` \| (.*) \|$/gm)].map((m) => [m[1] as string, m[2] as string]),
    );
    for (const [frame, what] of [
      ['[1,2]', 'an array'],
      ['"hello"', 'a string'],
      ['42', 'a number'],
      ['null', '`null`'],
    ] as const) {
      client.send(frame);
      const error = await client.nextOfType('error');
      expect(table.get(error.code as string), `${frame} got ${String(error.code)}`).toContain(what);
    }
    // An object whose type is missing is the other code, and the doc says so.
    client.send({ ref: 1 });
    expect(table.get((await client.nextOfType('error')).code as string)).toMatch(/without a string `type`/);
  });

  it('documents the nesting-depth limit on stored JSON beside the other limits', () => {
    const limits = protocolDoc.slice(protocolDoc.indexOf('## Limits'), protocolDoc.indexOf('## Error codes'));
    expect(limits).toMatch(new RegExp(`nesting depth[^\n]*${MAX_JSON_DEPTH} levels[^\n]*E_NOT_SERIALIZABLE`));
  });

  it('errors.md lists every code of the runtime', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(errorsDoc).toContain(`| \`${code}\` |`);
  });

  it('every example a client sends in protocol.md is a valid message', () => {
    const blocks = [...protocolDoc.matchAll(/```(?:json|text)\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    const examples = blocks
      .flatMap((block) => block.split('\n'))
      .map((line) => line.replace(/^> /, '').trim())
      .filter((line) => line.startsWith('{"type":'))
      .map((line) => {
        try {
          return JSON.parse(line) as { type: string; from?: unknown };
        } catch {
          return null; // a frame wrapped over several lines or shortened with "..."
        }
      })
      .filter((m): m is { type: string } => m !== null);
    const sent = examples.filter((m) => !('from' in m) && (m.type in AGENT_MESSAGES || m.type in OBSERVER_MESSAGES));
    expect(sent.length).toBeGreaterThan(10);
    for (const message of sent) {
      const schema =
        (AGENT_MESSAGES as Record<string, { safeParse(v: unknown): { success: boolean; error?: unknown } }>)[
          message.type
        ] ?? (OBSERVER_MESSAGES as Record<string, { safeParse(v: unknown): { success: boolean } }>)[message.type];
      const parsed = schema?.safeParse(message);
      expect(parsed?.success, JSON.stringify(message)).toBe(true);
    }
  });

  it('the server publishes the JSON Schema', async () => {
    t = await startTestServer();
    const response = await fetch(`${t.server.httpUrl}/v1/protocol.schema.json`);
    expect(response.status).toBe(200);
    const schema = (await response.json()) as ReturnType<typeof protocolJsonSchema>;
    expect(schema).toEqual(JSON.parse(JSON.stringify(protocolJsonSchema())));
    const hello = (schema.agentMessages as Record<string, { properties: Record<string, unknown>; required: string[] }>)
      .hello;
    expect(hello?.required).toEqual(['type', 'agentId']);
    expect(Object.keys(hello?.properties ?? {})).toEqual([
      'type',
      'ref',
      'agentId',
      'capabilities',
      'capacity',
      'token',
      'held',
      'features',
      'resumeSecret',
    ]);
  });
});

describe('the server sits behind its subpath', () => {
  it('nothing that src/index.ts imports loads ws', () => {
    const seen = new Set<string>();
    const stack = [join(root, 'src/index.ts')];
    const external = new Set<string>();
    while (stack.length > 0) {
      const file = stack.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      // Static value imports and re-exports only: `import type` and dynamic import() load nothing.
      for (const match of source.matchAll(/^(?:import|export)\s+(?!type\b)[^'"]*?from\s+'([^']+)'/gm)) {
        const spec = match[1] as string;
        if (spec.startsWith('.')) stack.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
        else external.add(spec);
      }
    }
    expect([...seen].some((f) => f.includes('/src/edge/server/'))).toBe(false);
    expect(external.has('ws')).toBe(false);
  });
});
