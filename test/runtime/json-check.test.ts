import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { findNonJson, isJson, MAX_JSON_DEPTH } from '../../src/core/json-value.js';
import { actor, batch } from '../store-conformance.js';

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { v: value };
  return value;
}

describe('the JSON check', () => {
  it('accepts plain JSON, nested up to the limit', () => {
    expect(isJson({ a: [1, 'x', null, true, { b: -0.5 }], c: undefined })).toBe(true);
    expect(isJson(nested(MAX_JSON_DEPTH))).toBe(true);
  });

  it('names what is not JSON: a cycle, a class instance, NaN, undefined in an array, nesting too deep', () => {
    const cyclic: Record<string, unknown> = { a: {} };
    (cyclic.a as Record<string, unknown>).back = cyclic;
    expect(findNonJson(cyclic)).toBe('$.a.back (cycle)');
    expect(findNonJson({ when: new Date(0) })).toBe('$.when (a Date instance, not a plain object)');
    expect(findNonJson({ n: Number.NaN })).toBe('$.n (NaN is not a finite number)');
    expect(findNonJson({ list: [1, undefined] })).toBe('$.list[1] (undefined)');
    expect(findNonJson(nested(MAX_JSON_DEPTH + 1))).toMatch(/nested deeper than 1000 levels/);
  });

  it('the memory store refuses a settled record holding a value that is not JSON, and keeps nothing of the batch', async () => {
    const store = new MemoryStore();
    await store.commit(batch({ actors: [actor('first', { settled: true })] }));
    const bad = actor('second', { settled: true, context: { when: new Date(0) } });
    await expect(store.commit(batch({ actors: [actor('other'), bad] }))).rejects.toMatchObject({
      code: 'E_NOT_SERIALIZABLE',
    });
    expect(await store.getActor('other')).toBeUndefined();
    expect(await store.getActor('second')).toBeUndefined();
  });
});
