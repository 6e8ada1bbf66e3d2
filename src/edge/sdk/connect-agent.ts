import { EventEmitter } from 'node:events';
import type { TaskHandler } from '../../engine/api/task-handler.js';
import { SystemClock, type Clock } from '../../engine/clock.js';
import { CLOSE_CODES, PROTOCOL_FEATURES } from '../server/protocol/codes.js';
import type { AckMessage, ServerMessage, WelcomeMessage } from '../server/protocol/server-messages.js';
import { AgentLink, type Request } from './agent-link.js';
import { DEFAULT_RECONNECT, reconnectDelay, type ReconnectPolicy } from './reconnect-backoff.js';
import { ConnectionRefusedError, DisconnectedError, RemoteError } from './remote-error.js';
import type { SlotPool } from './slot-pool.js';
import { TaskRunner } from './task-runner.js';

/**
 * What `connectAgent` takes.
 *
 * @example
 * ```ts
 * const options: ConnectAgentOptions = {
 *   url: 'ws://127.0.0.1:7411/v1/ws', token, id: 'coder-1', capabilities: ['typescript'], capacity: 2,
 *   handler: async (task, ctx) => ({ done: task.id }),
 *   reconnect: { initialDelayMs: 250, maxDelayMs: 30_000 },
 *   onMessage: (m) => console.log(`${m.from} says`, m.body),
 * };
 * ```
 */
export interface ConnectAgentOptions {
  /**
   * The server's WebSocket endpoint, e.g. `ws://127.0.0.1:7411/v1/ws`; or the endpoints of the
   * nodes of one cluster, tried in turn: after a failed or lost connection the next one is tried;
   * or a function asked before each connection (a sharded cluster's agent follows its shard's
   * writer from node to node: `connectClusterAgent`).
   */
  url: string | readonly string[] | (() => string | readonly string[]);
  /** An agent token of the server. */
  token: string;
  /** The agent's id; reconnects use the same id to resume their leases. */
  id: string;
  capabilities?: string[];
  /** Tasks run at once. Default 1. */
  capacity?: number;
  /**
   * Slots shared with other connections of the same worker (`connectClusterAgent` passes one):
   * an assignment that finds none free is rejected as busy, and the server offers it elsewhere.
   */
  slots?: SlotPool;
  /** The same handler an in-process agent takes. */
  handler: TaskHandler;
  /** Time source for heartbeats and reconnect delays. Default: the system clock. */
  clock?: Clock;
  /** Reconnect with backoff after a lost connection; `false` gives up at once. */
  reconnect?: Partial<ReconnectPolicy> | false;
  /** Beat at the interval the server asks for. Default true; false leaves it to you (tests of staleness). */
  heartbeats?: boolean;
  /** Messages other agents send to this one. */
  onMessage?: (message: { from: string; body: unknown; ticketId: string | null }) => void;
  /** Problems that do not stop the agent (a refused report, an unreadable frame). Default: ignored. */
  onError?: (error: Error) => void;
  /** Randomness for reconnect jitter. Default `Math.random`. */
  random?: () => number;
}

/** The events a remote agent emits about its connection. */
export interface RemoteAgentEvents {
  /** A welcome arrived: the agent is (again) connected. */
  connected: [WelcomeMessage];
  /** The connection ended; the agent reconnects unless it was closed or refused. */
  disconnected: [{ code: number; reason: string }];
  /** The server took a lease back; its handler's signal has been aborted. */
  cancelled: [{ taskId: string; leaseId: string; reason: string }];
  /** The agent stopped for good (closed, replaced, removed, refused, or reconnecting turned off). */
  stopped: [Error | null];
}

/** Hello refusals that a retry cannot fix. */
const FATAL_HELLO = new Set(['E_FORBIDDEN', 'E_DUPLICATE_ID', 'E_INVALID_MESSAGE', 'E_INVALID_INPUT']);
/** How long a rate-limited request waits before it goes again, in ms. */
const RATE_LIMIT_PAUSE_MS = 50;

/**
 * An agent connected to a Troupe server over WebSocket. Created by `connectAgent`; it emits
 * `connected`, `disconnected`, `cancelled` and `stopped`.
 *
 * @example
 * ```ts
 * const agent = await connectAgent({ url, token, id: 'a1', handler });
 * agent.on('disconnected', ({ code }) => console.warn(`lost the server (${code}); reconnecting`));
 * agent.on('stopped', (error) => error && console.error(error.message));
 * process.once('SIGTERM', () => void agent.close());
 * ```
 */
