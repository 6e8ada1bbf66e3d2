import { TroupeError } from '../../core/errors.js';
import { copyJson, findNonJson, isJson, isPlainObject } from '../../core/json-value.js';
import { expiredUnits, unitUnchanged, type UnitMember } from './unit-grouping.js';
import { idKindConflict, noSweep } from './store.js';
import type {
  ActorPage,
  ActorPageQuery,
  ActorQuery,
  AuditEntry,
  AuditQuery,
  CommitBatch,
  ExpiredUnit,
  ExpiryQuery,
  StorageStats,
  SweepCounts,
  UnitRecord,
  EventQuery,
  Lease,
  LeaseTerm,
  OutboxEntry,
  Store,
  StoredActor,
  StoredEvent,
  StoredTimer,
} from './store.js';
import { MemoryLeases } from './memory-leases.js';
import { compareActorKeys, pageFromRows } from './actor-page.js';

interface MemoryStoreOptions {
  /** Events kept in all; the oldest go first. Default 10,000 (this store lives in the heap). */
  eventRetention?: number;
}

/**
 * Keeps everything in this process and behaves like a real store: a value that is not plain JSON
 * is refused here just as it would be on disk (the whole batch, nothing applied), and what a
 * caller gets back is its own copy.
 *
 * How it stays cheap: a live actor's record is kept as the object committed (the runtime's
 * snapshots are immutable, so it never changes afterwards) after a JSON check of the context
 * values that are not the very objects of the actor's previous record (a transition replaces a
 * few, the rest are shared and were checked then); settled actors and events are kept the same
 * way. This store is for tests and throwaway runs: it keeps no compact form of finished work
 * (use SqliteStore or PostgresStore to keep it on disk).
 * Objects handed to `commit` belong to the store from then on: do not mutate them.
 *
 * @example
 * ```ts
 * const runtime = createRuntime({ store: new MemoryStore() });
 * ```
 */
export class MemoryStore implements Store {
  readonly name = 'memory';
  /** Records as committed (committed objects are never mutated), settled or not. */
  private readonly actors = new Map<string, StoredActor>();
  /** When each actor was created (`CommitBatch.created` of its first write, else its `updatedAt`), for `pageActors`. */
  private readonly createdAt = new Map<string, number>();
  private readonly timers = new Map<string, StoredTimer>();
  private readonly outbox = new Map<string, string>();
  /** Events as committed, oldest first. */
  private events: StoredEvent[] = [];
  private readonly eventRetention: number;
  /** The audit log, oldest first. */
  private audit: AuditEntry[] = [];
  private auditSeq = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.eventRetention = options.eventRetention ?? 10_000;
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  private readonly leases = new MemoryLeases();
  tryLease(name: string, holder: string, ttlMs: number, now: number): Promise<Lease | undefined> {
    return this.leases.tryLease(name, holder, ttlMs, now);
  }
  releaseLease(name: string, holder: string, epoch: number): Promise<void> {
    return this.leases.releaseLease(name, holder, epoch);
  }
  getLease(name: string): Promise<Lease | undefined> {
    return this.leases.getLease(name);
  }
  leaseHistory(name: string): Promise<LeaseTerm[]> {
    return this.leases.leaseHistory(name);
  }

