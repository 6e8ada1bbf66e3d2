import { TroupeError } from '../../core/errors.js';
import type { EventFilter, EventListener, HistoryQuery, TroupeEvent } from '../event-bus.js';
import type { RuntimeCore } from '../runtime-core.js';
import type { EventQuery } from '../store/store.js';

/**
 * Events: live subscriptions by type, ticket, task or agent; the bounded history; the
 * stored log; inter-agent messages.
 *
 * @example
 * ```ts
 * const off = runtime.events.subscribe({ types: ['task.*'], ticketId }, (e) => console.log(e.type));
 * const recent = runtime.events.history({ ticketId, types: ['task.failed'], limit: 20 });
 * ```
 */
export class EventApi {
  constructor(
    private readonly core: RuntimeCore,
    private readonly ready: () => Promise<void>,
  ) {}

  /** Calls `listener` for every committed event that matches; returns the unsubscribe function. */
  subscribe(filter: EventFilter, listener: EventListener): () => void {
    return this.core.bus.subscribe(filter, listener);
  }

  /** Recent events of a ticket (or of no ticket), newest first, from memory. */
  history(query: HistoryQuery = {}): TroupeEvent[] {
    return this.core.bus.history(query);
  }

  /** Events from the store, beyond what memory keeps. */
  async read(query: EventQuery): Promise<TroupeEvent[]> {
    await this.ready();
    return this.core.options.store.readEvents(query);
  }

  /** Sends a message from one agent to another, as an `agent.message` event addressed to `to`. */
  async message(from: string, to: string, body: unknown, ticketId: string | null = null): Promise<void> {
    await this.ready();
    const target = this.core.host.getLive(to);
    if (!target || target.kind !== 'agent') throw new TroupeError('E_UNKNOWN_AGENT', `no live agent has id "${to}"`);
    await this.core.host.record({ type: 'agent.message', agentId: to, ticketId, data: { from, to, body } });
  }
}
