import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { NodeMetrics } from './cluster-node-metrics.js';

/** What a standby answers about itself: why it is not ready. */
export interface StandbyState {
  nodeId: string;
  /** Why this node does not serve now (a standby waiting for the writer lease, named). */
  reason(): string;
}

/**
 * The port of a cluster node that is not the writer: `/healthz` 200 (the process is alive),
 * `/readyz` 503 with the reason (a load balancer sends traffic to the writer only), `/metrics`
 * the node's own metrics. Anything else, WebSocket upgrades included, gets 503: agents given every
 * node's URL move on to the next one. Closed when the node becomes the writer, which then serves
 * the full server on the same port.
 *
 * @example
 * ```ts
 * const standby = await StandbyHttp.listen(7412, '127.0.0.1', metrics, { nodeId: 'n2', reason: () => 'standby' });
 * await standby.close();
 * ```
 */
export class StandbyHttp {
  private constructor(private readonly server: Server) {}

  /** Listens on `port` (0 picks one: read it back from `port`). */
  static async listen(port: number, host: string, metrics: NodeMetrics, state: StandbyState): Promise<StandbyHttp> {
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      const send = (status: number, body: unknown) => {
        response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
        response.end(JSON.stringify(body));
      };
      if (request.method !== 'GET' && request.method !== 'HEAD')
        return send(503, { status: 'standby', problem: state.reason() });
      if (path === '/healthz') return send(200, { status: 'ok', role: 'standby', node: state.nodeId });
      if (path === '/readyz') return send(503, { status: 'standby', problem: state.reason() });
      if (path === '/metrics') {
        metrics.text().then(
          (text) => {
            response.writeHead(200, { 'Content-Type': metrics.registry.contentType });
            response.end(text);
          },
          (error: unknown) => send(500, { status: 'unavailable', problem: (error as Error).message }),
        );
        return;
      }
      return send(503, { status: 'standby', problem: state.reason() });
    });
    server.on('upgrade', (_request, socket: Duplex) => {
      socket.on('error', () => undefined);
      const body = JSON.stringify({ status: 'standby', problem: state.reason() });
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new StandbyHttp(server);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and drops open connections, so that the writer's server can take the port. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
