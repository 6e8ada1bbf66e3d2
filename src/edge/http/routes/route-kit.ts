import type { z } from 'zod';
import { errorBodySchema } from '../schemas/common-schemas.js';

/** What each status means on every route that can answer it (`docs/api.md` has the codes). */
const ERROR_STATUS_TEXT: Record<number, string> = {
  400: 'Bad request: `E_INVALID_INPUT`, `E_NOT_JSON`, `E_NOT_SERIALIZABLE`; `path` names the field',
  401: 'No token or an unknown one: `E_UNAUTHORIZED`',
  403: 'The token may not do this: `E_FORBIDDEN`',
  404: 'No such entity: `E_UNKNOWN_TASK`, `E_UNKNOWN_TICKET`, `E_UNKNOWN_AGENT`, `E_UNKNOWN_RUN`, `E_UNKNOWN_PHASE`, `E_UNKNOWN_SCHEDULE`',
  409: 'Conflicts with what exists: `E_DUPLICATE_ID`, `E_INVALID_STATE`',
  413: 'The body is larger than the limit: `E_PAYLOAD_TOO_LARGE`',
  415: 'The body is not `application/json`: `E_UNSUPPORTED_MEDIA_TYPE`',
  422: 'The dependencies cannot be met: `E_DEPENDENCY_CYCLE`, `E_MISSING_DEPENDENCY`, `E_CROSS_SHARD_DEPENDENCY`',
  429: 'Too many requests with this token: `E_RATE_LIMITED` (see `Retry-After`)',
  503: 'The runtime is stopped or its store failed: `E_RUNTIME_STOPPED`, `E_STORE`',
};

/** The error answers of a route, each with the one error body. */
export function errors(
  ...statuses: number[]
): Record<number, { description: string; content: { 'application/json': { schema: typeof errorBodySchema } } }> {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: ERROR_STATUS_TEXT[s] ?? 'Error', content: { 'application/json': { schema: errorBodySchema } } },
    ]),
  );
}

/** A JSON answer. */
export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } } as const;
}

/** A JSON request body; `required: false` for bodies that may be left out (cancel's reason). */
export function jsonBody<T extends z.ZodType>(schema: T, required = true) {
  return { required, content: { 'application/json': { schema } } } as const;
}
