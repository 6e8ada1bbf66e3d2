/**
 * Plain JSON values: what a store keeps and gives back unchanged. The checks, the copy and the
 * two object tests every layer uses (one home, so that "plain object" means one thing).
 */
import { TroupeError } from './errors.js';

/**
 * True for `{}`-style objects: not arrays, not null, not class instances (the prototype is
 * `Object.prototype` or null). Use it on values of unknown origin (task results, inputs).
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * For a value already known to be plain JSON: true when it is an object (not an array, not null).
 * Cheaper than `isPlainObject` (no prototype read) on hot paths that walk checked JSON.
 */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks that a value is plain JSON (what a store can keep and give back unchanged): no
 * functions, symbols, bigints, undefined inside arrays, class instances, cycles, or nesting deeper
 * than `MAX_JSON_DEPTH`.
 * Returns the path of the first offending part, or null.
 */
export function findNonJson(value: unknown, path = '$'): string | null {
  // The common answer (it is JSON) comes from a walk that builds no paths; only a value that
  // fails is walked again to name the offending part.
  return isJson(value) ? null : locateNonJson(value, path, new Set(), 0);
}

/**
 * How deep a JSON value may nest. A cycle is found by running into it (no set of the objects on
 * the way to keep up); SQLite's JSON functions refuse deeper nesting too.
 */
export const MAX_JSON_DEPTH = 1000;

/** True when `value` is plain JSON (see `findNonJson`); allocates nothing on the way. */
export function isJson(value: unknown): boolean {
  return isPlainJson(value, 0);
}

function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_JSON_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in value) {
        const child = (value as Record<string, unknown>)[key];
        if (child !== undefined && !isPlainJson(child, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

function locateNonJson(value: unknown, path: string, seen: Set<object>, depth: number): string | null {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `${path} (${value} is not a finite number)`;
    case 'undefined':
      return `${path} (undefined)`;
    case 'object': {
      if (seen.has(value)) return `${path} (cycle)`;
      if (depth >= MAX_JSON_DEPTH) return `${path} (nested deeper than ${MAX_JSON_DEPTH} levels)`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (Array.isArray(value)) {
        seen.add(value);
        for (let i = 0; i < value.length; i++) {
          const bad = locateNonJson(value[i], `${path}[${i}]`, seen, depth + 1);
          if (bad) return bad;
        }
        seen.delete(value);
        return null;
      }
      if (proto !== Object.prototype && proto !== null) {
        const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
        return `${path} (a ${name} instance, not a plain object)`;
      }
      seen.add(value);
      for (const [key, child] of Object.entries(value)) {
        if (child === undefined) continue; // dropped by JSON, like a missing key
        const bad = locateNonJson(child, `${path}.${key}`, seen, depth + 1);
        if (bad) return bad;
      }
      seen.delete(value);
      return null;
    }
    default:
      return `${path} (a ${typeof value})`;
  }
}

/** Throws `E_NOT_SERIALIZABLE` naming the first part of `value` that is not plain JSON. */
export function assertJson(value: unknown, what: string): void {
  const bad = findNonJson(value);
  if (bad) throw new TroupeError('E_NOT_SERIALIZABLE', `${what} is not plain JSON at ${bad}`);
}

/**
 * A deep copy of a plain JSON value, as `JSON.parse(JSON.stringify(value))` would give it
 * (undefined keys dropped, undefined array slots null) without building the text.
 */
export function copyJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v: unknown) => (v === undefined ? null : copyJson(v))) as T;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined) continue;
    // An own data property even for a key named `__proto__` (JSON allows it; assignment would not).
    if (key === '__proto__')
      Object.defineProperty(out, key, { value: copyJson(v), enumerable: true, writable: true, configurable: true });
    else out[key] = copyJson(v);
  }
  return out as T;
}
