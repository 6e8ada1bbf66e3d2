import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { batchFrames } from '../server/batch-frames.js';
import { coalesceWrites } from '../server/coalesce-writes.js';
import { SUBPROTOCOL } from '../server/protocol/codes.js';
import {
  SERVER_MESSAGES,
  type AckMessage,
  type ServerMessage,
  type WelcomeMessage,
} from '../server/protocol/server-messages.js';
import { ConnectionRefusedError, DisconnectedError, RemoteError } from './remote-error.js';

interface Pending {
  resolve: (answer: AckMessage | WelcomeMessage) => void;
  reject: (error: Error) => void;
}

/** Requests that carry a ref and expect an ack. */
export type Request = { type: string } & Record<string, unknown>;

/** A frame waiting for the end of the turn, with what accept elision needs to know of it. */
interface Queued {
  text: string;
  type: string;
  leaseId: string | undefined;
  ref: number | undefined;
}

/** Statuses of a refused upgrade that retrying cannot fix. */
const FATAL_STATUS = new Set([400, 401, 403, 404]);

/**
 * One open WebSocket to the server: sends requests with a ref and resolves them with the ack
 * (or rejects with the error) that carries it back; hands every other frame on. A frame the
 * SDK cannot read is reported and skipped, never trusted.
 */
export class AgentLink {
  private nextRef = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private beforeSend: () => void = () => {};
  /** With the `batch` feature: frames sent in this turn of the event loop, sent as one at its end. */
  private batching = false;
  /** The server's `maxFrameBytes`: no batch is longer. */
  private maxFrameBytes = 1024 * 1024;
  private outbox: Queued[] = [];

  private constructor(
    private readonly socket: WebSocket,
    private readonly onFrame: (frame: ServerMessage) => void,
    private readonly onBadFrame: (error: Error) => void,
  ) {
    socket.on('message', (data, isBinary) => this.receive(data as Buffer, isBinary));
  }

