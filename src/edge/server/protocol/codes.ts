/**
 * Constants of protocol v1 that both ends must agree on: the WebSocket subprotocol, the error
 * codes the server answers with, and the close codes it ends connections with. The tables here
 * are the source of `docs/protocol.md` and `docs/errors.md`; a test keeps them in step.
 */

/** The protocol version this server speaks. */
export const PROTOCOL_VERSION = 1;

/**
 * The WebSocket subprotocol a client must offer (`Sec-WebSocket-Protocol`).
 *
 * @example
 * ```ts
 * const socket = new WebSocket(url, [SUBPROTOCOL], { headers: { Authorization: `Bearer ${token}` } });
 * ```
 */
export const SUBPROTOCOL = 'troupe.v1';

/**
 * Optional parts of protocol v1 that a client asks for in `hello.features` and the server
 * grants in `welcome.features` (the ones both know). `batch`: several messages in one frame,
 * both ways (docs/protocol.md, "Batches").
 *
 * @example
 * ```ts
 * const hello = { type: 'hello', agentId: 'a1', features: [...PROTOCOL_FEATURES] };
 * ```
 */
export const PROTOCOL_FEATURES = ['batch'] as const;

/** A name in `PROTOCOL_FEATURES`. */
export type ProtocolFeature = (typeof PROTOCOL_FEATURES)[number];

/** Most messages one `batch` frame may carry. */
export const MAX_BATCH_MESSAGES = 10_000;

/**
 * Codes the WebSocket edge adds to the runtime's codes (`ERROR_CODES` in `src/errors.ts`).
 * An `error` frame carries one of either table.
 *
 * @example
 * ```ts
 * if (frame.type === 'error' && frame.code === 'E_RATE_LIMITED') setTimeout(resend, 50);
 * console.log(PROTOCOL_ERROR_CODES.E_RATE_LIMITED); // what it means
 * ```
 */
export const PROTOCOL_ERROR_CODES = {
  E_NOT_JSON: 'The frame is not valid JSON text.',
  E_BINARY_FRAME: 'The frame is binary; protocol v1 uses text frames only.',
  E_FRAME_TOO_LARGE: 'The frame is larger than `limits.maxFrameBytes`; it was not read further.',
  E_UNKNOWN_TYPE:
    'The message is a JSON object without a string `type`, or with a `type` that protocol v1 does not define.',
  E_INVALID_MESSAGE:
    'The frame is JSON but not an object (an array, a string, a number, `null`), or a field is missing, has the wrong type or is not part of the message; the text names each.',
  E_RATE_LIMITED: 'Too many messages in too short a time; this one was dropped unprocessed.',
  E_FORBIDDEN:
    'The connection may not do this: observers are read-only, agents touch only their own leases, a token may be bound to some agent ids.',
  E_HELLO_REQUIRED: 'An agent connection must send `hello` (and wait for `welcome`) before anything else.',
  E_ALREADY_HELLO: 'This connection has already said hello (or is saying it).',
  E_AGENT_TAKEN:
    "Another session holds this agent id (connected, or within its grace period): a hello must carry that session's `resumeSecret`. Retry later: the id is free once that session ends.",
  E_UNKNOWN_SUBSCRIPTION: 'No subscription of this connection has that id.',
  E_TOO_MANY_SUBSCRIPTIONS: 'The connection holds `limits.maxSubscriptions` subscriptions already.',
  E_INTERNAL: 'The server failed while handling the request; the failure is logged and nothing was applied.',
} as const;

/** A code the server answers a bad frame with (`PROTOCOL_ERROR_CODES`, docs/protocol.md). */
export type ProtocolErrorCode = keyof typeof PROTOCOL_ERROR_CODES;

/**
 * WebSocket close codes the server uses; `CLOSE_CODE_MEANINGS` says what each means.
 *
 * @example
 * ```ts
 * socket.on('close', (code) => { if (code === CLOSE_CODES.REPLACED) stopReconnecting(); });
 * ```
 */
export const CLOSE_CODES = {
  /** The agent said goodbye, or the client closed. */
  NORMAL: 1000,
  /** The server is shutting down; reconnect later (agents keep their leases for the grace period). */
  GOING_AWAY: 1001,
  /** A text frame that is not valid UTF-8: the `ws` library closes at once. */
  INVALID_PAYLOAD: 1007,
  /** A frame larger than the hard cut-off (`limits.frameCutoffBytes`): the `ws` library closes at once. */
  MESSAGE_TOO_BIG: 1009,
  /** The server failed while serving the connection (an observer's backlog could not be read). */
  INTERNAL_ERROR: 1011,
  /** Too many bad frames or rate-limited messages in a short time. */
  TOO_MANY_VIOLATIONS: 4000,
  /** The client read too slowly: its send buffer passed `limits.maxBufferedBytes`. */
  SLOW_CONSUMER: 4001,
  /** The agent's session goes on on another connection (its resume secret), or the operator allows takeover and another session took the id. */
  REPLACED: 4002,
  /** An agent connection did not say hello within `limits.helloTimeoutMs`. */
  HELLO_TIMEOUT: 4003,
  /** The runtime removed the agent (deregistered or drained): do not reconnect as it. */
  AGENT_GONE: 4004,
} as const;

/** The name of a WebSocket close code the server uses (`CLOSE_CODES`). */
export type CloseCodeName = keyof typeof CLOSE_CODES;

/** One line per close code, for documents and logs. */
export const CLOSE_CODE_MEANINGS: Record<CloseCodeName, string> = {
  NORMAL: 'The agent said goodbye, or the client closed.',
  GOING_AWAY: 'The server is shutting down. Reconnect later: an agent keeps its leases for the grace period.',
  INVALID_PAYLOAD: 'A text frame was not valid UTF-8 (closed by `ws`).',
  MESSAGE_TOO_BIG: 'A frame was larger than `limits.frameCutoffBytes`; `ws` closes without reading it.',
  INTERNAL_ERROR:
    'The server failed while serving the connection (the stored events of a resumed subscription could not be read). Reconnect and resume.',
  TOO_MANY_VIOLATIONS: 'Too many bad frames or rate-limited messages in a short time (a repeat offender).',
  SLOW_CONSUMER: 'The client read too slowly: its send buffer passed `limits.maxBufferedBytes`.',
  REPLACED:
    'Another connection carries this agent now: the same session reconnected with its resume secret, or (only where the operator set `server.allowTakeover`) another session took the id over. Carry on on the newer connection; do not reconnect from this one.',
  HELLO_TIMEOUT: 'An agent connection did not say hello within `limits.helloTimeoutMs`.',
  AGENT_GONE: 'The runtime removed the agent (deregistered, or drained and idle); do not reconnect as it.',
};
