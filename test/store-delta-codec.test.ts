import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDelta, encodeDelta, type Encoded } from '../src/engine/store/delta-codec.js';

/** What a JSON store gives back for a value: the reference every decoding must equal. */
const asStored = (value: unknown): unknown => JSON.parse(JSON.stringify(value) ?? 'null');
/** Encoding, through JSON text as the memory store keeps it, then decoding. */
const roundTrip = (value: unknown, template: unknown): unknown =>
  decodeDelta(JSON.parse(JSON.stringify(encodeDelta(value, template))) as Encoded, template);

/** A value and a template sharing most of their structure: the case the codec is for. */
const related = fc.jsonValue({ maxDepth: 4 }).chain((base) =>
  fc.tuple(fc.constant(base), fc.jsonValue({ maxDepth: 3 }), fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 })).map(([b, other, keys]) => {
    const template = asStored(b);
    const value = asStored(b);
    // Change, add and remove keys at the top and one level down.
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const v = value as Record<string, unknown>;
      for (const k of keys) v[k] = asStored(other);
      const first = Object.keys(v)[0];
      if (first !== undefined && keys.length === 2) delete v[first];
      const nested = Object.values(v).find((x) => x && typeof x === 'object' && !Array.isArray(x)) as Record<string, unknown> | undefined;
      if (nested) nested['~'] = asStored(other);
    }
    return { value, template };
  }),
);

describe('delta codec', () => {
  it('gives back every JSON value, whatever the template', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 4 }), (value, template) => {
        expect(roundTrip(value, asStored(template))).toEqual(asStored(value));
      }),
      { numRuns: 400 },
    );
  });

  it('gives back values that share most of their template, with keys changed, added and removed', () => {
    fc.assert(
      fc.property(related, ({ value, template }) => {
        expect(roundTrip(value, template)).toEqual(value);
      }),
      { numRuns: 400 },
    );
  });

  it('keeps only what differs', () => {
    const template = { kind: 'task', state: 'succeeded', context: { id: 't1', spec: { type: 'noop', retry: { maxAttempts: 3 } }, error: null } };
    const value = { kind: 'task', state: 'succeeded', context: { id: 't2', spec: { type: 'noop', retry: { maxAttempts: 3 } }, error: null } };
    expect(encodeDelta(value, template)).toEqual([{ context: { id: 't2' } }]);
    expect(encodeDelta(template, template)).toEqual([]);
    expect(roundTrip(template, template)).toEqual(template);
  });

  it('records removed keys, nested ones too, and treats an undefined key as absent', () => {
    const template = { a: 1, b: { c: 2, d: 3 } };
    const encoded = encodeDelta({ b: { c: 2, d: undefined } }, template);
    expect(encoded).toEqual([{}, [['b', 'd'], ['a']]]);
    expect(decodeDelta(encoded, template)).toEqual({ b: { c: 2 } });
  });

  it('never mistakes a new object value for a delta, nor lets decoded values alias the template', () => {
    const template = { a: 1, b: 'text' };
    const value = { a: { x: 1 }, b: { y: [1, 2] } };
    const decoded = roundTrip(value, template) as typeof value;
    expect(decoded).toEqual(value);
    const same = decodeDelta([], { list: [1] }) as { list: number[] };
    same.list.push(2);
    expect(decodeDelta([], template)).toEqual(template);
  });

  it('keeps a key named __proto__ as data', () => {
    const template = JSON.parse('{"__proto__": {"a": 1}, "b": 1}') as unknown;
    const value = JSON.parse('{"__proto__": {"a": 2}, "b": 1}') as unknown;
    const decoded = roundTrip(value, template) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(JSON.stringify(decoded)).toBe(JSON.stringify(value));
  });
});

describe('delta codec, keys named like Object.prototype members', () => {
  it('notices a removed key although the value has a key the template only inherits', () => {
    const template = { a: 1, b: 2 };
    const value = JSON.parse('{"a": 1, "toString": 3, "__proto__": 4}') as unknown;
    expect(roundTrip(value, template)).toEqual(value);
    expect(Object.keys(roundTrip(value, template) as object).sort()).toEqual(['__proto__', 'a', 'toString']);
  });
});

describe('decoded values', () => {
  it('are fresh deep copies, sharing nothing with the template or each other', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const template = asStored(value);
        const a = decodeDelta([], template);
        const b = decodeDelta([], template);
        expect(a).toEqual(template);
        if (a !== null && typeof a === 'object') {
          expect(a).not.toBe(template);
          expect(a).not.toBe(b);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('keep a key named __proto__ as data in the copy of the template', () => {
    const template = JSON.parse('{"__proto__": {"a": 1}, "b": [1, {"c": 2}]}') as unknown;
    const copy = decodeDelta([], template) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(template));
  });

  it('hold copies of the delta values, not the values encoded', () => {
    const template = { a: { x: 1 }, list: [1] };
    const value = { a: { x: 2, y: { deep: true } }, list: [1, 2] };
    const decoded = decodeDelta(encodeDelta(value, template), template) as typeof value;
    expect(decoded).toEqual(value);
    (decoded.a.y as { deep: boolean }).deep = false;
    expect(value.a.y.deep).toBe(true);
    expect(template).toEqual({ a: { x: 1 }, list: [1] });
  });
});

describe('decoding against a template with undefined values', () => {
  it('leaves their keys out, as a JSON store would', () => {
    const template = { a: 1, b: undefined, c: { d: undefined, e: 2 } };
    const decoded = decodeDelta(encodeDelta({ a: 2, c: { e: 2 } }, template), template) as Record<string, unknown>;
    expect(Object.keys(decoded)).toEqual(['a', 'c']);
    expect(Object.keys(decoded.c as object)).toEqual(['e']);
  });
});