  /** Opens a socket; rejects with `ConnectionRefusedError` when retrying cannot help. */
  static open(
    url: string,
    token: string,
    onFrame: (frame: ServerMessage) => void,
    onBadFrame: (error: Error) => void,
  ): Promise<AgentLink> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, [SUBPROTOCOL], {
        headers: { Authorization: `Bearer ${token}` },
        perMessageDeflate: false,
        maxPayload: 64 * 1024 * 1024,
      });
      const fail = (error: Error) => {
        const status = /Unexpected server response: (\d+)/.exec(error.message)?.[1];
        if (status !== undefined && FATAL_STATUS.has(Number(status))) {
          reject(new ConnectionRefusedError(`the server refused the connection (HTTP ${status})`, Number(status)));
        } else reject(error);
      };
      let raw: IncomingMessage['socket'] | null = null;
      socket.once('upgrade', (response) => (raw = response.socket));
      socket.once('error', fail);
      socket.once('open', () => {
        socket.off('error', fail);
        // Errors after opening surface as a close; the agent reconnects from there.
        socket.on('error', () => undefined);
        const link = new AgentLink(socket, onFrame, onBadFrame);
        if (raw) link.beforeSend = coalesceWrites(raw);
        resolve(link);
      });
    });
  }

  get open(): boolean {
    return !this.closed && this.socket.readyState === WebSocket.OPEN;
  }

  /** The welcome granted the `batch` feature: frames of one turn leave together from now on. */
  startBatching(maxFrameBytes: number): void {
    this.batching = true;
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Resolves with the close code and reason once the socket has closed. */
  whenClosed(): Promise<{ code: number; reason: string }> {
    return new Promise((resolve) => {
      if (this.socket.readyState === WebSocket.CLOSED) resolve({ code: 1006, reason: '' });
      else this.socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    }).then((closed) => {
      this.abandon();
      return closed as { code: number; reason: string };
    });
  }

  /** Sends without waiting for an answer; false when the socket is not open. */
  send(frame: Request): boolean {
    if (!this.open) return false;
    this.transmit(frame, undefined);
    return true;
  }

  /** Sends with a fresh ref; resolves with its ack, rejects with its error or on disconnect. */
  request(frame: Request): Promise<AckMessage> {
    return this.ask(frame) as Promise<AckMessage>;
  }

  /** Sends `hello`; resolves with the welcome. */
  hello(frame: Request): Promise<WelcomeMessage> {
    return this.ask(frame) as Promise<WelcomeMessage>;
  }

  private ask(frame: Request): Promise<AckMessage | WelcomeMessage> {
    if (!this.open) return Promise.reject(new DisconnectedError('not connected'));
    const ref = this.nextRef++;
    return new Promise((resolve, reject) => {
      this.pending.set(ref, { resolve, reject });
      this.transmit(frame, ref);
    });
  }

  private transmit(frame: Request, ref: number | undefined): void {
    const text = JSON.stringify(ref === undefined ? frame : { ...frame, ref });
    if (!this.batching) {
      this.beforeSend();
      this.socket.send(text);
      return;
    }
    if (this.outbox.length === 0) setImmediate(this.flush);
    const leaseId = typeof frame.leaseId === 'string' ? frame.leaseId : undefined;
    this.outbox.push({ text, type: frame.type, leaseId, ref });
  }

  /**
   * Sends the turn's frames as one batch. An accept whose task is completed or failed in the
   * same batch is left out: a report on a task not yet accepted counts as its accept (the
   * server accepts first), so the accept would only cost a message and an answer.
   */
  private readonly flush = (): void => {
    const queued = this.outbox;
    this.outbox = [];
    if (queued.length === 0 || !this.open) return;
    let finished: Set<string> | undefined;
    for (const q of queued)
      if ((q.type === 'complete' || q.type === 'fail') && q.leaseId !== undefined)
        (finished ??= new Set()).add(q.leaseId);
    const texts: string[] = [];
    for (const q of queued) {
      if (q.type === 'accept' && q.leaseId !== undefined && finished?.has(q.leaseId) && q.ref !== undefined) {
        const pending = this.pending.get(q.ref);
        this.pending.delete(q.ref);
        pending?.resolve({ type: 'ack', ref: q.ref, of: 'accept', applied: true, status: 'running' });
        continue;
      }
      texts.push(q.text);
    }
    if (texts.length === 0) return;
    this.beforeSend();
    for (const frame of batchFrames(texts, this.maxFrameBytes)) this.socket.send(frame);
  };

  close(code = 1000, reason = ''): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING)
      this.socket.close(code, reason);
    this.abandon();
  }

  /** Drops the socket without a close handshake, as a crash or a network failure would. */
  terminate(): void {
    this.socket.terminate();
    this.abandon();
  }

  private abandon(): void {
    this.closed = true;
    const error = new DisconnectedError();
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  private receive(data: Buffer, isBinary: boolean): void {
    let value: { type?: unknown; messages?: unknown };
    try {
      if (isBinary) throw new Error('binary frame');
      value = JSON.parse(data.toString('utf8')) as { type?: unknown };
    } catch (error) {
      this.onBadFrame(new Error(`unreadable frame from the server: ${(error as Error).message}`));
      return;
    }
    // A batch is its messages in order, each read as if it had come alone.
    if (typeof value === 'object' && value !== null && value.type === 'batch' && Array.isArray(value.messages)) {
      for (const message of value.messages) this.take(message as { type?: unknown });
    } else this.take(value);
  }

  private take(value: { type?: unknown }): void {
    let frame: ServerMessage;
    try {
      const schema =
        typeof value.type === 'string' && Object.hasOwn(SERVER_MESSAGES, value.type)
          ? SERVER_MESSAGES[value.type as keyof typeof SERVER_MESSAGES]
          : undefined;
      // Unknown types are skipped: a newer server may send more than this SDK knows.
      if (!schema || value.type === 'batch') return;
      frame = schema.parse(value) as ServerMessage;
    } catch (error) {
      this.onBadFrame(new Error(`unreadable frame from the server: ${(error as Error).message}`));
      return;
    }
    // The welcome is handed on at once, before its promise settles: frames that follow it in
    // the same read (the first assignments) must find the agent already welcomed.
    if (frame.type === 'welcome') this.onFrame(frame);
    const ref = frame.type === 'ack' || frame.type === 'error' || frame.type === 'welcome' ? frame.ref : null;
    const pending = typeof ref === 'number' ? this.pending.get(ref) : undefined;
    if (pending) {
      this.pending.delete(ref as number);
      if (frame.type === 'error') pending.reject(new RemoteError(frame.code, frame.message, frame.details));
      else pending.resolve(frame as AckMessage | WelcomeMessage);
      return;
    }
    if (frame.type !== 'welcome') this.onFrame(frame);
  }
}
