import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Runtime } from '../../runtime.js';
import { AgentRequests } from './agent-requests.js';
import { AgentSessions } from './agent-sessions.js';
import { Connection, type ClientMessage } from './connection.js';
import { createHttpApp, httpListener } from '../http/http-app.js';
import { EventStreams } from '../http/routes/sse-streams.js';
import { ObserverRequests } from './observer-requests.js';
import {
  LIVE_SERVER_OPTIONS,
  resolveServerOptions,
  type LiveServerOptions,
  type ResolvedServerOptions,
  type ServerOptions,
} from './shared/options.js';
import type { AgentRequest } from './protocol/agent-messages.js';
import { CLOSE_CODES, SUBPROTOCOL } from './protocol/codes.js';
import type { ObserverMessage } from './protocol/observer-messages.js';
import { TokenAuth } from './shared/token-auth.js';
import { keepAlive } from './keep-alive.js';
import { decideUpgrade, refuseUpgrade, type SocketPrincipal } from './upgrade.js';

/**
 * The WebSocket server of a runtime: agents and observers connect at one endpoint, with a
 * health check beside it. Start it with `startServer(runtime, options)` (from `troupe/server`).
 *
 * @example
 * ```ts
 * import { createRuntime } from 'troupe';
 * import { startServer } from 'troupe/server';
 *
 * const runtime = createRuntime();
 * const server = await startServer(runtime, { port: 0, agentTokens: [process.env.AGENT_TOKEN!] });
 * console.log(`agents connect to ${server.url}`);
 * // ...
 * await server.close(); // leases stay stored; agents resume after the next start
 * await runtime.stop();
 * ```
 */
export class TroupeServer {
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  /** Open connections per token, for `maxConnectionsPerToken`. */
  private readonly perToken = new Map<string, number>();
  private readonly sessions: AgentSessions;
  private readonly agentRequests: AgentRequests;
  private readonly observerRequests: ObserverRequests;
  private readonly stopMessages: () => void;
  private readonly streams: EventStreams;
  private closing: Promise<void> | null = null;
  private boundPort = 0;
  private recovered = false;
  private readonly auth: TokenAuth;

