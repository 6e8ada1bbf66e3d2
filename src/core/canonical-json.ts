/**
 * Canonical JSON: the same text for equal values whatever their key order. Merges and routing
 * rules compare results by this text, so that `{ a: 1, b: 2 }` and `{ b: 2, a: 1 }` count as one
 * vote and as equal for `==`, and so that the outcome never depends on how an agent happened to
 * order its keys.
 */
import { isPlainObject } from './json-value.js';

/**
 * JSON text with object keys sorted at every depth; `undefined` object members are dropped
 * (as `JSON.stringify` does) and an `undefined` value is written `null`.
 *
 * @example
 * ```ts
 * canonicalJson({ b: [2, { d: 1, c: 0 }], a: 1 }); // '{"a":1,"b":[2,{"c":0,"d":1}]}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value as Record<string, unknown>)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Deep equality of JSON values (key order does not matter, array order does). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return a === b || canonicalJson(a) === canonicalJson(b);
}

/**
 * Reads a dotted path (`"review.score"`) from a JSON value. The empty path is the value itself.
 * Returns `{ found: false }` when any step is missing, so callers can tell "absent" from `null`.
 */
export function readPath(value: unknown, path: string): { found: true; value: unknown } | { found: false } {
  if (path === '') return { found: true, value };
  let current: unknown = value;
  for (const step of path.split('.')) {
    if (Array.isArray(current) && /^\d+$/.test(step)) {
      const index = Number(step);
      if (index >= current.length) return { found: false };
      current = current[index];
      continue;
    }
    if (!isPlainObject(current) || !Object.prototype.hasOwnProperty.call(current, step)) return { found: false };
    current = current[step];
  }
  return { found: true, value: current };
}
