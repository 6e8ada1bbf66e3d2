import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import { TroupeError } from '../../core/errors.js';
import type { Clock } from '../../engine/clock.js';
import { peekRef, readBatched, readFrame, type Ref } from './frame-reader.js';
import type { AgentRequest, BatchMessage } from './protocol/agent-messages.js';
import { CLOSE_CODES, type ProtocolErrorCode } from './protocol/codes.js';
import type { ObserverMessage } from './protocol/observer-messages.js';
import type { ResolvedServerOptions } from './shared/options.js';
import { ProtocolError } from './protocol/protocol-error.js';
import { batchFrames } from './batch-frames.js';
import { coalesceWrites } from './coalesce-writes.js';
import { TokenBucket } from './shared/token-bucket.js';
import type { SocketPrincipal as Principal } from './upgrade.js';

/** A message as the hooks get it: a batch arrives as the messages it carries, one by one. */
export type ClientMessage = AgentRequest | ObserverMessage;

export interface ConnectionHooks {
  /** A checked message arrived. Answer it with `ack` or `fail`. */
  onMessage(connection: Connection, message: ClientMessage): void;
  /** The connection ended (called once, as soon as the server stops serving it). */
  onClose(connection: Connection, code: number): void;
}

let nextId = 1;

/**
 * One client connection, whatever its role: reads frames into checked messages, answers with
 * acks and errors, and guards the limits (message rate, repeated bad frames, send buffer).
 * What the messages mean is for the hooks; this class knows only frames.
 */
export class Connection {
  readonly id = nextId++;
  private ended = false;
  private readonly rate: TokenBucket | null;
  private readonly violations: TokenBucket;
  private readonly beforeSend: () => void;
  /** With the `batch` feature: frames sent in this turn of the event loop, sent as one at its end. */
  private batching = false;
  private outbox: string[] = [];
  private outboxBytes = 0;

  constructor(
    readonly socket: WebSocket,
    /** The TCP socket under `socket`, to coalesce writes. */
    raw: Duplex,
    readonly principal: Principal,
    private readonly options: ResolvedServerOptions,
    clock: Clock,
    private readonly hooks: ConnectionHooks,
    private readonly logger: Logger,
  ) {
    const rate = options.rateLimit;
    this.rate = rate === false ? null : new TokenBucket(clock, rate.burst, rate.messagesPerSecond / 1000);
    const v = options.maxViolations;
    this.violations = new TokenBucket(clock, v.count, v.count / v.windowMs);
    this.beforeSend = coalesceWrites(raw);
    socket.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    socket.on('close', (code) => this.end(code));
    // Bad network input is an event, never a crash: ws reports it here and closes by itself.
    socket.on('error', (error) => this.logger.debug({ err: error, connection: this.id }, 'connection error'));
  }

  get role(): Principal['role'] {
    return this.principal.role;
  }

  get open(): boolean {
    return !this.ended;
  }

  /**
   * From now on, frames sent in one turn of the event loop leave as one `batch` frame (the
   * client asked for the `batch` feature and its welcome has gone out), and it may send batches.
   */
  startBatching(): void {
    this.batching = true;
  }

  /**
   * Room for `count` more messages in the rate limit: the server gives it for each assignment it
   * sends (its accept and its report), so an agent's answers to work it was given never count
   * against the limit; only messages nobody asked for do.
   */
  allow(count: number): void {
    // At most what the largest agent (capacity 10,000) could owe for its answers.
    this.rate?.give(count, 20_000);
  }

  /** Sends an object as one JSON text frame. */
  send(frame: object): boolean {
    return this.sendText(JSON.stringify(frame));
  }

  /**
   * Sends a frame already serialised. A client that lets its unsent data pass the limit is
   * dropped (4001) rather than buffered without bound: a slow reader never slows the rest.
   */
  sendText(text: string): boolean {
    if (!this.withinSendLimit(text.length)) return false;
    if (this.batching) {
      if (this.outbox.length === 0) setImmediate(this.flush);
      this.outbox.push(text);
      this.outboxBytes += text.length;
      return true;
    }
    this.beforeSend();
    this.socket.send(text);
    return true;
  }

  /** Sends what waits in the outbox: one frame as it is, several as batches of at most `maxFrameBytes`. */
  private readonly flush = (): void => {
    const texts = this.outbox;
    if (texts.length === 0) return;
    this.outbox = [];
    this.outboxBytes = 0;
    if (this.ended) return;
    this.beforeSend();
    for (const frame of batchFrames(texts, this.options.maxFrameBytes)) this.socket.send(frame);
  };

