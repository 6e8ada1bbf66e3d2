import { TroupeError } from '../../core/errors.js';

/**
 * The persistence contract. One interface, several implementations (memory now, SQLite and
 * PostgreSQL later), one conformance suite (`test/store-conformance.ts`).
 *
 * The runtime writes only what a batch of events touched, in one `commit` per batch (group
 * commit), and sends nothing out of the process before that commit has resolved.
 */

/** Kinds of actor the runtime hosts. Coordinators add their own kinds. */
export type ActorKind = 'task' | 'agent' | 'phase' | 'ticket' | (string & {});

/**
 * The refusal every store gives a batch that would write an actor under an id held by an actor
 * of another kind (a task's row overwritten by an agent's): an id keeps its first kind forever
 * (docs/api.md, "Ids and kinds"). The check runs inside the commit, so it holds whoever writes.
 *
 * @example
 * ```ts
 * if (existing.kind !== written.kind) throw idKindConflict(written.id, existing.kind, written.kind);
 * ```
 */
export function idKindConflict(id: string, held: string, written: string, store = 'the store'): TroupeError {
  return new TroupeError(
    'E_ID_KIND_CONFLICT',
    `${store}: refused a batch: id "${id}" is a ${held}'s and cannot be written as a ${written}; nothing of the batch was written`,
    { details: { id, heldBy: held, written } },
  );
}

/** One actor's persisted snapshot with what is needed to find it again. */
export interface StoredActor {
  id: string;
  kind: ActorKind;
  /** The machine that wrote the snapshot, e.g. `troupe.task`. */
  machineId: string;
  /** The version of that machine; a restore with another version needs a migration. */
  version: number;
  /** The machine's state value. */
  state: unknown;
  /** The machine's context: plain JSON. */
  context: unknown;
  /**
   * True once the actor reached a resting state. Settled actors leave the live registry; they
   * are loaded again on demand (for example to rework a task).
   */
  settled: boolean;
  ticketId: string | null;
  /** Clock time of the last write. */
  updatedAt: number;
}

/** A durable timer: fires the event `{ type: 'timer', name }` at `at` to actor `actorId`. */
export interface StoredTimer {
  actorId: string;
  name: string;
  at: number;
}

/** An observable event, as kept in the history. `seq` is assigned by the runtime, gap-free. */
export interface StoredEvent {
  seq: number;
  type: string;
  at: number;
  ticketId: string | null;
  taskId: string | null;
  agentId: string | null;
  phase: string | null;
  data: Record<string, unknown>;
}

/** A message that must leave the process once its batch is committed, kept until delivered. */
export interface OutboxEntry {
  id: string;
  /** Where it goes, for example an agent id. */
  target: string;
  kind: string;
  payload: Record<string, unknown>;
  createdAt: number;
}

/**
 * Everything one batch wrote; applied atomically. The runtime never mutates what it handed to
 * `commit`, so a store may keep those objects instead of copying them (the memory store does).
 */
export interface CommitBatch {
  actors: StoredActor[];
  timersSet: StoredTimer[];
  timersCleared: Array<{ actorId: string; name: string }>;
  events: StoredEvent[];
  outbox: OutboxEntry[];
  /** Ids of outbox entries delivered since the last commit. */
  outboxDelivered: string[];
  /**
   * When the actors this batch spawned were created (clock time of each spawn), by id. A store
   * keeps an actor's creation time from its first write (this, else the write's `updatedAt`)
   * for `pageActors`, and never changes it.
   */
  created?: ReadonlyMap<string, number>;
}

/** Which stored actors `Store.listActors` returns; every field narrows the list. */
export interface ActorQuery {
  kind?: ActorKind;
  ticketId?: string;
  settled?: boolean;
  /** Only actors whose state value is this flat state name (for example dead-lettered tasks). */
  state?: string;
  /** Only actors whose id is greater than this (paging in id order). */
  afterId?: string;
  limit?: number;
}

/**
 * Where a page of actors starts: after the actor with this creation time and id, in the page's
 * order. A key, not an offset: actors created or deleted between two pages neither repeat nor
 * push others out.
 */
export interface ActorCursor {
  createdAt: number;
  id: string;
}

/** Which actors `Store.pageActors` returns: a page in creation order (then id), found by keyset. */
export interface ActorPageQuery {
  /** Actors of these kinds; at least one. */
  kinds: readonly ActorKind[];
  ticketId?: string;
  /** Only settled (true) or only live (false) actors; both when absent. */
  settled?: boolean;
  /** `oldest` first (ascending creation time, then id) or `newest` first (both descending). */
  order: 'oldest' | 'newest';
  /** Start after this actor (exclusive): the `next` of the previous page. */
  after?: ActorCursor;
  /** At most this many actors, 1 or more. */
  limit: number;
}

/** A page of actors, each with its creation time (the `createdAt` of its key). */
export interface ActorPage {
  items: Array<{ actor: StoredActor; createdAt: number }>;
  /** Where the next page starts (the key of the last item); null when no actor follows. */
  next: ActorCursor | null;
}

