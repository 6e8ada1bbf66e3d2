/** Input checks at the engine's edge: zod failures as one `E_INVALID_INPUT`, and stored sizes. */
import type { z } from 'zod';
import { TroupeError } from '../core/errors.js';

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
