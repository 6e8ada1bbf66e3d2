/**
 * One error type for everything Troupe reports, with a stable `code` from the table in
 * `docs/errors.md` and a `retryable` flag, so that callers branch on codes, never on messages.
 */
export const ERROR_CODES = {
  E_INVALID_INPUT: 'The input failed validation; the message names the field.',
  E_UNKNOWN_TASK: 'No task has that id.',
  E_UNKNOWN_TICKET: 'No ticket has that id.',
  E_UNKNOWN_AGENT: 'No agent has that id.',
  E_UNKNOWN_PHASE: 'The ticket has no phase with that name.',
  E_DUPLICATE_ID: 'An entity with that id already exists.',
  E_ID_KIND_CONFLICT:
    'A store was asked to write an actor under an id that an actor of another kind holds; an id keeps its first kind forever, so nothing of the batch was written.',
  E_DEPENDENCY_CYCLE: 'The dependencies form a cycle; the message names it.',
  E_MISSING_DEPENDENCY: 'A task depends on a task that does not exist.',
  E_CROSS_SHARD_DEPENDENCY:
    'A task depends on unfinished work that another shard writes; a task waits only on work of its own shard.',
  E_INVALID_STATE: 'The entity is not in a state that accepts this request.',
  E_LEASE_MISMATCH: 'The lease is not the current lease of the task (late or duplicate report).',
  E_NOT_SERIALIZABLE: 'A value that must be stored is not plain JSON.',
  E_TASK_FAILED: 'A task handler failed.',
  E_NON_RETRYABLE: 'A task handler failed and asked not to be retried.',
  E_TIMEOUT: 'A deadline passed.',
  E_CANCELLED: 'The work was cancelled.',
  E_AGENT_LOST: 'The agent holding the work went stale or left.',
  E_STORE: 'The store failed to read or write; the runtime stops accepting work.',
  E_VERSION_MISMATCH: 'A stored snapshot was written by another machine version and no migration is registered.',
  E_RUNTIME_STOPPED: 'The runtime is stopped or has failed.',
  E_PAYLOAD_TOO_LARGE: 'A payload exceeds the configured limit.',
  E_UNKNOWN_RUN: 'No pattern run has that id.',
  E_UNKNOWN_SCHEDULE: 'No schedule has that id.',
  E_UNAUTHORIZED: 'The request carries no token, or one the server does not know.',
  E_NOT_FOUND: 'Nothing is served at that method and path.',
  E_UNSUPPORTED_MEDIA_TYPE: 'The request body is not sent as `application/json`.',
  E_DEPENDENCY_FAILED:
    'A dependency whose failure policy is `fail` did not succeed, so the task was dead-lettered without running.',
} as const;

/** One of the stable error codes listed in `ERROR_CODES` and docs/errors.md. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Categories that drive retry decisions; see `docs/errors.md`. */
export type ErrorCategory = 'transient' | 'permanent' | 'timeout' | 'cancelled' | 'agent-lost';

export interface TroupeErrorOptions {
  retryable?: boolean;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * The error Troupe throws and stores.
 *
 * @example
 * ```ts
 * try { await runtime.tasks.cancel('nope'); }
 * catch (e) { if (e instanceof TroupeError && e.code === 'E_UNKNOWN_TASK') { ... } }
 * ```
 */
export class TroupeError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: TroupeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TroupeError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
}

/**
 * Throw this from a task handler to fail the attempt without any retry: the task goes straight
 * to the dead-letter state with category `permanent`.
 *
 * @example
 * ```ts
 * runtime.agents.register({ id: 'a', capabilities: [], handler: async (task) => {
 *   if (!task.input) throw new NonRetryableError('no input, retrying will not help');
 * }});
 * ```
 */
export class NonRetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}

/**
 * True when `value` is a `TroupeError`; narrows it so `code` and `category` can be read.
 *
 * @example
 * ```ts
 * try { await runtime.tasks.get('nope'); } catch (e) { if (isTroupeError(e) && e.code === 'E_UNKNOWN_TASK') console.log('no such task'); }
 * ```
 */
export function isTroupeError(value: unknown): value is TroupeError {
  return value instanceof TroupeError;
}