/** Which stored events `Store.readEvents` returns, in sequence order; every field narrows the list. */
export interface EventQuery {
  ticketId?: string;
  taskId?: string;
  agentId?: string;
  types?: string[];
  /** Only events with `seq` greater than this. */
  afterSeq?: number;
  /** Newest first by default. */
  order?: 'newest' | 'oldest';
  limit?: number;
}

/**
 * What retention looks for: finished units last written before an age. A unit is a ticket with
 * every actor whose `ticketId` is that ticket (the ticket itself, its phases, tasks and
 * coordinators), or one actor of no ticket (a free-standing task, a departed agent, a
 * coordinator). A unit is finished when every actor in it is settled; live work is never found.
 */
export interface ExpiryQuery {
  /** Finished units whose newest write (`updatedAt`) is older than this are expired. */
  before: number;
  /**
   * Units holding an actor whose state is one of `longStates` (dead-lettered tasks, failed
   * tickets) are kept longer: expired only when their newest write is older than this.
   */
  longBefore: number;
  /** State values (as stored in `StoredActor.state`, compared as JSON) that keep a unit until `longBefore`. */
  longStates: readonly string[];
  /** At most this many units. */
  limit: number;
}

/** A finished unit found by `findExpired`, oldest first. */
export interface ExpiredUnit {
  /** `ticket`: the ticket with every actor of it; `actor`: one actor of no ticket. */
  kind: 'ticket' | 'actor';
  /** The ticket's id, or the actor's. */
  id: string;
  /** The newest `updatedAt` over the unit. `deleteUnits` deletes nothing written after it. */
  lastUpdatedAt: number;
}

/** A unit whole: what the archive writes and `troupe import` reads back. */
export interface UnitRecord {
  kind: ExpiredUnit['kind'];
  id: string;
  actors: StoredActor[];
  /** Oldest first. */
  events: StoredEvent[];
}

/** What a deletion removed. `bytes` is the JSON text of the removed rows (an estimate of space freed). */
export interface SweepCounts {
  units: number;
  actors: number;
  events: number;
  auditEntries: number;
  bytes: number;
}

/** One entry of the audit log: who did what to what, and when. */
export interface AuditEntry {
  /** Assigned by the store, increasing. */
  seq: number;
  /** Clock time of the action. */
  at: number;
  /** Who: the name of the token (from the configuration), `local` for in-process callers, `config` for reloads. */
  actor: string;
  /** What, dotted: `task.submitted`, `task.cancelled`, `task.redriven`, `ticket.created`, `config.reloaded`. */
  action: string;
  /** The id acted on (a task, a ticket), or null. */
  target: string | null;
  details: Record<string, unknown>;
}

/** What `Store.readAudit` (and `runtime.audit.read`, `GET /v1/audit`) selects: every field narrows. */
export interface AuditQuery {
  actor?: string;
  action?: string;
  target?: string;
  /** Only entries with `seq` greater than this. */
  afterSeq?: number;
  /** Only entries at or after this time. */
  since?: number;
  /** Newest first by default. */
  order?: 'newest' | 'oldest';
  limit?: number;
}

/** Rows a store holds and the space they take. */
export interface StorageStats {
  liveActors: number;
  settledActors: number;
  events: number;
  auditEntries: number;
  /** Bytes the store occupies (file size less free pages for SQLite); null where it cannot say (memory). */
  bytes: number | null;
}

/**
 * A named lease: who holds it, until when, and its epoch, which grows at every change of holder.
 * The epoch is the fencing token: work done under a lease carries it, and a store refuses the
 * work of an epoch that is no longer the lease's.
 */
export interface Lease {
  name: string;
  holder: string;
  epoch: number;
  acquiredAt: number;
  expiresAt: number;
}

/** One holder of a lease from the history: each epoch once, with who took it and when. */
export interface LeaseTerm {
  epoch: number;
  holder: string;
  acquiredAt: number;
}

/**
 * Leases kept by a store, for leader election (`runtime.coordination.leader`). One holder per
 * name at any moment, decided by the store in one atomic step.
 */
export interface LeaseStore {
  /**
   * Takes the lease for `holder` until `now + ttlMs`, or renews it: succeeds when the lease is
   * free, expired, or already `holder`'s; the epoch grows only when the holder changes. Returns
   * the lease as held now, or `undefined` when someone else holds it. Stores shared by processes
   * may use their own clock instead of `now` (PostgreSQL uses the database's, so that the
   * clocks of the nodes do not matter).
   */
  tryLease(name: string, holder: string, ttlMs: number, now: number): Promise<Lease | undefined>;
  /** Lets the lease go at once if `holder` still holds it at `epoch`; otherwise does nothing. */
  releaseLease(name: string, holder: string, epoch: number): Promise<void>;
  getLease(name: string): Promise<Lease | undefined>;
  /** Every holder the lease has had, oldest first. */
  leaseHistory(name: string): Promise<LeaseTerm[]>;
}

