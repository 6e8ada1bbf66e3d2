import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable, type Duplex } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import type { PostgresStore } from '../../../engine/store/postgres-store.js';
import { resolveServerOptions, type ServerOptions } from '../../server/shared/options.js';
import { TokenAuth } from '../../server/shared/token-auth.js';
import type { NodeMetrics } from './cluster-node-metrics.js';
import { routeRequest } from './shard-routing.js';

/** A shard this node writes: where its server's HTTP API listens, and the node's key to it. */
export interface LocalShard {
  httpUrl: string;
  token: string;
}

/** What the front of a sharded node needs. */
export interface ShardFrontOptions {
  port: number;
  host: string;
  nodeId: string;
  count: number;
  /** The node's server options: its tokens check every request here. */
  server: ServerOptions;
  metrics: NodeMetrics;
  /** Reads the shard map and the shards of stored actors. */
  registry: PostgresStore;
  /** The shard `k` if this node serves it now. */
  local(k: number): LocalShard | undefined;
  localShards(): number[];
}

/** Marks a request one front passed to another: it is served there or refused, never passed on again. */
const ROUTED = 'x-troupe-routed';
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host', 'upgrade']);

/**
 * The port of a node of a sharded cluster (`--port`). It answers `/healthz`, `/readyz` (200 while
 * the node writes at least one shard), `/metrics` and `GET /v1/cluster/shards` (the shard map:
 * which node writes which shard and where its agents connect; any token), and routes the HTTP API
 * under `/v1`: a request is checked against the node's tokens here, then served by the shard it
 * belongs to (`routeRequest`): by one of this node's shards, or passed once to the node that
 * writes it (503, retryable, while a shard has no writer, during a failover). Reads go to any
 * shard: every shard's server reads the whole database. WebSocket upgrades get 503 with the way
 * to the shards' endpoints: agents connect to every shard (`connectClusterAgent`).
 *
 * @example
 * ```ts
 * const front = await ShardFrontHttp.listen({ port: 7411, host: '127.0.0.1', nodeId: 'n1', count: 4, server, metrics, registry, local, localShards });
 * ```
 */
export class ShardFrontHttp {
  private turn = 0;
  private boundUrl: string | undefined;

  private constructor(
    private readonly server: Server,
    private readonly options: ShardFrontOptions,
    private readonly auth: TokenAuth,
    private readonly maxBodyBytes: number,
  ) {}

