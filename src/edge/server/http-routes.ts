import type { IncomingMessage, ServerResponse } from 'node:http';
import { protocolJsonSchema } from './protocol/protocol-json-schema.js';
import { SUBPROTOCOL } from './protocol/codes.js';

export interface HealthSource {
  /** Null while healthy, else why not. */
  problem(): string | null;
  agents(): number;
  observers(): number;
  connections(): number;
}

function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  response.end(text);
}

/**
 * The plain HTTP side of the server: `GET /healthz` (200 while the runtime accepts work, 503
 * otherwise) and `GET /v1/protocol.schema.json` (protocol v1 as JSON Schema).
 */
export function httpRoutes(health: HealthSource, wsPath: string): (request: IncomingMessage, response: ServerResponse) => void {
  let schema: string | null = null;
  return (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      json(response, 405, { error: 'only GET is served here' });
      return;
    }
    if (path === '/healthz') {
      const problem = health.problem();
      json(response, problem === null ? 200 : 503, {
        status: problem === null ? 'ok' : 'unavailable',
        ...(problem === null ? {} : { problem }),
        protocol: SUBPROTOCOL,
        agents: health.agents(),
        observers: health.observers(),
        connections: health.connections(),
      });
      return;
    }
    if (path === '/v1/protocol.schema.json') {
      schema ??= JSON.stringify(protocolJsonSchema());
      response.writeHead(200, { 'Content-Type': 'application/schema+json', 'Content-Length': Buffer.byteLength(schema) });
      response.end(schema);
      return;
    }
    json(response, 404, { error: `nothing at ${path}; the WebSocket endpoint is ${wsPath}, health is /healthz` });
  };
}
