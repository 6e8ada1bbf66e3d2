import { TroupeError } from '../../errors.js';
import type {
  ActorQuery,
  CommitBatch,
  EventQuery,
  OutboxEntry,
  Store,
  StoredActor,
  StoredEvent,
  StoredTimer,
} from './store.js';

interface MemoryStoreOptions {
  /** Events kept in all; the oldest go first. Default 10,000 (this store lives in the heap). */
  eventRetention?: number;
}

/**
 * Keeps everything in this process, serialised as JSON so that it behaves like a real store:
 * a value that is not plain JSON fails here just as it would on disk, and nothing the caller
 * mutates afterwards changes what was stored.
 *
 * @example
 * ```ts
 * const runtime = createRuntime({ store: new MemoryStore() });
 * ```
 */
export class MemoryStore implements Store {
  readonly name = 'memory';
  private readonly actors = new Map<string, string>();
  private readonly live = new Set<string>();
  private readonly timers = new Map<string, StoredTimer>();
  private readonly outbox = new Map<string, string>();
  /** Events as JSON text, oldest first: a copy that later mutation cannot reach, and compact. */
  private events: Array<{ seq: number; json: string }> = [];
  private readonly eventRetention: number;

  constructor(options: MemoryStoreOptions = {}) {
    this.eventRetention = options.eventRetention ?? 10_000;
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  async commit(batch: CommitBatch): Promise<void> {
    // Serialise first so that a bad value leaves the store untouched (all or nothing).
    let rows: Array<readonly [string, string, boolean]>;
    let out: Array<readonly [string, string]>;
    let events: Array<{ seq: number; json: string }>;
    try {
      rows = batch.actors.map((a) => [a.id, JSON.stringify(a), a.settled] as const);
      out = batch.outbox.map((o) => [o.id, JSON.stringify(o)] as const);
      events = batch.events.map((e) => ({ seq: e.seq, json: JSON.stringify(e) }));
    } catch (error) {
      throw new TroupeError('E_NOT_SERIALIZABLE', `a value in the batch is not plain JSON: ${(error as Error).message}`, {
        cause: error,
      });
    }
    for (const [id, json, settled] of rows) {
      this.actors.set(id, json);
      if (settled) this.live.delete(id);
      else this.live.add(id);
    }
    for (const t of batch.timersCleared) this.timers.delete(timerKey(t.actorId, t.name));
    for (const t of batch.timersSet) this.timers.set(timerKey(t.actorId, t.name), { ...t });
    for (const [id, json] of out) this.outbox.set(id, json);
    for (const id of batch.outboxDelivered) this.outbox.delete(id);
    if (events.length > 0) {
      for (const e of events) this.events.push(e);
      if (this.events.length > this.eventRetention * 1.25) {
        this.events = this.events.slice(this.events.length - this.eventRetention);
      }
    }
  }

  async getActor(id: string): Promise<StoredActor | undefined> {
    const json = this.actors.get(id);
    return json === undefined ? undefined : (JSON.parse(json) as StoredActor);
  }

  async getActors(ids: readonly string[]): Promise<Map<string, StoredActor>> {
    const found = new Map<string, StoredActor>();
    for (const id of ids) {
      const json = this.actors.get(id);
      if (json !== undefined) found.set(id, JSON.parse(json) as StoredActor);
    }
    return found;
  }

  async listActors(query: ActorQuery): Promise<StoredActor[]> {
    if (query.limit !== undefined && query.limit <= 0) return [];
    const ids = [...(query.settled === false ? this.live : this.actors.keys())].sort();
    const result: StoredActor[] = [];
    for (const id of ids) {
      if (query.afterId !== undefined && id <= query.afterId) continue;
      const actor = JSON.parse(this.actors.get(id) as string) as StoredActor;
      if (query.kind !== undefined && actor.kind !== query.kind) continue;
      if (query.ticketId !== undefined && actor.ticketId !== query.ticketId) continue;
      if (query.settled !== undefined && actor.settled !== query.settled) continue;
      result.push(actor);
      if (query.limit !== undefined && result.length >= query.limit) break;
    }
    return result;
  }

  async loadLive(): Promise<StoredActor[]> {
    return [...this.live].map((id) => JSON.parse(this.actors.get(id) as string) as StoredActor);
  }

  async loadTimers(): Promise<StoredTimer[]> {
    return [...this.timers.values()].map((t) => ({ ...t }));
  }

  async loadOutbox(): Promise<OutboxEntry[]> {
    return [...this.outbox.values()].map((json) => JSON.parse(json) as OutboxEntry);
  }

  async readEvents(query: EventQuery): Promise<StoredEvent[]> {
    const matches = this.events.map((e) => JSON.parse(e.json) as StoredEvent).filter(
      (e) =>
        (query.ticketId === undefined || e.ticketId === query.ticketId) &&
        (query.taskId === undefined || e.taskId === query.taskId) &&
        (query.agentId === undefined || e.agentId === query.agentId) &&
        (query.types === undefined || query.types.includes(e.type)) &&
        (query.afterSeq === undefined || e.seq > query.afterSeq),
    );
    if (query.order !== 'oldest') matches.reverse();
    return query.limit === undefined ? matches : matches.slice(0, query.limit);
  }

  async lastEventSeq(): Promise<number> {
    return this.events.length === 0 ? 0 : (this.events[this.events.length - 1] as { seq: number }).seq;
  }
}

function timerKey(actorId: string, name: string): string {
  return `${actorId}\u0000${name}`;
}
