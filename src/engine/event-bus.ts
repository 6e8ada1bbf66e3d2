import type { StoredEvent } from './store/store.js';

/** A Troupe event as observers see it. */
export type TroupeEvent = StoredEvent;

/**
 * Which events a subscription or a history read receives; every field narrows them.
 *
 * @example
 * ```ts
 * runtime.events.subscribe({ types: ['task.*'], ticketId: 'T-1' }, (e) => console.log(e.type));
 * ```
 */
export interface EventFilter {
  /** Exact types, or prefixes ending in `*` such as `task.*`. */
  types?: string[];
  ticketId?: string;
  taskId?: string;
  agentId?: string;
}

export type EventListener = (event: TroupeEvent) => void;

interface Subscription {
  matches: (event: TroupeEvent) => boolean;
  listener: EventListener;
}

/**
 * Whether an event passes a filter, with the filter's types split once into exact names and
 * prefixes (`task.*`): subscriptions test every committed event.
 */
export function eventMatcher(filter: EventFilter): (event: TroupeEvent) => boolean {
  const { ticketId, taskId, agentId } = filter;
  const types = filter.types ?? [];
  const exact = types.length > 0 ? new Set(types.filter((t) => !t.endsWith('*'))) : null;
  const prefixes = types.filter((t) => t.endsWith('*')).map((t) => t.slice(0, -1));
  return (event) => {
    if (ticketId !== undefined && event.ticketId !== ticketId) return false;
    if (taskId !== undefined && event.taskId !== taskId) return false;
    if (agentId !== undefined && event.agentId !== agentId) return false;
    if (exact === null || exact.has(event.type)) return true;
    for (const prefix of prefixes) if (event.type.startsWith(prefix)) return true;
    return false;
  };
}

/** A fixed-size ring of the newest events. */
class Ring {
  // Grows to `capacity` before wrapping, so a ticket with few events costs little.
  private readonly items: TroupeEvent[] = [];
  private next = 0;
  private count = 0;

  constructor(private readonly capacity: number) {}

  push(event: TroupeEvent): void {
    if (this.items.length < this.capacity) this.items.push(event);
    else this.items[this.next] = event;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count += 1;
  }

  /** Newest first. */
  *newest(): Generator<TroupeEvent> {
    for (let i = 1; i <= this.count; i++) {
      yield this.items[(this.next - i + this.capacity) % this.capacity] as TroupeEvent;
    }
  }
}

/** A history read: an event filter and how many events at most. */
export interface HistoryQuery extends EventFilter {
  limit?: number;
}

/**
 * Publishes committed events to subscribers and keeps a bounded history per ticket (newest
 * first, filterable). Events without a ticket share one ring of the same size. Rings are kept
 * for the `maxTickets` tickets with the most recent events; an older ticket's ring is dropped
 * (its events stay in the store: `runtime.events.read`), so a long-running server's memory does
 * not grow with every ticket it ever ran.
 */
export class EventBus {
  private readonly subscriptions = new Set<Subscription>();
  private readonly rings = new Map<string, Ring>();

  constructor(
    private readonly historyLimit: number,
    private readonly onListenerError: (error: unknown) => void = () => {},
    private readonly maxTickets = 1_000,
  ) {}

  subscribe(filter: EventFilter, listener: EventListener): () => void {
    const subscription: Subscription = { matches: eventMatcher(filter), listener };
    this.subscriptions.add(subscription);
    return () => this.subscriptions.delete(subscription);
  }

  publish(events: TroupeEvent[]): void {
    let lastKey: string | undefined;
    let ring: Ring | undefined;
    for (const event of events) {
      const key = event.ticketId ?? '';
      if (key !== lastKey) {
        ring = this.touch(key);
        lastKey = key;
      }
      (ring as Ring).push(event);
    }
    if (this.subscriptions.size === 0) return;
    for (const event of events) {
      for (const s of this.subscriptions) {
        if (!s.matches(event)) continue;
        try {
          s.listener(event);
        } catch (error) {
          this.onListenerError(error);
        }
      }
    }
  }

  /** The ticket's ring, moved to the newest end of the map (which is ordered by last use). */
  private touch(key: string): Ring {
    let ring = this.rings.get(key);
    if (ring) this.rings.delete(key);
    else ring = new Ring(this.historyLimit);
    this.rings.set(key, ring);
    // The ring of ticketless events ('') is never dropped; it does not count against the limit.
    if (this.ticketHistories > this.maxTickets) {
      for (const oldest of this.rings.keys()) {
        if (oldest === '') continue;
        this.rings.delete(oldest);
        break;
      }
    }
    return ring;
  }

  /** Drops the in-memory history of tickets whose rows retention removed (their store history went with them). */
  forget(ticketIds: Iterable<string>): void {
    for (const id of ticketIds) if (id !== '') this.rings.delete(id);
  }

  /** Tickets whose history is kept in memory. */
  get ticketHistories(): number {
    return this.rings.size - (this.rings.has('') ? 1 : 0);
  }

  /** Newest first. Without a ticket id, reads the ring of events that belong to no ticket. */
  history(query: HistoryQuery = {}): TroupeEvent[] {
    const ring = this.rings.get(query.ticketId ?? '');
    if (!ring) return [];
    const out: TroupeEvent[] = [];
    const limit = query.limit ?? Number.POSITIVE_INFINITY;
    const matches = eventMatcher(query);
    for (const event of ring.newest()) {
      if (out.length >= limit) break;
      if (matches(event)) out.push(event);
    }
    return out;
  }
}
