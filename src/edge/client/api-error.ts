import type { PatternProblemBody } from '../http/shared/http-errors.js';
/**
 * A refusal by a Troupe server's HTTP API: the `code` of `docs/errors.md`, the HTTP status, and
 * where in the request the problem was. Branch on `code`, never on the message.
 *
 * @example
 * ```ts
 * try { await client.tasks.get('nope'); }
 * catch (e) { if (e instanceof ApiError && e.code === 'E_UNKNOWN_TASK') console.log('no such task'); }
 * ```
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly path: Array<string | number> = [],
    readonly retryable = false,
    /** A refused pattern (`runs.apply` with `yaml`): every problem, with line and column in that text. */
    readonly problems: ApiPatternProblem[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** One problem of a pattern the server refused (docs/api.md, docs/patterns.md): the body's own shape. */
export type ApiPatternProblem = PatternProblemBody;

/** The error of a non-2xx answer, from its `{ error: {...} }` body (or what came instead). */
export async function apiErrorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as {
      error?: { code?: unknown; message?: unknown; path?: unknown; retryable?: unknown; problems?: unknown };
    };
    const e = body.error;
    if (e && typeof e.code === 'string') {
      const problems = Array.isArray(e.problems) ? (e.problems as ApiPatternProblem[]) : [];
      return new ApiError(
        e.code,
        String(e.message ?? e.code),
        response.status,
        Array.isArray(e.path) ? (e.path as Array<string | number>) : [],
        e.retryable === true,
        problems,
      );
    }
  } catch {
    // not our error body (a proxy in between, say): described below
  }
  return new ApiError(
    response.status >= 500 ? 'E_INTERNAL' : 'E_INVALID_INPUT',
    `HTTP ${response.status}: ${text.slice(0, 200)}`,
    response.status,
    [],
    response.status >= 500,
  );
}
