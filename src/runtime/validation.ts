import type { z } from 'zod';
import { TroupeError } from '../errors.js';

/** Turns a zod failure into one clear error naming every bad field. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    return `${path}: ${issue.message}`;
  });
  throw new TroupeError('E_INVALID_INPUT', `invalid ${what}: ${problems.join('; ')}`, {
    details: { issues: parsed.error.issues },
  });
}

/**
 * Checks that a value is plain JSON (what a store can keep and give back unchanged): no
 * functions, symbols, bigints, undefined inside arrays, class instances, or cycles.
 * Returns the path of the first offending part, or null.
 */
export function findNonJson(value: unknown, path = '$', seen = new Set<object>()): string | null {
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
      const proto = Object.getPrototypeOf(value) as unknown;
      if (Array.isArray(value)) {
        seen.add(value);
        for (let i = 0; i < value.length; i++) {
          const bad = findNonJson(value[i], `${path}[${i}]`, seen);
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
        const bad = findNonJson(child, `${path}.${key}`, seen);
        if (bad) return bad;
      }
      seen.delete(value);
      return null;
    }
    default:
      return `${path} (a ${typeof value})`;
  }
}

export function assertJson(value: unknown, what: string): void {
  const bad = findNonJson(value);
  if (bad) throw new TroupeError('E_NOT_SERIALIZABLE', `${what} is not plain JSON at ${bad}`);
}

/** Size of a value once stored, in bytes of UTF-8 JSON. */
export function jsonSize(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}
