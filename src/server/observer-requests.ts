import type { Runtime } from '../runtime/runtime.js';
import type { EventFilter, TroupeEvent } from '../runtime/event-bus.js';
import type { Connection } from './connection.js';
import type { ObserverMessage } from './protocol/observer-messages.js';
import { ProtocolError } from './protocol-error.js';

/** Each event is serialised once, however many observers receive it. */
const serialised = new WeakMap<TroupeEvent, string>();

function eventJson(event: TroupeEvent): string {
  let json = serialised.get(event);
  if (json === undefined) {
    json = JSON.stringify(event);
    serialised.set(event, json);
  }
  return json;
}

/**
 * What observer messages do: event streams by filter, and reads of the current state of a
 * ticket, task or agent. Observers change nothing. Events go out as the bus publishes them,
 * after their commit; an observer that cannot keep up is dropped by its connection's send
 * limit, never waited for.
 */
export class ObserverRequests {
  private readonly subscriptions = new Map<Connection, Map<string, () => void>>();
  private nextSubscription = 1;

  constructor(
    private readonly runtime: Runtime,
    private readonly maxSubscriptions: number,
  ) {}

  handle(connection: Connection, message: ObserverMessage): void {
    switch (message.type) {
      case 'subscribe': {
        const mine = this.subscriptions.get(connection) ?? new Map<string, () => void>();
        if (mine.size >= this.maxSubscriptions) {
          connection.fail(message.ref, new ProtocolError('E_TOO_MANY_SUBSCRIPTIONS', `at most ${this.maxSubscriptions} subscriptions per connection`));
          return;
        }
        const id = `s${this.nextSubscription++}`;
        const prefix = `{"type":"event","subscription":${JSON.stringify(id)},"event":`;
        const filter: EventFilter = { ...message.filter };
        const unsubscribe = this.runtime.events.subscribe(filter, (event) => {
          connection.sendText(`${prefix}${eventJson(event)}}`);
        });
        mine.set(id, unsubscribe);
        this.subscriptions.set(connection, mine);
        connection.ack(message.ref, 'subscribe', { subscription: id });
        return;
      }
      case 'unsubscribe': {
        const unsubscribe = this.subscriptions.get(connection)?.get(message.subscription);
        if (!unsubscribe) {
          connection.fail(message.ref, new ProtocolError('E_UNKNOWN_SUBSCRIPTION', `no subscription "${message.subscription}" on this connection`));
          return;
        }
        unsubscribe();
        this.subscriptions.get(connection)?.delete(message.subscription);
        connection.ack(message.ref, 'unsubscribe', { subscription: message.subscription });
        return;
      }
      case 'query': {
        const read =
          message.target === 'task'
            ? this.runtime.tasks.get(message.id)
            : message.target === 'ticket'
              ? this.runtime.tickets.get(message.id)
              : this.runtime.agents.get(message.id);
        read.then(
          (view) => connection.ack(message.ref, 'query', { target: message.target, view }),
          (error: unknown) => connection.fail(message.ref, error),
        );
        return;
      }
    }
  }

  /** Ends every subscription of a connection that has gone. */
  release(connection: Connection): void {
    for (const unsubscribe of this.subscriptions.get(connection)?.values() ?? []) unsubscribe();
    this.subscriptions.delete(connection);
  }

  count(): number {
    return this.subscriptions.size;
  }
}
