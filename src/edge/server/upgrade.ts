import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { SUBPROTOCOL } from './protocol/codes.js';
import { tokenOf, type Principal, type TokenAuth } from './shared/token-auth.js';

/** Who may hold a WebSocket connection: agents and observers (clients use HTTP). */
export type SocketPrincipal = Exclude<Principal, { role: 'client' }>;

export type UpgradeDecision =
  | { ok: true; principal: SocketPrincipal }
  | { ok: false; status: number; reason: string; message: string; headers?: Record<string, string> };

function offeredProtocols(request: IncomingMessage): string[] {
  const header = request.headers['sec-websocket-protocol'];
  if (typeof header !== 'string') return [];
  return header.split(',').map((p) => p.trim());
}

/**
 * Decides an upgrade before it completes: the path, the subprotocol, the connection budget
 * and the token. Nothing of a refused client reaches a WebSocket handler.
 */
export function decideUpgrade(
  request: IncomingMessage,
  path: string,
  auth: TokenAuth,
  room: boolean,
  /** Whether the token may open one more connection (`maxConnectionsPerToken`). */
  roomFor: (token: string) => boolean = () => true,
): UpgradeDecision {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname !== path)
    return { ok: false, status: 404, reason: 'Not Found', message: `the WebSocket endpoint is ${path}` };
  if (!offeredProtocols(request).includes(SUBPROTOCOL)) {
    return {
      ok: false,
      status: 400,
      reason: 'Bad Request',
      message: `offer the subprotocol "${SUBPROTOCOL}" (Sec-WebSocket-Protocol)`,
    };
  }
  if (!room) return { ok: false, status: 503, reason: 'Service Unavailable', message: 'too many connections' };
  const principal = auth.authenticate(tokenOf(request, url));
  if (!principal) {
    return {
      ok: false,
      status: 401,
      reason: 'Unauthorized',
      message: 'a valid token is required (Authorization: Bearer <token>, or ?token=)',
      headers: { 'WWW-Authenticate': 'Bearer realm="troupe"' },
    };
  }
  if (principal.role === 'client') {
    return {
      ok: false,
      status: 403,
      reason: 'Forbidden',
      message: 'a client token cannot connect as an agent or an observer; clients use the HTTP API under /v1',
    };
  }
  if (!roomFor(principal.token)) {
    return {
      ok: false,
      status: 429,
      reason: 'Too Many Requests',
      message: 'too many connections with this token (limits.maxConnectionsPerToken)',
    };
  }
  return { ok: true, principal };
}

/** Answers a refused upgrade with a plain HTTP response and destroys the socket. */
export function refuseUpgrade(socket: Duplex, decision: Extract<UpgradeDecision, { ok: false }>): void {
  const body = JSON.stringify({ error: decision.message, status: decision.status });
  const headers = {
    Connection: 'close',
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    ...decision.headers,
  };
  const head = [
    `HTTP/1.1 ${decision.status} ${decision.reason}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}