/** Where the engine keeps actors, timers, events and leases. A commit is atomic and, once its promise resolves, durable as the store promises. Memory, SQLite and PostgreSQL implement it and pass the same conformance suite; pass one to `createRuntime({ store })`. */
export interface Store extends LeaseStore {
  /** A short name for logs, e.g. `memory` or `sqlite:/path/to/file`. */
  readonly name: string;
  /**
   * True when the runtime should build its next batch while this store commits one (the store
   * still gets one commit at a time, in order). Worth it where a commit waits on a network and a
   * server (PostgreSQL); an in-process store commits faster than the overlap costs.
   */
  readonly overlapsCommits?: boolean;
  /**
   * How far apart the event numbers this store's writer gives are (default 1): a shard's writer of
   * a sharded PostgreSQL cluster numbers its events in its own residue class of the shard count,
   * starting from `lastEventSeq()`, so that writers of different shards never take one number.
   */
  readonly eventSeqStride?: number;
  open(): Promise<void>;
  close(): Promise<void>;
  /** Applies a batch atomically; once the promise resolves the batch is durable. */
  commit(batch: CommitBatch): Promise<void>;
  getActor(id: string): Promise<StoredActor | undefined>;
  getActors(ids: readonly string[]): Promise<Map<string, StoredActor>>;
  listActors(query: ActorQuery): Promise<StoredActor[]>;
  /**
   * A page of actors in creation order, by keyset over an index (creation time, id): paging
   * through any number of settled actors reads one page's rows per call, never all. An actor's
   * creation time comes with its first write (`CommitBatch.created`, else the `updatedAt`), kept
   * by later writes (rows older than the column got their last write time when the schema was upgraded).
   */
  pageActors(query: ActorPageQuery): Promise<ActorPage>;
  /** Every actor that is not settled: what a restart restores. */
  loadLive(): Promise<StoredActor[]>;
  loadTimers(): Promise<StoredTimer[]>;
  loadOutbox(): Promise<OutboxEntry[]>;
  readEvents(query: EventQuery): Promise<StoredEvent[]>;
  /** The highest `seq` committed, 0 when there is none. */
  lastEventSeq(): Promise<number>;

  // Retention (see docs/operations.md). A sweeper calls these in small batches; each call is short.

  /** Finished units expired under `query`, oldest first (by their newest write, then id). */
  findExpired(query: ExpiryQuery): Promise<ExpiredUnit[]>;
  /** A unit's actors (by id) and events (oldest first); empty lists when it is gone. */
  readUnit(unit: Pick<ExpiredUnit, 'kind' | 'id'>): Promise<UnitRecord>;
  /**
   * Deletes the units atomically: their actors, those actors' timers, and their
   * events (a ticket's: every event of the ticket; an actor's: events of that task id with no
   * ticket). A unit that has changed since it was found (an actor live again, or written after
   * `lastUpdatedAt`) is left whole and not counted.
   */
  deleteUnits(units: readonly ExpiredUnit[]): Promise<SweepCounts>;
  /** Deletes up to `limit` events that belong to no ticket and no task, recorded before `before`. */
  pruneEvents(query: { before: number; limit: number }): Promise<SweepCounts>;
  /**
   * Puts units back as they were archived (`troupe import`): actors are written as given (an actor
   * that exists already is left as it is, so an import never overwrites newer work); events whose
   * `seq` is taken already are skipped. Returns what was written.
   */
  importUnits(units: readonly UnitRecord[]): Promise<{ actors: number; events: number }>;

  // The audit log: its own table and retention.

  /** Appends entries (without `seq`), atomically; returns them with the `seq` each got. */
  appendAudit(entries: ReadonlyArray<Omit<AuditEntry, 'seq'>>): Promise<AuditEntry[]>;
  readAudit(query: AuditQuery): Promise<AuditEntry[]>;
  /** Deletes up to `limit` audit entries recorded before `before`. */
  pruneAudit(query: { before: number; limit: number }): Promise<SweepCounts>;
  /** Rows kept and space used, for metrics. */
  storageStats(): Promise<StorageStats>;
}

/** No rows removed. */
export function noSweep(): SweepCounts {
  return { units: 0, actors: 0, events: 0, auditEntries: 0, bytes: 0 };
}

/** Adds `more` into `into` and returns it. */
export function addSweep(into: SweepCounts, more: SweepCounts): SweepCounts {
  into.units += more.units;
  into.actors += more.actors;
  into.events += more.events;
  into.auditEntries += more.auditEntries;
  into.bytes += more.bytes;
  return into;
}

export function emptyBatch(): CommitBatch {
  return { actors: [], timersSet: [], timersCleared: [], events: [], outbox: [], outboxDelivered: [] };
}

export function isEmptyBatch(batch: CommitBatch): boolean {
  return (
    batch.actors.length === 0 &&
    batch.timersSet.length === 0 &&
    batch.timersCleared.length === 0 &&
    batch.events.length === 0 &&
    batch.outbox.length === 0 &&
    batch.outboxDelivered.length === 0
  );
}

/** A store read that failed, as the E_STORE error that stops the runtime. */
export function storeReadError(error: unknown, what: string): TroupeError {
  if (error instanceof TroupeError && error.code === 'E_STORE') return error;
  return new TroupeError('E_STORE', `the store failed to read ${what}: ${(error as Error)?.message ?? String(error)}`, {
    cause: error,
  });
}
