import type { Logger } from 'pino';
import type { Clock } from '../../../engine/clock.js';
import type { EventFilter, TroupeEvent } from '../../../engine/event-bus.js';
import type { Runtime } from '../../../runtime.js';
import { eventJson, ResumedStream, type EventSink } from '../../server/shared/event-stream.js';
import { HttpError } from '../shared/http-errors.js';

export interface EventStreamLimits {
  /** Bytes queued for one stream before its reader counts as too slow and the stream ends. */
  maxBufferedBytes: number;
  /** Streams open at once. */
  maxStreams: number;
  /** A comment line this often keeps proxies from closing an idle stream. */
  heartbeatMs: number;
}

const encoder = new TextEncoder();

/** An event as one Server-Sent Events message: its seq as the id, so a reconnect resumes after it. */
export const sseMessage = (event: { seq: number }): string =>
  `id: ${event.seq}\ndata: ${eventJson(event as never)}\n\n`;

/**
 * The open Server-Sent Events streams of `GET /v1/events`. Each is a `ResumedStream` (the same
 * catch-up-then-live logic as a resumed WebSocket subscription) writing into a byte-bounded
 * `ReadableStream`: a reader that falls `maxBufferedBytes` behind is cut off, never waited for,
 * and comes back with `Last-Event-ID` to resume where it was.
 */
export class EventStreams {
  private readonly open = new Set<() => void>();

  constructor(
    private readonly runtime: Runtime,
    private readonly clock: Clock,
    private readonly limits: EventStreamLimits,
    private readonly logger: Logger,
  ) {}

  /** Streams open now. */
  count(): number {
    return this.open.size;
  }

  /**
   * Starts a stream: events after `afterSeq` first (when given), then live ones as they commit.
   * With `until`, the stream ends after the first event that matches it (so `curl -N` returns
   * once the work it follows has settled).
   */
  start(
    filter: EventFilter,
    afterSeq: number | undefined,
    until?: (event: TroupeEvent) => boolean,
  ): ReadableStream<Uint8Array> {
    if (this.open.size >= this.limits.maxStreams)
      throw new HttpError('E_RATE_LIMITED', `${this.limits.maxStreams} event streams are open already`);
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let closed = false;
    let heartbeat: unknown;
    let stopSource: () => void = () => {};
    const end = () => {
      if (closed) return;
      closed = true;
      this.open.delete(end);
      this.clock.clear(heartbeat);
      stopSource();
      try {
        controller.close();
      } catch {
        // already closed or cancelled by the reader
      }
    };
    const sink: EventSink = {
      sendText: (text, event) => {
        if (closed) return false;
        const bytes = encoder.encode(text);
        if ((controller.desiredSize ?? 0) < bytes.byteLength) {
          this.logger.debug({ filter }, 'event stream reader too slow; closed');
          end();
          return false;
        }
        controller.enqueue(bytes);
        if (event !== undefined && until?.(event)) {
          end();
          return false;
        }
        return true;
      },
      withinSendLimit: (bytes) => !closed && (controller.desiredSize ?? 0) >= bytes,
    };
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          controller = c;
        },
        cancel: () => end(),
      },
      { highWaterMark: this.limits.maxBufferedBytes, size: (chunk) => chunk.byteLength },
    );
    // The first bytes go out at once, so a client knows the stream is open (and subscribed).
    sink.sendText(': troupe event stream\nretry: 2000\n\n');
    if (afterSeq === undefined) {
      stopSource = this.runtime.events.subscribe(filter, (event) => void sink.sendText(sseMessage(event), event));
    } else {
      const resumed = new ResumedStream(this.runtime.events, filter, afterSeq, sink, sseMessage);
      stopSource = () => resumed.stop();
      resumed
        .run(() => {})
        .catch((error: unknown) => {
          this.logger.error({ err: error }, 'reading stored events for an event stream failed');
          end();
        });
    }
    const beat = () => {
      if (closed) return;
      sink.sendText(': ping\n\n');
      heartbeat = this.clock.schedule(this.limits.heartbeatMs, beat);
    };
    heartbeat = this.clock.schedule(this.limits.heartbeatMs, beat);
    this.open.add(end);
    return stream;
  }

  /** Ends every stream (the server is closing). */
  closeAll(): void {
    for (const end of [...this.open]) end();
  }
}