  async commit(batch: CommitBatch): Promise<void> {
    // Check and serialise first so that a bad value leaves the store untouched (all or nothing).
    let out: Array<readonly [string, string]>;
    const kinds = new Map<string, string>();
    for (const a of batch.actors) {
      const held = kinds.get(a.id) ?? this.kindOf(a.id);
      if (held !== undefined && held !== a.kind) throw idKindConflict(a.id, held, a.kind, this.name);
      kinds.set(a.id, a.kind);
    }
    try {
      for (const a of batch.actors) this.verifyActor(a);
      // The other fields of an event are the host's own strings and numbers.
      for (const e of batch.events) if (!isJson(e.data)) this.refuse(e.data, '$.data', `event ${e.seq}`);
      out = batch.outbox.map((o) => [o.id, JSON.stringify(o)] as const);
    } catch (error) {
      if (error instanceof TroupeError) throw error;
      throw new TroupeError(
        'E_NOT_SERIALIZABLE',
        `a value in the batch is not plain JSON: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    for (const a of batch.actors) {
      if (!this.actors.has(a.id)) this.createdAt.set(a.id, batch.created?.get(a.id) ?? a.updatedAt);
      this.actors.set(a.id, a);
    }
    for (const t of batch.timersCleared) this.timers.delete(timerKey(t.actorId, t.name));
    for (const t of batch.timersSet) this.timers.set(timerKey(t.actorId, t.name), { ...t });
    for (const [id, json] of out) this.outbox.set(id, json);
    for (const id of batch.outboxDelivered) this.outbox.delete(id);
    if (batch.events.length > 0) {
      for (const e of batch.events) this.events.push(e);
      if (this.events.length > this.eventRetention * 1.25) {
        this.events = this.events.slice(this.events.length - this.eventRetention);
      }
    }
  }

  /** The kind of the actor stored under `id`, if any. */
  private kindOf(id: string): string | undefined {
    return this.actors.get(id)?.kind;
  }

  private verifyActor(a: StoredActor): void {
    // The other fields are the runtime's own strings, numbers and booleans. Paths and names are
    // built only for a value that fails.
    if (!isJson(a.state)) this.refuse(a.state, '$.state', `actor ${a.id}`);
    const context = a.context;
    const previous = this.actors.get(a.id);
    const before = previous?.context;
    if (!isPlainObject(context) || !isPlainObject(before)) {
      if (!isJson(context)) this.refuse(context, '$.context', `actor ${a.id}`);
      return;
    }
    for (const key in context) {
      const value = context[key];
      if (value !== before[key] && !isJson(value)) this.refuse(value, `$.context.${key}`, `actor ${a.id}`);
    }
  }

  private refuse(value: unknown, path: string, what: string): never {
    throw new TroupeError(
      'E_NOT_SERIALIZABLE',
      `a value in the batch is not plain JSON: ${what} at ${findNonJson(value, path)}`,
    );
  }

  /** The caller's own copy of a stored record. */
  private read(id: string): StoredActor | undefined {
    const row = this.actors.get(id);
    return row === undefined ? undefined : copyJson(row);
  }

  /** The ids of records not settled (no index of them: one less map per write). */
  private liveIds(): string[] {
    const ids: string[] = [];
    for (const [id, row] of this.actors) if (!row.settled) ids.push(id);
    return ids;
  }

  async getActor(id: string): Promise<StoredActor | undefined> {
    return this.read(id);
  }

  async getActors(ids: readonly string[]): Promise<Map<string, StoredActor>> {
    const found = new Map<string, StoredActor>();
    for (const id of ids) {
      const actor = this.read(id);
      if (actor !== undefined) found.set(id, actor);
    }
    return found;
  }

  async listActors(query: ActorQuery): Promise<StoredActor[]> {
    if (query.limit !== undefined && query.limit <= 0) return [];
    const ids = [...(query.settled === false ? this.liveIds() : this.actors.keys())].sort();
    const result: StoredActor[] = [];
    for (const id of ids) {
      if (query.afterId !== undefined && id <= query.afterId) continue;
      const actor = this.read(id) as StoredActor;
      if (query.kind !== undefined && actor.kind !== query.kind) continue;
      if (query.ticketId !== undefined && actor.ticketId !== query.ticketId) continue;
      if (query.settled !== undefined && actor.settled !== query.settled) continue;
      if (query.state !== undefined && actor.state !== query.state) continue;
      result.push(actor);
      if (query.limit !== undefined && result.length >= query.limit) break;
    }
    return result;
  }

  async pageActors(query: ActorPageQuery): Promise<ActorPage> {
    const kinds = new Set(query.kinds);
    const sign = query.order === 'newest' ? -1 : 1;
    const keys: Array<{ id: string; createdAt: number }> = [];
    for (const [id, row] of this.actors) {
      if (!kinds.has(row.kind)) continue;
      if (query.settled !== undefined && row.settled !== query.settled) continue;
      if (query.ticketId !== undefined && row.ticketId !== query.ticketId) continue;
      const key = { id, createdAt: this.createdAt.get(id) ?? 0 };
      if (query.after !== undefined && sign * compareActorKeys(key, query.after) <= 0) continue;
      keys.push(key);
    }
    keys.sort((a, b) => sign * compareActorKeys(a, b));
    const rows: Array<{ actor: StoredActor; createdAt: number }> = [];
    for (const key of keys) {
      if (rows.length > query.limit) break;
      rows.push({ actor: this.read(key.id) as StoredActor, createdAt: key.createdAt });
    }
    return pageFromRows(rows, query.limit);
  }

  async loadLive(): Promise<StoredActor[]> {
    return this.liveIds().map((id) => this.read(id) as StoredActor);
  }

  async loadTimers(): Promise<StoredTimer[]> {
    return [...this.timers.values()].map((t) => ({ ...t }));
  }

  async loadOutbox(): Promise<OutboxEntry[]> {
    return [...this.outbox.values()].map((json) => JSON.parse(json) as OutboxEntry);
  }

  async readEvents(query: EventQuery): Promise<StoredEvent[]> {
    const matches = this.events.filter(
      (e) =>
        (query.ticketId === undefined || e.ticketId === query.ticketId) &&
        (query.taskId === undefined || e.taskId === query.taskId) &&
        (query.agentId === undefined || e.agentId === query.agentId) &&
        (query.types === undefined || query.types.includes(e.type)) &&
        (query.afterSeq === undefined || e.seq > query.afterSeq),
    );
    if (query.order !== 'oldest') matches.reverse();
    const found = query.limit === undefined ? matches : matches.slice(0, query.limit);
    return copyJson(found);
  }

  async lastEventSeq(): Promise<number> {
    return this.events.length === 0 ? 0 : (this.events[this.events.length - 1] as { seq: number }).seq;
  }

  // Retention: scans of the heap (this store holds what fits in memory; each call is O(actors)).

  async findExpired(query: ExpiryQuery): Promise<ExpiredUnit[]> {
    return expiredUnits(this.members(), query);
  }

  async readUnit(unit: Pick<ExpiredUnit, 'kind' | 'id'>): Promise<UnitRecord> {
    const ids = this.unitIds([unit]).get(unit.id) ?? [];
    const actors = ids.map((id) => this.read(id) as StoredActor);
    const events = copyJson(this.events.filter((e) => this.eventOfUnit(e, unit)));
    return { kind: unit.kind, id: unit.id, actors, events };
  }

  async deleteUnits(units: readonly ExpiredUnit[]): Promise<SweepCounts> {
    const counts = noSweep();
    const gone: ExpiredUnit[] = [];
    const unitIds = this.unitIds(units);
    for (const unit of units) {
      const ids = unitIds.get(unit.id) ?? [];
      const members = ids.map((id) => this.read(id) as StoredActor);
      if (!unitUnchanged(members, unit)) continue;
      for (const m of members) {
        counts.bytes += JSON.stringify(m).length;
        this.actors.delete(m.id);
        this.createdAt.delete(m.id);
        for (const [key, timer] of this.timers) if (timer.actorId === m.id) this.timers.delete(key);
      }
      counts.units += 1;
      counts.actors += members.length;
      gone.push(unit);
    }
    if (gone.length > 0) {
      this.events = this.events.filter((e) => {
        for (const unit of gone) {
          if (this.eventOfUnit(e, unit)) {
            counts.events += 1;
            counts.bytes += JSON.stringify(e.data).length;
            return false;
          }
        }
        return true;
      });
    }
    return counts;
  }

  async pruneEvents(query: { before: number; limit: number }): Promise<SweepCounts> {
    const counts = noSweep();
    this.events = this.events.filter((e) => {
      if (counts.events >= query.limit || e.ticketId !== null || e.taskId !== null || e.at >= query.before) return true;
      counts.events += 1;
      counts.bytes += JSON.stringify(e.data).length;
      return false;
    });
    return counts;
  }

  async importUnits(units: readonly UnitRecord[]): Promise<{ actors: number; events: number }> {
    const actors = units.flatMap((u) => u.actors).filter((a) => !this.actors.has(a.id));
    const taken = new Set(this.events.map((e) => e.seq));
    const events = units.flatMap((u) => u.events).filter((e) => !taken.has(e.seq));
    // Through commit: the same checks as any write, and all or nothing.
    await this.commit({
      actors: copyJson(actors),
      timersSet: [],
      timersCleared: [],
      events: [],
      outbox: [],
      outboxDelivered: [],
    });
    for (const e of copyJson(events)) this.events.push(e);
    this.events.sort((a, b) => a.seq - b.seq);
    return { actors: actors.length, events: events.length };
  }

  async appendAudit(entries: ReadonlyArray<Omit<AuditEntry, 'seq'>>): Promise<AuditEntry[]> {
    for (const e of entries) if (!isJson(e.details)) this.refuse(e.details, '$.details', `audit entry ${e.action}`);
    const added = entries.map((e) => ({ ...copyJson(e), seq: ++this.auditSeq }));
    for (const e of added) this.audit.push(e);
    return copyJson(added);
  }

  async readAudit(query: AuditQuery): Promise<AuditEntry[]> {
    const matches = this.audit.filter(
      (e) =>
        (query.actor === undefined || e.actor === query.actor) &&
        (query.action === undefined || e.action === query.action) &&
        (query.target === undefined || e.target === query.target) &&
        (query.afterSeq === undefined || e.seq > query.afterSeq) &&
        (query.since === undefined || e.at >= query.since),
    );
    if (query.order !== 'oldest') matches.reverse();
    return copyJson(query.limit === undefined ? matches : matches.slice(0, query.limit));
  }

  async pruneAudit(query: { before: number; limit: number }): Promise<SweepCounts> {
    const counts = noSweep();
    this.audit = this.audit.filter((e) => {
      if (counts.auditEntries >= query.limit || e.at >= query.before) return true;
      counts.auditEntries += 1;
      counts.bytes += JSON.stringify(e).length;
      return false;
    });
    return counts;
  }

  async storageStats(): Promise<StorageStats> {
    const live = this.liveIds().length;
    return {
      liveActors: live,
      settledActors: this.actors.size - live,
      events: this.events.length,
      auditEntries: this.audit.length,
      bytes: null,
    };
  }

  /** Every record as retention sees it (copies: this store's retention is a scan). */
  private *members(): Generator<UnitMember> {
    for (const id of this.actors.keys()) yield this.read(id) as StoredActor;
  }

  /** The actor ids of each unit, by unit id: one scan for all the tickets among them. */
  private unitIds(units: ReadonlyArray<Pick<ExpiredUnit, 'kind' | 'id'>>): Map<string, string[]> {
    const found = new Map<string, string[]>();
    for (const unit of units) {
      if (unit.kind === 'actor') found.set(unit.id, this.actors.has(unit.id) ? [unit.id] : []);
      else found.set(unit.id, []);
    }
    if (!units.some((u) => u.kind === 'ticket')) return found;
    for (const member of this.members()) {
      if (member.ticketId === null) continue;
      const ids = found.get(member.ticketId);
      if (ids !== undefined && units.some((u) => u.kind === 'ticket' && u.id === member.ticketId)) ids.push(member.id);
    }
    for (const ids of found.values()) ids.sort();
    return found;
  }

  private eventOfUnit(e: StoredEvent, unit: Pick<ExpiredUnit, 'kind' | 'id'>): boolean {
    return unit.kind === 'ticket' ? e.ticketId === unit.id : e.ticketId === null && e.taskId === unit.id;
  }
}

function timerKey(actorId: string, name: string): string {
  return `${actorId}\u0000${name}`;
}
