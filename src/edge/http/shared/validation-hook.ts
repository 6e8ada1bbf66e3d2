import type { ZodError } from 'zod';
import { HttpError, type ErrorPath } from './http-errors.js';

/** Where in the request a validation target lives, as the first element of an error's path. */
const PLACE: Record<string, string> = { json: 'body', query: 'query', param: 'path', header: 'header' };

interface Issue {
  path: PropertyKey[];
  message: string;
  code: string;
  errors?: Issue[][];
  keys?: string[];
}

/**
 * Of a union's branches, the issues of the one that came closest (fewest issues): for a body
 * that is either one task or `{ tasks: [...] }`, "type: expected string" says more than
 * "matched neither".
 */
function flatten(issues: readonly Issue[], prefix: PropertyKey[] = []): Issue[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors && issue.errors.length > 0) {
      const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0] ?? [];
      if (closest.length > 0) return flatten(closest, path);
    }
    // An unknown key is named in the path, so `path` points at it, not at its object.
    if (issue.code === 'unrecognized_keys' && issue.keys?.length === 1)
      return [{ ...issue, path: [...path, issue.keys[0] as string] }];
    return [{ ...issue, path }];
  });
}

/** A failed check of a request part as the `E_INVALID_INPUT` answer, naming every bad field. */
export function validationError(target: string, error: ZodError): HttpError {
  const place = PLACE[target] ?? target;
  const issues = flatten(error.issues as unknown as Issue[]);
  const text = issues.map((i) => `${[place, ...i.path.map(String)].join('.')}: ${i.message}`).join('; ');
  const first = issues[0];
  const path: ErrorPath = [
    place,
    ...(first?.path ?? []).filter((p): p is string | number => typeof p === 'string' || typeof p === 'number'),
  ];
  return new HttpError('E_INVALID_INPUT', `invalid request: ${text}`, path);
}
