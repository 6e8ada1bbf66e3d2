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
  open(): Promise<void>;
  close(): Promise<void>;
  /** Applies a batch atomically; once the promise resolves the batch is durable. */
  commit(batch: CommitBatch): Promise<void>;
  getActor(id: string): Promise<StoredActor | undefined>;
  getActors(ids: readonly string[]): Promise<Map<string, StoredActor>>;
  listActors(query: ActorQuery): Promise<StoredActor[]>;
  /** Every actor that is not settled: what a restart restores. */
  loadLive(): Promise<StoredActor[]>;
  loadTimers(): Promise<StoredTimer[]>;
  loadOutbox(): Promise<OutboxEntry[]>;
  readEvents(query: EventQuery): Promise<StoredEvent[]>;
  /** The highest `seq` committed, 0 when there is none. */
  lastEventSeq(): Promise<number>;
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
  return new TroupeError('E_STORE', `the store failed to read ${what}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}
