/**
 * The WebSocket server of Troupe, behind the `troupe/server` subpath so that importing the
 * engine never loads `ws`.
 *
 * @example
 * ```ts
 * import { createRuntime } from 'troupe';
 * import { startServer } from 'troupe/server';
 * const server = await startServer(createRuntime(), { port: 7411, agentTokens: [token] });
 * ```
 */
export { TroupeServer, startServer } from './server.js';
export type { ServerOptions, AgentTokenSpec } from './shared/options.js';
export { protocolJsonSchema } from './protocol/protocol-json-schema.js';
export {
  PROTOCOL_VERSION,
  SUBPROTOCOL,
  PROTOCOL_ERROR_CODES,
  CLOSE_CODES,
  CLOSE_CODE_MEANINGS,
} from './protocol/codes.js';
export type { ProtocolErrorCode, CloseCodeName } from './protocol/codes.js';
export { AGENT_MESSAGES } from './protocol/agent-messages.js';
export type { AgentMessage, AgentMessageInput, HelloMessage } from './protocol/agent-messages.js';
export { OBSERVER_MESSAGES } from './protocol/observer-messages.js';
export type { ObserverMessage } from './protocol/observer-messages.js';
export { SERVER_MESSAGES } from './protocol/server-messages.js';
export type {
  ServerMessage,
  WelcomeMessage,
  AssignMessage,
  CancelMessage,
  DeliveredMessage,
  EventMessage,
  AckMessage,
  ErrorMessage,
} from './protocol/server-messages.js';
