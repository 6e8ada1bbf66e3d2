import type { OpenAPIHono } from '@hono/zod-openapi';
import { PROTOCOL_VERSION } from '../server/protocol/codes.js';
import type { HttpEnv } from './shared/http-auth.js';

/** The OpenAPI 3.1 document of the API, generated from the routes' zod schemas. */
export function openApiDocument(app: OpenAPIHono<HttpEnv>): Record<string, unknown> {
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Troupe HTTP API',
      version: `v${PROTOCOL_VERSION}`,
      description:
        'Submit, watch and steer work on a Troupe server. Errors are `{ "error": { "code", "message", "path", "retryable" } }` with the codes of docs/errors.md. Agents connect to the WebSocket endpoint instead (docs/protocol.md).',
    },
    security: [{ bearer: [] }],
    tags: [
      { name: 'tasks' },
      { name: 'tickets' },
      { name: 'runs', description: 'Pattern runs (docs/patterns.md)' },
      { name: 'agents' },
      { name: 'events' },
      { name: 'operations' },
    ],
  }) as unknown as Record<string, unknown>;
}
