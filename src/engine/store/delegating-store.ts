import type {
  ActorPage,
  ActorPageQuery,
  ActorQuery,
  AuditEntry,
  AuditQuery,
  CommitBatch,
  EventQuery,
  Lease,
  LeaseTerm,
  ExpiredUnit,
  ExpiryQuery,
  OutboxEntry,
  StorageStats,
  Store,
  StoredActor,
  StoredEvent,
  StoredTimer,
  SweepCounts,
  UnitRecord,
} from './store.js';

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
  readonly overlapsCommits: boolean;
  readonly eventSeqStride: number;

  constructor(
    protected readonly inner: Store,
    name: string = inner.name,
  ) {
    this.name = name;
    this.overlapsCommits = inner.overlapsCommits === true;
    this.eventSeqStride = inner.eventSeqStride ?? 1;
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
  pageActors(query: ActorPageQuery): Promise<ActorPage> {
    return this.inner.pageActors(query);
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
  findExpired(query: ExpiryQuery): Promise<ExpiredUnit[]> {
    return this.inner.findExpired(query);
  }
  readUnit(unit: Pick<ExpiredUnit, 'kind' | 'id'>): Promise<UnitRecord> {
    return this.inner.readUnit(unit);
  }
  deleteUnits(units: readonly ExpiredUnit[]): Promise<SweepCounts> {
    return this.inner.deleteUnits(units);
  }
  pruneEvents(query: { before: number; limit: number }): Promise<SweepCounts> {
    return this.inner.pruneEvents(query);
  }
  importUnits(units: readonly UnitRecord[]): Promise<{ actors: number; events: number }> {
    return this.inner.importUnits(units);
  }
  appendAudit(entries: ReadonlyArray<Omit<AuditEntry, 'seq'>>): Promise<AuditEntry[]> {
    return this.inner.appendAudit(entries);
  }
  readAudit(query: AuditQuery): Promise<AuditEntry[]> {
    return this.inner.readAudit(query);
  }
  pruneAudit(query: { before: number; limit: number }): Promise<SweepCounts> {
    return this.inner.pruneAudit(query);
  }
  storageStats(): Promise<StorageStats> {
    return this.inner.storageStats();
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
