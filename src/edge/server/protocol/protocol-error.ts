import type { ProtocolErrorCode } from './codes.js';

/**
 * A refusal with a code of the WebSocket edge (`PROTOCOL_ERROR_CODES`); refusals by the
 * runtime are `TroupeError`s with the runtime's codes. Both become `error` frames.
 */
export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
