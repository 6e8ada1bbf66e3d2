import { describe, expect, it } from 'vitest';
import { parseTaskInput } from '../../src/engine/api/task-input-parse.js';
import { taskCreateSchema, type TaskCreateInput } from '../../src/engine/api/task-input.js';
import { parseOrThrow } from '../../src/engine/validation.js';

/** What the schema alone makes of an input: the parsed task, or the refusal's code and message. */
function bySchema(input: unknown): unknown {
  try {
    return { ok: parseOrThrow(taskCreateSchema, input, 'task') };
  } catch (error) {
    return { refused: [(error as { code: string }).code, (error as Error).message] };
  }
}

function byHand(input: unknown): unknown {
  try {
    return { ok: parseTaskInput(input as TaskCreateInput, 'task') };
  } catch (error) {
    return { refused: [(error as { code: string }).code, (error as Error).message] };
  }
}

class Limit {
  key = 'openai';
}

const base = { id: 't1', type: 'call' };
const cases: Array<[string, Record<string, unknown>]> = [
  ['no controls', {}],
  ['a limit, units defaulted', { rateLimits: [{ key: 'openai' }] }],
  [
    'limits with units',
    {
      rateLimits: [
        { key: 'a', units: 2.5 },
        { key: 'b', units: 1e12 },
      ],
    },
  ],
  ['a key', { concurrency: { key: 'tenant-${input.tenant}', max: 4 } }],
  ['both, and a bad field elsewhere', { rateLimits: [{ key: 'a' }], concurrency: { key: 'k', max: 1 }, priority: -1 }],
  ['units 0', { rateLimits: [{ key: 'a', units: 0 }] }],
  ['units negative', { rateLimits: [{ key: 'a', units: -1 }] }],
  ['units too many', { rateLimits: [{ key: 'a', units: 1e12 + 1 }] }],
  ['units NaN', { rateLimits: [{ key: 'a', units: Number.NaN }] }],
  ['units Infinity', { rateLimits: [{ key: 'a', units: Number.POSITIVE_INFINITY }] }],
  ['units a string', { rateLimits: [{ key: 'a', units: '1' }] }],
  ['an unknown field in a limit', { rateLimits: [{ key: 'a', unit: 1 }] }],
  ['an empty key', { rateLimits: [{ key: '' }] }],
  ['a key of 201 characters', { rateLimits: [{ key: 'k'.repeat(201) }] }],
  ['17 limits', { rateLimits: Array.from({ length: 17 }, (_, i) => ({ key: `k${i}` })) }],
  ['a limit that is not a plain object', { rateLimits: [new Limit()] }],
  ['limits not an array', { rateLimits: { key: 'a' } }],
  ['a null limit', { rateLimits: [null] }],
  ['max 0', { concurrency: { key: 'k', max: 0 } }],
  ['max not whole', { concurrency: { key: 'k', max: 1.5 } }],
  ['max too large', { concurrency: { key: 'k', max: 1_000_001 } }],
  ['max a string', { concurrency: { key: 'k', max: '4' } }],
  ['no max', { concurrency: { key: 'k' } }],
  ['an unknown field in the key', { concurrency: { key: 'k', max: 1, fair: true } }],
  ['a key of 501 characters', { concurrency: { key: 'k'.repeat(501), max: 1 } }],
  ['concurrency null', { concurrency: null }],
  ['an unknown field on the task', { rateLimits: [{ key: 'a' }], rateLimit: [] }],
];

describe('task input: control fields checked by hand', () => {
  it.each(cases)('%s: the same task or the same refusal as the schema', (_name, fields) => {
    const input = { ...base, ...fields };
    expect(byHand(input)).toEqual(bySchema(input));
  });
});
