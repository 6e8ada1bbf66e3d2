/** Input checks at the engine's edge: zod failures as one `E_INVALID_INPUT`, and stored sizes. */
import type { z } from 'zod';
import { TroupeError } from '../core/errors.js';
import { assertJson } from '../core/json-value.js';

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

/** Size of a value once stored, in bytes of UTF-8 JSON. */
export function jsonSize(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/**
 * Checks a value the engine will store for a caller (a task's input, a completion, a schedule's
 * target): plain JSON (`E_NOT_SERIALIZABLE` otherwise) of at most `maxBytes` bytes of UTF-8 JSON
 * (`E_PAYLOAD_TOO_LARGE` otherwise).
 */
export function assertStorablePayload(value: unknown, what: string, maxBytes: number): void {
  assertJson(value, what);
  const size = jsonSize(value);
  if (size > maxBytes) {
    throw new TroupeError('E_PAYLOAD_TOO_LARGE', `${what} is ${size} bytes, over the limit of ${maxBytes}`);
  }
}