  static async listen(options: ShardFrontOptions): Promise<ShardFrontHttp> {
    const resolved = resolveServerOptions(options.server);
    const auth = new TokenAuth(resolved.agentTokens, resolved.observerTokens, resolved.clientTokens);
    const server = createServer();
    const front = new ShardFrontHttp(server, options, auth, resolved.maxBodyBytes);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      front.handle(request, response).catch((error: unknown) => {
        // The database or the node that writes the shard did not answer: worth trying again.
        if (!response.headersSent) {
          response.setHeader('Retry-After', '1');
          send(response, 503, problem('E_RUNTIME_STOPPED', (error as Error).message, true));
        } else response.destroy();
      });
    });
    server.on('upgrade', (_request, socket: Duplex) => {
      socket.on('error', () => undefined);
      const body = JSON.stringify(
        problem(
          'E_NOT_FOUND',
          'a sharded cluster serves agents per shard: read GET /v1/cluster/shards and connect to every shard (connectClusterAgent)',
          false,
        ),
      );
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    void front.url; // known from now on, closed or not
    return front;
  }

  /** The node's HTTP base URL, `http://host:port` (kept after `close`). */
  get url(): string {
    if (this.boundUrl === undefined) {
      const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
      this.boundUrl = `http://${host}:${(this.server.address() as AddressInfo).port}`;
    }
    return this.boundUrl;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { nodeId, metrics, registry, count } = this.options;
    const url = new URL(request.url ?? '/', 'http://front');
    const path = url.pathname;
    const shards = this.options.localShards();
    if (path === '/healthz') return send(response, 200, { status: 'ok', node: nodeId, shards });
    if (path === '/readyz') {
      return shards.length > 0
        ? send(response, 200, { status: 'ready', node: nodeId, shards })
        : send(response, 503, { status: 'standby', problem: `node ${nodeId} writes no shard yet` });
    }
    if (path === '/metrics') {
      response.writeHead(200, { 'Content-Type': metrics.registry.contentType });
      return void response.end(await metrics.text());
    }
    if (!path.startsWith('/v1/')) {
      // The dashboard's pages and assets: any shard's server, as it answers them itself.
      const any = shards.length > 0 ? this.options.local(shards[this.turn++ % shards.length]!) : undefined;
      if (any === undefined)
        return send(response, 503, problem('E_RUNTIME_STOPPED', `node ${nodeId} writes no shard yet`, true));
      return proxy(request, response, `${any.httpUrl}${path}${url.search}`, undefined, request.headers.authorization);
    }
    const token =
      /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1] ?? url.searchParams.get('token');
    const principal = this.auth.authenticate(token ?? undefined);
    if (principal === null) {
      return send(response, 401, problem('E_UNAUTHORIZED', 'a valid token is required: Authorization: Bearer <token>'));
    }
    if (path === '/v1/cluster/shards') {
      const [endpoints, nodes] = await Promise.all([registry.shardEndpoints(), registry.listNodes()]);
      return send(response, 200, {
        shards: count,
        endpoints: endpoints.map(({ shard, nodeId: node, epoch, url: ws, frontUrl }) => ({
          shard,
          node,
          epoch,
          url: ws,
          frontUrl,
        })),
        nodes: nodes.map((n) => ({ id: n.id, url: n.url, role: n.role, heartbeatAgeMs: n.now - n.heartbeatAt })),
      });
    }
    const method = request.method ?? 'GET';
    const reading = method === 'GET' || method === 'HEAD';
    if (principal.role === 'agent')
      return send(response, 403, problem('E_FORBIDDEN', 'an agent token cannot use the HTTP API; use a client token'));
    if (principal.role === 'observer' && !reading)
      return send(response, 403, problem('E_FORBIDDEN', 'an observer token is read-only'));
    const body = reading ? undefined : await readBody(request, this.maxBodyBytes);
    if (body === null)
      return send(response, 413, problem('E_PAYLOAD_TOO_LARGE', `the body is larger than ${this.maxBodyBytes} bytes`));
    let parsed: unknown;
    try {
      parsed = body === undefined || body.length === 0 ? undefined : JSON.parse(body.toString('utf8'));
    } catch {
      parsed = undefined; // the shard's server answers E_NOT_JSON
    }
    const route = await routeRequest(
      method,
      path,
      parsed,
      count,
      (ids) => registry.actorShards(ids),
      Math.floor(Math.random() * count),
    );
    if (route.kind === 'refused') return send(response, route.status, problem(route.code, route.message));
    let target: number | undefined;
    if (route.kind === 'shard') target = route.shard;
    else if (shards.length > 0) target = shards[this.turn++ % shards.length];
    const here = target === undefined ? undefined : this.options.local(target);
    if (here !== undefined) {
      return proxy(request, response, `${here.httpUrl}${path}${url.search}`, body, `Bearer ${here.token}`);
    }
    // Another node writes it: passed on once, with the caller's own token.
    const endpoints = await registry.shardEndpoints();
    const owner = endpoints.find((e) => (target === undefined ? true : e.shard === target));
    if (owner === undefined || request.headers[ROUTED] !== undefined) {
      response.setHeader('Retry-After', '1');
      return send(
        response,
        503,
        problem(
          'E_RUNTIME_STOPPED',
          `shard ${target ?? '(any)'} has no writer at the moment (a node is taking it over); try again`,
          true,
        ),
      );
    }
    return proxy(request, response, `${owner.frontUrl}${path}${url.search}`, body, request.headers.authorization);
  }
}

function problem(code: string, message: string, retryable = false) {
  return { error: { code, message, path: [], retryable } };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  response.end(JSON.stringify(body));
}

/** The body, or null past `limit` bytes. */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Passes a request on and streams the answer back (server-sent events included). */
async function proxy(
  request: IncomingMessage,
  response: ServerResponse,
  target: string,
  body: Buffer | undefined,
  authorization: string | undefined,
): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (HOP_HEADERS.has(name) || value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  if (authorization !== undefined) headers.set('authorization', authorization);
  headers.set(ROUTED, '1');
  const abort = new AbortController();
  response.once('close', () => abort.abort());
  // A node paused or cut off answers nothing: give up on its answer's head after a while.
  const patience = setTimeout(() => abort.abort(new Error(`no answer from ${new URL(target).host} in 10 s`)), 10_000);
  const answer = await fetch(target, {
    method: request.method ?? 'GET',
    headers,
    ...(body !== undefined && body.length > 0 ? { body } : {}),
    signal: abort.signal,
    redirect: 'manual',
  }).finally(() => clearTimeout(patience));
  const out: Record<string, string> = {};
  answer.headers.forEach((value, name) => {
    if (!HOP_HEADERS.has(name) && name !== 'content-encoding') out[name] = value;
  });
  response.writeHead(answer.status, out);
  if (answer.body === null) return void response.end();
  Readable.fromWeb(answer.body as ReadableStream).pipe(response);
}
