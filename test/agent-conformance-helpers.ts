import { WebSocket } from 'ws';
import { createRuntime, type Runtime, type RuntimeOptions } from '../src/runtime.js';
import { SimulatedClock } from '../src/engine/clock.js';
import type { EventFilter, TroupeEvent } from '../src/engine/event-bus.js';
import { startServer, type TroupeServer } from '../src/edge/server/server.js';
import type { ServerOptions } from '../src/edge/server/shared/options.js';
import { SUBPROTOCOL } from '../src/edge/server/protocol/codes.js';

/**
 * Shared kit of the WebSocket tests: a runtime on a simulated clock with a server on a
 * loopback port, and a raw `ws` client that knows nothing of the SDK. Waits are on events
 * (frames, runtime events), never on sleeps.
 */

export const AGENT_TOKEN = 'agent-token-for-tests-0001';
export const OBSERVER_TOKEN = 'observer-token-for-tests-01';

export interface TestServer {
  runtime: Runtime;
  server: TroupeServer;
  clock: SimulatedClock;
  url: string;
  close(): Promise<void>;
}

export async function startTestServer(
  options: { server?: ServerOptions; runtime?: RuntimeOptions; clock?: SimulatedClock } = {},
): Promise<TestServer> {
  const clock = options.clock ?? new SimulatedClock(1_000_000);
  const runtime = createRuntime({
    clock,
    retry: { backoff: { baseMs: 100, factor: 2, capMs: 10_000, jitter: 0 } },
    ...options.runtime,
  });
  const server = await startServer(runtime, {
    port: 0,
    agentTokens: [AGENT_TOKEN],
    observerTokens: [OBSERVER_TOKEN],
    ...options.server,
  });
  return {
    runtime,
    server,
    clock,
    url: server.url,
    async close() {
      await server.close();
      await runtime.stop();
    },
  };
}

/** Resolves with the first committed event matching the filter (and predicate). */
export function nextEvent(
  runtime: Runtime,
  filter: EventFilter,
  predicate: (e: TroupeEvent) => boolean = () => true,
): Promise<TroupeEvent> {
  return new Promise((resolve) => {
    const off = runtime.events.subscribe(filter, (event) => {
      if (!predicate(event)) return;
      off();
      resolve(event);
    });
  });
}

/** Resolves once `count` events matching the filter have been committed. */
export function countEvents(runtime: Runtime, filter: EventFilter, count: number): Promise<TroupeEvent[]> {
  return new Promise((resolve) => {
    const seen: TroupeEvent[] = [];
    const off = runtime.events.subscribe(filter, (event) => {
      seen.push(event);
      if (seen.length === count) {
        off();
        resolve(seen);
      }
    });
  });
}

export type Frame = { type: string; ref?: unknown } & Record<string, unknown>;

/** A WebSocket client that speaks the protocol by hand, from the document alone. */
export class RawClient {
  private readonly buffer: Frame[] = [];
  private readonly waiters: Array<{ test: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  private nextRef = 1;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => this.receive(JSON.parse(String(data)) as Frame));
    this.closed = new Promise((resolve) =>
      socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
  }

  static open(
    url: string,
    token: string | null,
    options: { protocols?: string[]; query?: boolean } = {},
  ): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const target = token !== null && options.query ? `${url}?token=${encodeURIComponent(token)}` : url;
      const headers: Record<string, string> =
        token !== null && !options.query ? { Authorization: `Bearer ${token}` } : {};
      const socket = new WebSocket(target, options.protocols ?? [SUBPROTOCOL], { headers });
      socket.once('open', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Opens an agent connection and says hello; resolves with the client and its welcome. */
  static async agent(
    url: string,
    hello: Record<string, unknown>,
    token = AGENT_TOKEN,
  ): Promise<{ client: RawClient; welcome: Frame }> {
    const client = await RawClient.open(url, token);
    const welcome = await client.request({ type: 'hello', ...hello });
    if (welcome.type !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(welcome)}`);
    return { client, welcome };
  }

  /** Every frame received and not yet taken by `next`. */
  get pending(): Frame[] {
    return [...this.buffer];
  }

  /** The next frame that passes the test (already received, or the next to arrive). */
  next(test: (f: Frame) => boolean = () => true): Promise<Frame> {
    const index = this.buffer.findIndex(test);
    if (index >= 0) return Promise.resolve(this.buffer.splice(index, 1)[0] as Frame);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  nextOfType(type: string): Promise<Frame> {
    return this.next((f) => f.type === type);
  }

  send(frame: object | string | Buffer, options: { binary?: boolean } = {}): void {
    const data = typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame);
    this.socket.send(data, { binary: options.binary ?? false });
  }

  /** Sends with a fresh ref and resolves with the answer (ack, error or welcome) carrying it. */
  request(frame: Record<string, unknown>): Promise<Frame> {
    const ref = this.nextRef++;
    this.send({ ...frame, ref });
    return this.next((f) => f.ref === ref);
  }

  close(): Promise<{ code: number; reason: string }> {
    this.socket.close();
    return this.closed;
  }

  private receive(frame: Frame): void {
    const index = this.waiters.findIndex((w) => w.test(frame));
    if (index >= 0) {
      const [waiter] = this.waiters.splice(index, 1);
      waiter?.resolve(frame);
    } else this.buffer.push(frame);
  }
}

/** The HTTP status of a refused upgrade. */
export function upgradeStatus(
  url: string,
  headers: Record<string, string>,
  protocols: string[] = [SUBPROTOCOL],
): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, { headers });
    socket.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
      socket.terminate();
    });
    socket.once('open', () => {
      socket.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    socket.on('error', () => undefined);
  });
}