  private constructor(
    private readonly runtime: Runtime,
    readonly options: ResolvedServerOptions,
    private readonly logger: Logger,
  ) {
    const auth = new TokenAuth(options.agentTokens, options.observerTokens, options.clientTokens);
    this.auth = auth;
    this.sessions = new AgentSessions(runtime, options, logger);
    this.agentRequests = new AgentRequests(runtime, this.sessions);
    this.observerRequests = new ObserverRequests(runtime, options.maxSubscriptions, logger);
    this.stopMessages = runtime.events.subscribe({ types: ['agent.message', 'agent.gone'] }, (event) => {
      if (event.type === 'agent.message') this.sessions.deliver(event);
      else if (event.agentId !== null) this.sessions.gone(event.agentId, String(event.data.reason ?? 'removed'));
    });
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: options.frameCutoffBytes,
      // Compression costs CPU per frame and opens the door to decompression bombs.
      perMessageDeflate: false,
      handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    // The HTTP API (docs/api.md) and the health routes share the port with the WebSocket endpoint.
    this.streams = new EventStreams(
      runtime,
      runtime.clock,
      { maxBufferedBytes: options.maxBufferedBytes, maxStreams: options.maxConnections, heartbeatMs: 15_000 },
      logger,
    );
    const app = createHttpApp({
      runtime,
      options,
      auth,
      logger,
      streams: this.streams,
      health: {
        problem: () => (this.closing ? 'shutting down' : (runtime.core.host.failed?.message ?? null)),
        recovered: () => this.recovered,
        agents: () => this.sessions.connectedCount(),
        observers: () => this.observerRequests.count(),
        connections: () => this.connections.size,
      },
    });
    this.http = createServer(httpListener(app));
    this.http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(request, socket, head, auth),
    );
    this.http.on('clientError', (_error, socket) => socket.destroy());
  }

  /** Starts the runtime (if need be) and listens. */
  static async start(runtime: Runtime, options: ServerOptions = {}): Promise<TroupeServer> {
    const resolved = resolveServerOptions(options);
    const logger = (options.logger ?? runtime.logger).child({ component: 'server' });
    const server = new TroupeServer(runtime, resolved, logger);
    // WebSocket agents of an earlier process get their grace period to come back. Adopted as
    // the store is read when the runtime has not started yet, before anything is dispatched
    // (an offer to an agent with no transport would count as a lost attempt); else right after.
    runtime.core.onRecovered((actors) => server.sessions.adopt(actors));
    await runtime.start();
    server.recovered = true;
    server.sessions.adopt(runtime.core.host.liveActors());
    await new Promise<void>((resolve, reject) => {
      server.http.once('error', reject);
      server.http.listen(resolved.port, resolved.host, () => {
        server.http.off('error', reject);
        // Later errors (accept failing under EMFILE, say) are logged: unheard, they would end the process.
        server.http.on('error', (error) => logger.error({ err: error }, 'server error'));
        server.boundPort = (server.http.address() as AddressInfo).port;
        resolve();
      });
    });
    logger.info({ url: server.url }, 'listening');
    return server;
  }

  /** The port listened on (useful with `port: 0`). */
  get port(): number {
    return this.boundPort;
  }

  get host(): string {
    return this.options.host;
  }

  /** The WebSocket endpoint, e.g. `ws://127.0.0.1:7411/v1/ws`. */
  get url(): string {
    return `ws://${hostForUrl(this.options.host)}:${this.port}${this.options.path}`;
  }

  /** The HTTP base, e.g. `http://127.0.0.1:7411`. */
  get httpUrl(): string {
    return `http://${hostForUrl(this.options.host)}:${this.port}`;
  }

  /** Agents with a welcomed connection now. */
  connectedAgents(): number {
    return this.sessions.connectedCount();
  }

  /**
   * Stops listening and closes every connection with 1001 (going away). Nobody is marked
   * lost: leases stay as stored, and agents that reconnect to the next server within its grace
   * period resume their tasks. Does not stop the runtime.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.stopMessages();
    this.sessions.close();
    this.streams.closeAll();
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    const open = [...this.connections];
    const gone = Promise.all(open.map((c) => closedSocket(c.socket)));
    for (const connection of open) connection.close(CLOSE_CODES.GOING_AWAY, 'server shutting down');
    let timer: unknown;
    const timeout = new Promise<void>((resolve) => {
      timer = this.runtime.clock.schedule(this.options.shutdownTimeoutMs, resolve);
    });
    await Promise.race([gone, timeout]);
    this.runtime.clock.clear(timer);
    for (const connection of open) connection.terminate();
    this.http.closeAllConnections();
    await closed;
    this.logger.info('closed');
  }

  /**
   * Changes what can change while serving (a configuration reload), checked whole before any of
   * it applies: the tokens (WebSocket connections whose token is gone or changed role are closed
   * with 1008; HTTP requests are checked against the new set at once) and the limits in
   * `LIVE_SERVER_OPTIONS`, which new connections and sessions read from then on. Anything else
   * needs a restart.
   */
  reload(options: LiveServerOptions): void {
    const { agentTokens, observerTokens, clientTokens, tokenNames, ...rest } = this.options;
    const next = resolveServerOptions({ ...rest, agentTokens, observerTokens, clientTokens, tokenNames, ...options });
    this.auth.replace(next.agentTokens, next.observerTokens, next.clientTokens);
    const target = this.options as unknown as Record<string, unknown>;
    for (const key of ['agentTokens', 'observerTokens', 'clientTokens', 'tokenNames', ...LIVE_SERVER_OPTIONS] as const)
      target[key] = next[key];
    for (const connection of this.connections) {
      if (this.auth.authenticate(connection.principal.token)?.role !== connection.role)
        connection.close(1008, 'token revoked');
    }
  }

  private onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, auth: TokenAuth): void {
    socket.on('error', (error) => this.logger.debug({ err: error }, 'upgrade socket error'));
    if (this.closing) {
      refuseUpgrade(socket, {
        ok: false,
        status: 503,
        reason: 'Service Unavailable',
        message: 'the server is shutting down',
      });
      return;
    }
    const decision = decideUpgrade(
      request,
      this.options.path,
      auth,
      this.connections.size < this.options.maxConnections,
      (token) => (this.perToken.get(token) ?? 0) < this.options.maxConnectionsPerToken,
    );
    if (!decision.ok) {
      refuseUpgrade(socket, decision);
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.onConnection(ws, socket, decision.principal));
  }

  private onConnection(ws: WebSocket, raw: Duplex, principal: SocketPrincipal): void {
    const connection = new Connection(
      ws,
      raw,
      principal,
      this.options,
      this.runtime.clock,
      {
        onMessage: (c, message) => this.route(c, message),
        onClose: (c) => {
          this.connections.delete(c);
          const left = (this.perToken.get(c.principal.token) ?? 1) - 1;
          if (left > 0) this.perToken.set(c.principal.token, left);
          else this.perToken.delete(c.principal.token);
          stopPinging?.();
          if (c.role === 'agent') this.sessions.disconnected(c);
          else this.observerRequests.release(c);
        },
      },
      this.logger,
    );
    this.connections.add(connection);
    this.perToken.set(principal.token, (this.perToken.get(principal.token) ?? 0) + 1);
    // Observers say nothing unless asked: a dead one would hold its slot and its subscriptions
    // for ever. Agents need no ping: their heartbeats and the stale timer cover them.
    let stopPinging: (() => void) | undefined;
    if (principal.role === 'observer' && connection.open) {
      stopPinging = keepAlive(connection, this.runtime.clock, this.options.observerPingIntervalMs, this.logger);
    }
    if (principal.role === 'agent') this.sessions.expectHello(connection);
  }

  private route(connection: Connection, message: ClientMessage): void {
    if (connection.role === 'agent') this.agentRequests.handle(connection, message as AgentRequest);
    else this.observerRequests.handle(connection, message as ObserverMessage);
  }
}

function closedSocket(socket: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.readyState === socket.CLOSED) resolve();
    else socket.once('close', () => resolve());
  });
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts a WebSocket server for a runtime.
 *
 * @example
 * ```ts
 * const server = await startServer(runtime, { port: 0, agentTokens: ['a-long-random-agent-token'] });
 * ```
 */
export function startServer(runtime: Runtime, options: ServerOptions = {}): Promise<TroupeServer> {
  return TroupeServer.start(runtime, options);
}