  /**
   * Whether `bytes` more (about to be sent, or held back to be sent later) fit beside what waits
   * unsent. If not, the client is dropped (4001) as a slow reader.
   */
  withinSendLimit(bytes: number): boolean {
    if (this.ended) return false;
    if (this.socket.bufferedAmount + this.outboxBytes + bytes > this.options.maxBufferedBytes) {
      this.close(CLOSE_CODES.SLOW_CONSUMER, 'send buffer full: reading too slowly');
      return false;
    }
    return true;
  }

  ack(ref: Ref | undefined, of: string, fields: Record<string, unknown> = {}): void {
    this.send({ type: 'ack', ref: ref ?? null, of, ...fields });
  }

  /** Answers with an error frame; any thrown value becomes a stable code (unknown ones are logged). */
  fail(ref: Ref | undefined, error: unknown): void {
    if (error instanceof ProtocolError) {
      this.send({ type: 'error', ref: ref ?? null, code: error.code, message: error.message });
      return;
    }
    if (error instanceof TroupeError) {
      const frame: Record<string, unknown> = {
        type: 'error',
        ref: ref ?? null,
        code: error.code,
        message: error.message,
      };
      if (error.details !== undefined && error.code !== 'E_INVALID_INPUT') frame.details = error.details;
      this.send(frame);
      return;
    }
    this.logger.error({ err: error, connection: this.id }, 'request failed');
    this.send({
      type: 'error',
      ref: ref ?? null,
      code: 'E_INTERNAL',
      message: 'the server failed to handle this request',
    });
  }

  /** Answers a protocol violation and closes the connection if it keeps offending. */
  violation(code: ProtocolErrorCode, message: string, ref: Ref): void {
    this.send({ type: 'error', ref, code, message });
    if (!this.violations.take()) {
      this.close(CLOSE_CODES.TOO_MANY_VIOLATIONS, 'too many bad frames');
    }
  }

  /** Closes with a code; the hooks see the end at once (subscriptions stop, sessions detach). */
  close(code: number, reason: string): void {
    if (this.ended) return;
    // What was sent before (the error that explains the close) goes out first.
    this.flush();
    this.socket.close(code, reason);
    this.end(code);
  }

  /** Drops the socket without a close handshake (shutdown of clients that do not answer). */
  terminate(): void {
    this.socket.terminate();
    this.end(CLOSE_CODES.GOING_AWAY);
  }

  private end(code: number): void {
    if (this.ended) return;
    this.ended = true;
    this.hooks.onClose(this, code);
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.ended) return;
    const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (this.rate && !this.rate.take()) {
      const ref = peekRef(buffer, isBinary, this.options.maxFrameBytes);
      this.violation('E_RATE_LIMITED', 'too many messages; this one was dropped unprocessed', ref);
      return;
    }
    const outcome = readFrame(buffer, isBinary, this.principal.role, this.options.maxFrameBytes);
    if (!outcome.ok) {
      this.violation(outcome.code, outcome.message, outcome.ref);
      return;
    }
    const message = outcome.message;
    if (message.type === 'batch') {
      this.onBatch(message as BatchMessage);
      return;
    }
    this.dispatch(message as ClientMessage);
  }

  /**
   * The messages of a batch, in order, each as if it had come in its own frame: each counts
   * against the rate limit (the frame counted as the first) and gets its own answer.
   */
  private onBatch(batch: BatchMessage): void {
    if (!this.batching) {
      this.violation(
        'E_INVALID_MESSAGE',
        'batch frames need the "batch" feature, granted in welcome (ask for it in hello.features)',
        batch.ref ?? null,
      );
      return;
    }
    const { messages } = batch;
    for (let i = 0; i < messages.length && !this.ended; i++) {
      const outcome = readBatched(messages[i], this.principal.role);
      if (i > 0 && this.rate && !this.rate.take()) {
        this.violation(
          'E_RATE_LIMITED',
          'too many messages; this one was dropped unprocessed',
          outcome.ok ? ((outcome.message as ClientMessage).ref ?? null) : outcome.ref,
        );
        continue;
      }
      if (!outcome.ok) this.violation(outcome.code, outcome.message, outcome.ref);
      else this.dispatch(outcome.message as ClientMessage);
    }
  }

  private dispatch(message: ClientMessage): void {
    try {
      this.hooks.onMessage(this, message);
    } catch (error) {
      this.fail(message.ref, error);
    }
  }
}
