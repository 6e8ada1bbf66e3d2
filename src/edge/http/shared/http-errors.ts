import { ERROR_CODES, TroupeError, type ErrorCode } from '../../../core/errors.js';
import { PROTOCOL_ERROR_CODES, type ProtocolErrorCode } from '../../server/protocol/codes.js';
import { ProtocolError } from '../../server/protocol/protocol-error.js';

/** A code an HTTP error body may carry: one of the runtime's or of the network edge's. */
export type HttpErrorCode = ErrorCode | ProtocolErrorCode;

/**
 * The HTTP status of each code the API answers with; `docs/api.md` lists the same table (a test
 * keeps them in step). A code not listed here (a task's own failure codes, say) never reaches an
 * HTTP answer except as data inside a view, and would be answered 500.
 */
export const HTTP_STATUS_OF_CODE = {
  E_INVALID_INPUT: 400,
  E_NOT_JSON: 400,
  E_NOT_SERIALIZABLE: 400,
  E_UNAUTHORIZED: 401,
  E_FORBIDDEN: 403,
  E_NOT_FOUND: 404,
  E_UNKNOWN_TASK: 404,
  E_UNKNOWN_TICKET: 404,
  E_UNKNOWN_AGENT: 404,
  E_UNKNOWN_RUN: 404,
  E_UNKNOWN_PHASE: 404,
  E_UNKNOWN_SCHEDULE: 404,
  E_DUPLICATE_ID: 409,
  E_ID_KIND_CONFLICT: 409,
  E_INVALID_STATE: 409,
  E_PAYLOAD_TOO_LARGE: 413,
  E_UNSUPPORTED_MEDIA_TYPE: 415,
  E_DEPENDENCY_CYCLE: 422,
  E_MISSING_DEPENDENCY: 422,
  E_CROSS_SHARD_DEPENDENCY: 422,
  E_RATE_LIMITED: 429,
  E_INTERNAL: 500,
  E_STORE: 503,
  E_RUNTIME_STOPPED: 503,
} as const satisfies Partial<Record<HttpErrorCode, number>>;

export type HttpAnswerCode = keyof typeof HTTP_STATUS_OF_CODE;

/** A path into the request: its first element says where (`body`, `query`, `path`). */
export type ErrorPath = Array<string | number>;

/**
 * One problem of a pattern sent as YAML (`POST /v1/runs`), as `troupe validate` prints it: line
 * and column in the text of the `yaml` field, the path in the document, a stable code.
 */
export interface PatternProblemBody {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  line: number;
  column: number;
  path: string;
  suggestion?: string;
}

/** The body of every error answer. */
export interface HttpErrorBody {
  error: { code: HttpErrorCode; message: string; path: ErrorPath; retryable: boolean; problems?: PatternProblemBody[] };
}

/** An error the HTTP layer raises itself (auth, limits, routing); runtime refusals are `TroupeError`s. */
export class HttpError extends Error {
  constructor(
    readonly code: HttpAnswerCode,
    message: string,
    readonly path: ErrorPath = [],
    readonly headers: Record<string, string> = {},
    /** Every problem of a pattern that is refused (its message names the first). */
    readonly problems?: PatternProblemBody[],
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function statusOf(code: string): number {
  return (HTTP_STATUS_OF_CODE as Record<string, number>)[code] ?? 500;
}

/** The meaning of a code, from the one table (`ERROR_CODES`, `PROTOCOL_ERROR_CODES`). */
export function meaningOf(code: HttpAnswerCode): string {
  return (ERROR_CODES as Record<string, string>)[code] ?? (PROTOCOL_ERROR_CODES as Record<string, string>)[code] ?? '';
}

/**
 * What an answer says about a thrown value. Unknown failures become `E_INTERNAL` with a fixed
 * message: what broke stays in the log, not in the answer.
 */
export function errorAnswer(error: unknown): {
  status: number;
  body: HttpErrorBody;
  headers: Record<string, string>;
  internal: boolean;
} {
  if (error instanceof HttpError) {
    const body = bodyOf(error.code, error.message, error.path, error.code === 'E_RATE_LIMITED');
    if (error.problems !== undefined) body.error.problems = error.problems;
    return { status: statusOf(error.code), body, headers: error.headers, internal: false };
  }
  if (error instanceof TroupeError) {
    const status = statusOf(error.code);
    return {
      status,
      body: bodyOf(error.code, error.message, pathOfIssues(error.details), error.retryable || status === 503),
      headers: {},
      internal: status === 500,
    };
  }
  if (error instanceof ProtocolError) {
    return {
      status: statusOf(error.code),
      body: bodyOf(error.code, error.message, [], false),
      headers: {},
      internal: false,
    };
  }
  return {
    status: 500,
    body: bodyOf('E_INTERNAL', 'the server failed while handling the request; nothing was applied', [], true),
    headers: {},
    internal: true,
  };
}

function bodyOf(code: HttpErrorCode, message: string, path: ErrorPath, retryable: boolean): HttpErrorBody {
  return { error: { code, message, path, retryable } };
}

/** The path of the first zod issue a runtime validation kept in its details, else none. */
function pathOfIssues(details: Record<string, unknown> | undefined): ErrorPath {
  const issues = details?.issues;
  if (!Array.isArray(issues) || issues.length === 0) return [];
  const first = issues[0] as { path?: unknown };
  return Array.isArray(first.path)
    ? (first.path.filter((p) => typeof p === 'string' || typeof p === 'number') as ErrorPath)
    : [];
}
