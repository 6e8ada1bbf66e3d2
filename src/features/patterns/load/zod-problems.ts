import { z } from 'zod';
import { problem, type PatternProblem, type PatternProblemCode } from '../problems/problems.js';
import { nearestName } from '../problems/suggest.js';
import { describeValue } from './inputs.js';
import { locate, type DocPath, type PatternSource } from './source.js';

type Issue = z.core.$ZodIssue;

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

/** The keys an object schema accepts at `path` (through optionals, lists, records and unions). */
export function keysAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): string[] {
  const candidates = schemasAt(schema, path);
  const keys = new Set<string>();
  for (const s of candidates) if (s instanceof z.ZodObject) for (const k of Object.keys(s.shape)) keys.add(k);
  return [...keys];
}

function schemasAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): z.ZodType[] {
  let current: z.ZodType[] = [schema];
  for (const segment of path) {
    const next: z.ZodType[] = [];
    for (const s of current.flatMap(unwrap)) {
      if (s instanceof z.ZodObject && typeof segment === 'string' && segment in s.shape)
        next.push(s.shape[segment] as z.ZodType);
      else if (s instanceof z.ZodArray && typeof segment === 'number') next.push(s.element as z.ZodType);
      else if (s instanceof z.ZodRecord) next.push(s._zod.def.valueType as z.ZodType);
    }
    current = next;
  }
  return current.flatMap(unwrap);
}

function unwrap(schema: z.ZodType): z.ZodType[] {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault || schema instanceof z.ZodNullable) {
    return unwrap(schema.unwrap() as z.ZodType);
  }
  if (schema instanceof z.ZodUnion) return (schema.options as z.ZodType[]).flatMap(unwrap);
  return [schema];
}

/**
 * Turns zod's issues for the data at `base` (validated against `schema`) into problems with the
 * file position, the path in the document, what was expected and, for a misspelt key or enum
 * value, the nearest valid one.
 */
export function zodProblems(
  issues: readonly Issue[],
  schema: z.ZodType,
  base: DocPath,
  source: PatternSource,
): PatternProblem[] {
  const out: PatternProblem[] = [];
  for (const issue of issues) {
    const rel = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
    const path = [...base, ...rel];
    const input = (issue as { input?: unknown }).input;
    const push = (
      code: PatternProblemCode,
      at: DocPath,
      message: string,
      suggestion?: string,
      which: 'key' | 'value' = 'value',
    ) => out.push(problem(code, locate(source, at, which), message, suggestion));
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = keysAt(schema, rel);
        for (const key of issue.keys) {
          const suggestion = nearestName(key, known);
          push(
            'E_UNKNOWN_KEY',
            [...path, key],
            `unknown key "${key}"; expected one of: ${known.join(', ')}`,
            suggestion,
            'key',
          );
        }
        break;
      }
      case 'invalid_type': {
        const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
        if (input === undefined) {
          const key = path[path.length - 1];
          push('E_MISSING_KEY', path.slice(0, -1), `missing required key "${String(key)}" (${expected})`);
        } else push('E_WRONG_TYPE', path, `expected ${expected}, got ${describeValue(input)}`);
        break;
      }
      case 'invalid_value': {
        const values = issue.values.map((v) => String(v));
        const suggestion = typeof input === 'string' ? nearestName(input, values) : undefined;
        push('E_BAD_VALUE', path, `expected one of ${values.join(', ')}; got ${describeValue(input)}`, suggestion);
        break;
      }
      case 'too_small':
      case 'too_big': {
        const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
        const word = issue.code === 'too_small' ? 'at least' : 'at most';
        const unit = issue.origin === 'array' ? ' items' : issue.origin === 'string' ? ' characters' : '';
        const size = Array.isArray(input) ? input.length : typeof input === 'string' ? input.length : input;
        const custom = issue.message.startsWith('Too ') ? '' : `${issue.message}: `;
        push('E_OUT_OF_RANGE', path, `${custom}expected ${word} ${String(bound)}${unit}, got ${String(size)}`);
        break;
      }
      case 'invalid_format': {
        const isDuration = 'pattern' in issue && String(issue.pattern).includes('(ms|s|m|h|d)');
        push(isDuration ? 'E_BAD_DURATION' : 'E_BAD_VALUE', path, `${issue.message}; got ${describeValue(input)}`);
        break;
      }
      case 'invalid_union': {
        const isDuration = issue.message.includes('duration');
        push(isDuration ? 'E_BAD_DURATION' : 'E_WRONG_TYPE', path, `${issue.message}; got ${describeValue(input)}`);
        break;
      }
      case 'custom': {
        const code = (issue.params as { code?: PatternProblemCode } | undefined)?.code ?? 'E_BAD_VALUE';
        push(code, path, issue.message);
        break;
      }
      default:
        push('E_BAD_VALUE', path, `${issue.message}; got ${describeValue(input)}`);
    }
  }
  return out;
}
