import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration as operators write it: `500ms`, `45s`, `10m`, `12h`, `7d`, or a whole number of
 * milliseconds. Parsed to milliseconds.
 *
 * @example
 * ```ts
 * durationSchema.parse('7d'); // 604800000
 * ```
 */
export const durationSchema = z
  .union([
    z.int().positive(),
    z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration is a number with a unit: 500ms, 45s, 10m, 12h, 7d'),
  ])
  .transform((value) => {
    if (typeof value === 'number') return value;
    const [, amount, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(value) as RegExpExecArray;
    return Number(amount) * (UNITS[unit as string] as number);
  })
  .refine((ms) => ms > 0 && Number.isSafeInteger(ms), 'a duration must be above zero and below 2^53 ms');
