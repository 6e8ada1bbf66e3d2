import { z } from 'zod';
import { AGENT_MESSAGES } from './agent-messages.js';
import { CLOSE_CODES, PROTOCOL_ERROR_CODES, PROTOCOL_VERSION, SUBPROTOCOL } from './codes.js';
import { OBSERVER_MESSAGES } from './observer-messages.js';
import { SERVER_MESSAGES } from './server-messages.js';
import { ERROR_CODES } from '../../../core/errors.js';

/**
 * Protocol v1 as one JSON Schema document: what clients send (as they may write it, defaults
 * optional) and what the server sends. Served at `GET /v1/protocol.schema.json` and printed by
 * `troupe serve --json-schema`.
 *
 * @example
 * ```ts
 * import { protocolJsonSchema } from 'troupe/server';
 * writeFileSync('protocol.schema.json', JSON.stringify(protocolJsonSchema(), null, 2));
 * ```
 */
export function protocolJsonSchema(): Record<string, unknown> {
  const toSchema = (schemas: Record<string, z.ZodType>, io: 'input' | 'output') =>
    Object.fromEntries(
      Object.entries(schemas).map(([type, schema]) => [type, z.toJSONSchema(schema, { io, unrepresentable: 'any' })]),
    );
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `Troupe WebSocket protocol v${PROTOCOL_VERSION}`,
    subprotocol: SUBPROTOCOL,
    agentMessages: toSchema(AGENT_MESSAGES, 'input'),
    observerMessages: toSchema(OBSERVER_MESSAGES, 'input'),
    serverMessages: toSchema(SERVER_MESSAGES, 'output'),
    errorCodes: { ...ERROR_CODES, ...PROTOCOL_ERROR_CODES },
    closeCodes: CLOSE_CODES,
  };
}
