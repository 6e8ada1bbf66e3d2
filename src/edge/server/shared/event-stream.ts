import { eventMatcher, type EventFilter, type EventListener, type TroupeEvent } from '../../../engine/event-bus.js';
import type { EventQuery } from '../../../engine/store/store.js';

/** Where a resumed stream writes: a WebSocket connection, or an HTTP event stream. */
export interface EventSink {
  /** Queues text (the frame of `event`); false once the sink takes no more (it is closing, or its reader is too slow). */
  sendText(text: string, event?: TroupeEvent): boolean;
  /** Whether this many more bytes would still fit under the sink's send limit. */
  withinSendLimit(bytes: number): boolean;
}

/** Stored events read per page while an observer catches up: a backlog is never read whole. */
export const BACKLOG_PAGE_SIZE = 500;

/** Each event is serialised once, however many observers receive it. */
const serialised = new WeakMap<TroupeEvent, string>();

export function eventJson(event: TroupeEvent): string {
  let json = serialised.get(event);
  if (json === undefined) {
    json = JSON.stringify(event);
    serialised.set(event, json);
  }
  return json;
}

/** What a resumed stream reads: the live bus and the stored log (`runtime.events`). */
export interface EventSource {
  subscribe(filter: EventFilter, listener: EventListener): () => void;
  read(query: EventQuery): Promise<TroupeEvent[]>;
}

/**
 * A subscription that resumes after a `seq`: the stored events after it that match the filter,
 * read page by page in seq order, then the live ones, each seq sent once and none left out.
 *
 * The live subscription starts first and holds what the bus publishes while the backlog is
 * read. The bus publishes in seq order after each commit, so every matching event is either in
 * the store when a page is read or held (sometimes both: committed, not yet published); sending
 * only seqs above the last one sent drops the doubles. Once the store has nothing more (or
 * reaches the first held seq), the held events go out and the stream is live, with no await in
 * between, so nothing can slip past the switch. Held events count against the connection's
 * send limit: an observer that cannot keep up is dropped (4001) as on a live stream.
 */
export class ResumedStream {
  /** Live events that arrived while catching up; null once live. */
  private held: TroupeEvent[] | null = [];
  private heldBytes = 0;
  private lastSent: number;
  private stopped = false;
  private readonly unsubscribe: () => void;
  /** The filter as a test, for stored pages (the store applies only part of it). */
  private readonly matches: (event: TroupeEvent) => boolean;

  constructor(
    private readonly source: EventSource,
    private readonly filter: EventFilter,
    afterSeq: number,
    private readonly connection: EventSink,
    /** The text sent for an event: a WebSocket frame, or an SSE message. */
    private readonly frame: (event: TroupeEvent) => string,
  ) {
    this.lastSent = afterSeq;
    this.matches = eventMatcher(filter);
    this.unsubscribe = source.subscribe(filter, (event) => this.onLive(event));
  }

  /** Ends the stream (unsubscribe, connection gone); a page being read is dropped. */
  stop(): void {
    this.stopped = true;
    this.held = null;
    this.unsubscribe();
  }

  /**
   * Sends the backlog, then what arrived meanwhile, then goes live. `onFirstPage` runs once the
   * first page has been read, before any event is sent (the subscribe is acked there). Rejects
   * when the store cannot be read; the stream is stopped then.
   */
  async run(onFirstPage: () => void): Promise<void> {
    const query = storeQuery(this.filter);
    let cursor = this.lastSent;
    for (let first = true; ; first = false) {
      let page: TroupeEvent[];
      try {
        page = await this.source.read({ ...query, afterSeq: cursor, order: 'oldest', limit: BACKLOG_PAGE_SIZE });
      } catch (error) {
        this.stop();
        throw error;
      }
      if (this.stopped) return;
      if (first) onFirstPage();
      for (const event of page) {
        if (this.matches(event) && !this.deliver(event)) return;
      }
      const last = page[page.length - 1];
      if (page.length < BACKLOG_PAGE_SIZE || last === undefined) break;
      cursor = last.seq;
      // Every matching event from the first held one on is held: the store need not be read further.
      const firstHeld = this.held?.[0];
      if (firstHeld !== undefined && cursor + 1 >= firstHeld.seq) break;
      // Let the frames sent so far leave (and the reader read them) before the next page.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.stopped) return;
    }
    const held = this.held ?? [];
    this.held = null;
    for (const event of held) {
      if (!this.deliver(event)) return;
    }
  }

  private onLive(event: TroupeEvent): void {
    if (this.stopped) return;
    if (this.held === null) {
      this.deliver(event);
      return;
    }
    this.held.push(event);
    this.heldBytes += this.frame(event).length;
    if (!this.connection.withinSendLimit(this.heldBytes)) this.stop();
  }

  /** Sends an event unless its seq went out already; false once the connection takes no more. */
  private deliver(event: TroupeEvent): boolean {
    if (event.seq <= this.lastSent) return true;
    this.lastSent = event.seq;
    if (this.connection.sendText(this.frame(event), event)) return true;
    this.stop();
    return false;
  }
}

/** The part of a filter the store can apply; the rest (type prefixes such as `task.*`) is matched here. */
function storeQuery(filter: EventFilter): EventQuery {
  const query: EventQuery = {};
  if (filter.ticketId !== undefined) query.ticketId = filter.ticketId;
  if (filter.taskId !== undefined) query.taskId = filter.taskId;
  if (filter.agentId !== undefined) query.agentId = filter.agentId;
  const types = filter.types ?? [];
  if (types.length > 0 && !types.some((t) => t.endsWith('*'))) query.types = types;
  return query;
}
