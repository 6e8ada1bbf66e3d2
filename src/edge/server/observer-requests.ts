import type { Logger } from 'pino';
import type { Runtime } from '../../runtime.js';
import type { EventFilter } from '../../engine/event-bus.js';
import type { Connection } from './connection.js';
import { eventJson, ResumedStream } from './shared/event-stream.js';
import { CLOSE_CODES } from './protocol/codes.js';
import type { ObserverMessage, SubscribeMessage } from './protocol/observer-messages.js';
import { ProtocolError } from './protocol/protocol-error.js';

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
    private readonly logger: Logger,
  ) {}

  handle(connection: Connection, message: ObserverMessage): void {
    switch (message.type) {
      case 'subscribe':
        this.subscribe(connection, message);
        return;
      case 'unsubscribe': {
        const unsubscribe = this.subscriptions.get(connection)?.get(message.subscription);
        if (!unsubscribe) {
          connection.fail(
            message.ref,
            new ProtocolError('E_UNKNOWN_SUBSCRIPTION', `no subscription "${message.subscription}" on this connection`),
          );
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

  /**
   * Starts a stream: live events only, or with `afterSeq` the stored events after it first.
   * A resumed stream is acked once its first page of stored events has been read, so a store
   * that cannot be read gets an error answer and no subscription.
   */
  private subscribe(connection: Connection, message: SubscribeMessage): void {
    const mine = this.subscriptions.get(connection) ?? new Map<string, () => void>();
    if (mine.size >= this.maxSubscriptions) {
      connection.fail(
        message.ref,
        new ProtocolError('E_TOO_MANY_SUBSCRIPTIONS', `at most ${this.maxSubscriptions} subscriptions per connection`),
      );
      return;
    }
    const id = `s${this.nextSubscription++}`;
    const prefix = `{"type":"event","subscription":${JSON.stringify(id)},"event":`;
    const filter: EventFilter = { ...message.filter };
    this.subscriptions.set(connection, mine);
    if (message.afterSeq === undefined) {
      mine.set(
        id,
        this.runtime.events.subscribe(filter, (event) => {
          connection.sendText(`${prefix}${eventJson(event)}}`);
        }),
      );
      connection.ack(message.ref, 'subscribe', { subscription: id });
      return;
    }
    const stream = new ResumedStream(
      this.runtime.events,
      filter,
      message.afterSeq,
      connection,
      (event) => `${prefix}${eventJson(event)}}`,
    );
    mine.set(id, () => stream.stop());
    let acked = false;
    const ack = () => {
      if (acked) return;
      acked = true;
      connection.ack(message.ref, 'subscribe', { subscription: id });
    };
    stream
      .run(ack)
      // Ended before its first page was read (unsubscribed by a guessed id): still answered once.
      .then(ack)
      .catch((error: unknown) => {
        this.subscriptions.get(connection)?.delete(id);
        if (!acked) {
          connection.fail(message.ref, error);
          return;
        }
        // Acked already: the stream would have a gap. The observer reconnects and resumes.
        this.logger.error({ err: error, connection: connection.id }, 'reading the event backlog failed');
        connection.close(CLOSE_CODES.INTERNAL_ERROR, 'the stored events could not be read');
      });
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
