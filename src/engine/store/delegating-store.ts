import type { ActorQuery, CommitBatch, EventQuery, Lease, LeaseTerm, OutboxEntry, Store, StoredActor, StoredEvent, StoredTimer } from './store.js';

/**
 * A store that hands every call to another one. Extend it and override what you want to
 * observe or change (record commits, inject failures, add metrics) without rewriting the rest.
 *
 * @example
 * ```ts
 * class CountingStore extends DelegatingStore {
 *   commits = 0;
 *   override async commit(batch: CommitBatch) { this.commits += 1; await super.commit(batch); }
 * }
 * const runtime = createRuntime({ store: new CountingStore(new MemoryStore()) });
 * ```
 */
export class DelegatingStore implements Store {
  readonly name: string;

  constructor(protected readonly inner: Store, name: string = inner.name) {
    this.name = name;
  }

  open(): Promise<void> {
    return this.inner.open();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  commit(batch: CommitBatch): Promise<void> {
    return this.inner.commit(batch);
  }
  getActor(id: string): Promise<StoredActor | undefined> {
    return this.inner.getActor(id);
  }
  getActors(ids: readonly string[]): Promise<Map<string, StoredActor>> {
    return this.inner.getActors(ids);
  }
  listActors(query: ActorQuery): Promise<StoredActor[]> {
    return this.inner.listActors(query);
  }
  loadLive(): Promise<StoredActor[]> {
    return this.inner.loadLive();
  }
  loadTimers(): Promise<StoredTimer[]> {
    return this.inner.loadTimers();
  }
  loadOutbox(): Promise<OutboxEntry[]> {
    return this.inner.loadOutbox();
  }
  readEvents(query: EventQuery): Promise<StoredEvent[]> {
    return this.inner.readEvents(query);
  }
  lastEventSeq(): Promise<number> {
    return this.inner.lastEventSeq();
  }
  tryLease(name: string, holder: string, ttlMs: number, now: number): Promise<Lease | undefined> {
    return this.inner.tryLease(name, holder, ttlMs, now);
  }
  releaseLease(name: string, holder: string, epoch: number): Promise<void> {
    return this.inner.releaseLease(name, holder, epoch);
  }
  getLease(name: string): Promise<Lease | undefined> {
    return this.inner.getLease(name);
  }
  leaseHistory(name: string): Promise<LeaseTerm[]> {
    return this.inner.leaseHistory(name);
  }
}