export class RemoteAgent extends EventEmitter<RemoteAgentEvents> {
  readonly id: string;
  private readonly clock: Clock;
  private readonly runner: TaskRunner;
  private readonly policy: ReconnectPolicy | false;
  private link: AgentLink | null = null;
  private welcome: WelcomeMessage | null = null;
  /** The session's resume secret from the last welcome: a reconnect carries it to prove it is this session. */
  private resumeSecret: string | null = null;
  private failures = 0;
  private stopped = false;
  private beatTimer: unknown = null;
  private retryTimer: unknown = null;
  private first: { resolve: () => void; reject: (error: Error) => void } | null = null;

  constructor(private readonly options: ConnectAgentOptions) {
    super();
    this.id = options.id;
    this.clock = options.clock ?? new SystemClock();
    this.policy = options.reconnect === false ? false : { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.runner = new TaskRunner({
      capacity: options.capacity ?? 1,
      slots: options.slots,
      handler: options.handler,
      channel: { request: (frame) => this.request(frame), send: (frame) => this.send(frame) },
      maxFrameBytes: () => this.welcome?.limits.maxFrameBytes ?? 1024 * 1024,
      onError: (error) => this.reportError(error),
    });
  }

  /** True while a welcomed connection is open. */
  get connected(): boolean {
    return this.welcome !== null && this.link?.open === true;
  }

  /** Handlers running now. */
  get running(): number {
    return this.runner.running;
  }

  /**
   * Drops the connection at once and connects again, to where `url` points now, resuming the
   * leases within the grace period: for an agent whose server moved (a sharded cluster's shard
   * taken over by another node) while its old connection may hang rather than close.
   */
  reconnect(): void {
    if (!this.stopped) this.link?.terminate();
  }

  /** Connects; resolves on the first welcome, rejects when the server refuses for good. @internal */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.first = { resolve, reject };
      void this.connect();
    });
  }

  /**
   * Leaves for good: running handlers are aborted, and the server is told (`goodbye`) so that
   * what this agent held goes back to the queue at once instead of after the grace period.
   */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.halt(null);
    const link = this.link;
    if (link?.open && this.welcome) {
      const closed = link.whenClosed();
      await link.request({ type: 'goodbye' }).catch(() => undefined);
      link.close(CLOSE_CODES.NORMAL, 'goodbye');
      await closed;
    } else link?.close();
  }

  /** Drops the connection as a network failure would; the agent reconnects (tests, drills). */
  dropConnection(): void {
    this.link?.terminate();
  }

  /** Which of several urls the next connection goes to. */
  private urlTurn = 0;

  private async connect(): Promise<void> {
    this.retryTimer = null;
    if (this.stopped) return;
    let link: AgentLink;
    try {
      const given = typeof this.options.url === 'function' ? this.options.url() : this.options.url;
      const urls = typeof given === 'string' ? [given] : given;
      link = await AgentLink.open(
        urls[this.urlTurn % urls.length] ?? '',
        this.options.token,
        (frame) => this.onFrame(frame),
        (error) => this.reportError(error),
      );
    } catch (error) {
      this.retry(error as Error);
      return;
    }
    if (this.stopped) {
      link.close();
      return;
    }
    this.link = link;
    const closed = link.whenClosed();
    try {
      // The welcome itself is taken by `onFrame`, in step with the frames after it.
      const hello = {
        type: 'hello',
        agentId: this.id,
        capabilities: this.options.capabilities ?? [],
        capacity: this.options.capacity ?? 1,
        held: this.runner.held(),
      };
      const secret = this.resumeSecret === null ? {} : { resumeSecret: this.resumeSecret };
      await link.hello({ ...hello, ...secret, features: [...PROTOCOL_FEATURES] }).catch((error: unknown) => {
        // A server from before protocol features refuses the field: say hello without it.
        if (error instanceof RemoteError && error.code === 'E_INVALID_MESSAGE' && error.message.includes('features'))
          return link.hello(hello);
        throw error;
      });
    } catch (error) {
      link.close();
      if (error instanceof RemoteError && FATAL_HELLO.has(error.code)) {
        this.halt(new ConnectionRefusedError(`the server refused the hello: ${error.message}`, null, error.code));
        return;
      }
    }
    const { code, reason } = await closed;
    if (this.link === link) this.link = null;
    this.welcome = null;
    this.stopBeating();
    this.emit('disconnected', { code, reason });
    if (code === CLOSE_CODES.REPLACED || code === CLOSE_CODES.AGENT_GONE) {
      const why =
        code === CLOSE_CODES.REPLACED
          ? 'another connection took over this agent id'
          : `the runtime removed this agent (${reason})`;
      this.halt(new Error(why));
      return;
    }
    this.retry(new DisconnectedError(`the connection closed (${code}${reason ? `: ${reason}` : ''})`));
  }

  private welcomed(welcome: WelcomeMessage): void {
    this.welcome = welcome;
    if (welcome.resumeSecret !== undefined) this.resumeSecret = welcome.resumeSecret;
    if (welcome.features.includes('batch')) this.link?.startBatching(welcome.limits.maxFrameBytes);
    this.failures = 0;
    this.runner.welcomed(welcome);
    this.startBeating(welcome.heartbeatIntervalMs);
    this.emit('connected', welcome);
    this.first?.resolve();
    this.first = null;
  }

  private retry(error: Error): void {
    if (this.stopped) return;
    if (error instanceof ConnectionRefusedError || this.policy === false) {
      this.halt(error);
      return;
    }
    this.urlTurn += 1;
    const delay = reconnectDelay(this.policy, this.failures++, this.options.random);
    this.retryTimer = this.clock.schedule(delay, () => void this.connect());
  }

  private halt(error: Error | null): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retryTimer !== null) this.clock.clear(this.retryTimer);
    this.retryTimer = null;
    this.stopBeating();
    this.runner.abortAll(error ? error.message : 'the agent closed');
    if (this.first) {
      this.first.reject(error ?? new Error('the agent closed before it connected'));
      this.first = null;
    } else if (error) this.reportError(error);
    this.emit('stopped', error);
  }

  private onFrame(frame: ServerMessage): void {
    switch (frame.type) {
      case 'welcome':
        this.welcomed(frame);
        return;
      case 'assign':
        this.runner.assign(frame);
        return;
      case 'cancel':
        this.runner.cancel(frame);
        this.emit('cancelled', { taskId: frame.taskId, leaseId: frame.leaseId, reason: frame.reason });
        return;
      case 'message':
        this.options.onMessage?.({ from: frame.from, body: frame.body, ticketId: frame.ticketId });
        return;
      case 'error':
        if (frame.ref === null) this.reportError(new RemoteError(frame.code, frame.message, frame.details));
        return;
      default:
        return;
    }
  }

  /** A request on the welcomed connection; rate-limited ones go again after a pause. */
  private request(frame: Request): Promise<AckMessage> {
    const link = this.link;
    if (!link || !this.welcome) return Promise.reject(new DisconnectedError('not connected'));
    return link.request(frame).catch((error: unknown) => {
      if (error instanceof RemoteError && error.code === 'E_RATE_LIMITED' && !this.stopped) {
        return new Promise<void>((resolve) => this.clock.schedule(RATE_LIMIT_PAUSE_MS, resolve)).then(() =>
          this.request(frame),
        );
      }
      throw error;
    });
  }

  private send(frame: Request): boolean {
    return this.welcome !== null && this.link !== null && this.link.send(frame);
  }

  private startBeating(intervalMs: number): void {
    this.stopBeating();
    if (this.options.heartbeats === false) return;
    const beat = () => {
      this.send({ type: 'heartbeat' });
      this.beatTimer = this.clock.schedule(intervalMs, beat);
    };
    this.beatTimer = this.clock.schedule(intervalMs, beat);
  }

  private stopBeating(): void {
    if (this.beatTimer !== null) this.clock.clear(this.beatTimer);
    this.beatTimer = null;
  }

  private reportError(error: Error): void {
    this.options.onError?.(error);
  }
}

