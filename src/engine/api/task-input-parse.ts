import { z } from 'zod';
import { parseOrThrow } from '../validation.js';
import { taskCreateSchema, type TaskCreateInput } from './task-input.js';

type ParsedTaskInput = ReturnType<typeof taskCreateSchema.parse>;

/** The schema with the control fields taken as they are (checked by hand before). */
const withCheckedControls = taskCreateSchema.extend({
  rateLimits: z.unknown().optional(),
  concurrency: z.unknown().optional(),
});

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Only these own keys (the schema's objects are strict). */
function onlyKeys(o: Record<string, unknown>, a: string, b: string): boolean {
  for (const k in o) if (k !== a && k !== b) return false;
  return true;
}

const isKey = (v: unknown, max: number): v is string => typeof v === 'string' && v.length >= 1 && v.length <= max;

/** `rateLimits` as the schema takes it, checked by hand; false leaves it to the schema. */
function rateLimitsFit(v: unknown): boolean {
  if (v === undefined) return true;
  if (!Array.isArray(v) || v.length > 16) return false;
  for (const r of v as unknown[]) {
    if (!isPlainObject(r) || !onlyKeys(r, 'key', 'units') || !isKey(r.key, 200)) return false;
    if (r.units !== undefined && !(isNumber(r.units) && r.units > 0 && r.units <= 1e12)) return false;
  }
  return true;
}

/** `concurrency` as the schema takes it, checked by hand; false leaves it to the schema. */
function concurrencyFits(v: unknown): boolean {
  if (v === undefined) return true;
  if (!isPlainObject(v) || !onlyKeys(v, 'key', 'max') || !isKey(v.key, 500)) return false;
  return Number.isSafeInteger(v.max) && (v.max as number) >= 1 && (v.max as number) <= 1_000_000;
}

/**
 * A new task's fields, parsed as `taskCreateSchema` parses them (`E_INVALID_INPUT` naming what is
 * wrong). Its control fields (`rateLimits`, `concurrency`), on every task of a controlled
 * workload, are checked by hand when they can be: zod's parsing of their objects cost about 1 µs
 * per task (docs/controls.md, "What the controls cost"). The hand check is narrower than the
 * schema (plain objects, lengths in UTF-16 units), so whatever it accepts the schema accepts
 * alike; anything else goes to the schema whole, which decides and words the refusal.
 */
export function parseTaskInput(input: TaskCreateInput, what: string): ParsedTaskInput {
  if (
    isPlainObject(input) &&
    (input.rateLimits !== undefined || input.concurrency !== undefined) &&
    rateLimitsFit(input.rateLimits) &&
    concurrencyFits(input.concurrency)
  ) {
    // The caller's objects pass as they are: the parsed task is read (resolveControls), not kept.
    return parseOrThrow(withCheckedControls, input, what) as ParsedTaskInput;
  }
  return parseOrThrow(taskCreateSchema, input, what);
}
