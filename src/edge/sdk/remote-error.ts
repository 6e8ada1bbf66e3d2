/**
 * A refusal from the server (an `error` frame), with its stable code from `docs/errors.md`.
 *
 * @example
 * ```ts
 * try { await agent.send(...); } catch (e) { if (e instanceof RemoteError && e.code === 'E_LEASE_MISMATCH') { ... } }
 * ```
 */
export class RemoteError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

/**
 * The connection ended before the server answered; the request may or may not have been
 * applied. The SDK resends unanswered reports after it reconnects.
 *
 * @example
 * ```ts
 * if (error instanceof DisconnectedError) return; // it goes out again after the next welcome
 * ```
 */
export class DisconnectedError extends Error {
  constructor(message = 'the connection closed before the server answered') {
    super(message);
    this.name = 'DisconnectedError';
  }
}

/**
 * The server refused the connection for good (bad token, wrong endpoint, refused hello): the
 * agent does not retry.
 *
 * @example
 * ```ts
 * await connectAgent(options).catch((e) => {
 *   if (e instanceof ConnectionRefusedError && e.status === 401) console.error('check TROUPE_AGENT_TOKEN');
 *   throw e;
 * });
 * ```
 */
export class ConnectionRefusedError extends Error {
  constructor(
    message: string,
    /** HTTP status of a refused upgrade, or null when the hello was refused. */
    readonly status: number | null,
    /** The error code of a refused hello. */
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'ConnectionRefusedError';
  }
}