/**
 * Connects an agent to a Troupe server. The handler is the same as for in-process agents
 * (`runtime.agents.register`): it gets the task view and a context with `signal`,
 * `heartbeat()`, `progress()`, `artifact()`, `quality()` and `message()`. The agent beats,
 * reconnects with backoff (resuming its leases within the server's grace period), and aborts a
 * handler's signal when its task is cancelled. Resolves once the server has welcomed it; while
 * the server cannot be reached it keeps trying (with backoff), and it rejects only when the server
 * refuses it for good (`ConnectionRefusedError`) or when `reconnect` is false and the first try
 * fails.
 *
 * @example
 * ```ts
 * import { connectAgent } from 'troupe/sdk';
 *
 * const agent = await connectAgent({
 *   url: 'ws://127.0.0.1:7411/v1/ws',
 *   token: process.env.TROUPE_AGENT_TOKEN!,
 *   id: 'coder-1',
 *   capabilities: ['typescript'],
 *   handler: async (task, ctx) => {
 *     ctx.progress(0.5, 'half way');
 *     return { ok: true, input: task.input };
 *   },
 * });
 * // ...
 * await agent.close();
 * ```
 */
export async function connectAgent(options: ConnectAgentOptions): Promise<RemoteAgent> {
  const agent = new RemoteAgent(options);
  await agent.start();
  return agent;
}
