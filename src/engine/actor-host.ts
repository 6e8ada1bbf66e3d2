import { TroupeError } from '../core/errors.js';
import type { EmitParams } from '../core/machines/effects.js';
import type { Clock } from './clock.js';
import {
  duplicateId,
  replyOf,
  spawnMessage,
  storedRecordOf,
  type BatchScope,
  type EffectHandler,
  type HostEvent,
  type LiveActor,
  type DeliveryMessage,
  type Message,
  type MessageOutcome,
  type OpenBatch,
  type SpawnGroup,
  type SpawnMessage,
  type SpawnRequest,
  type TimerMessage,
} from './host-types.js';
import { isSettled, type MachineRegistry, type RegisteredMachine } from './machine-registry.js';
import {
  emptyBatch,
  storeReadError,
  type ActorKind,
  type Store,
  type StoredActor,
  type StoredEvent,
} from './store/store.js';
import { TimerWheel } from './timer-wheel.js';
import { BatchEffects } from './batch-effects.js';

export interface ActorHostOptions {
  store: Store;
  clock: Clock;
  random: () => number;
  machines: MachineRegistry;
  /** Handlers for the effects the host does not carry out itself. */
  effects: Record<string, EffectHandler>;
  /** Called whenever the mailbox runs dry inside a batch; may send more messages (the dispatcher). */
  beforeCommit?: (scope: BatchScope) => void;
  /** Called with the batch's events once it has committed (the event bus). */
  onCommitted?: (events: StoredEvent[]) => void;
  /** Called when the store fails: the host stops accepting work. */
  onFailure?: (error: TroupeError) => void;
  /**
   * Asked, before actors are restored, for the stored kinds no machine is registered for, so that
   * an extension can register them (pattern runs: compiled again from their stored definitions).
   */
  resolveKinds?: (kinds: string[]) => Promise<void>;
  /** Messages per batch at most, so a flood still commits (and delivers) in steady steps. */
  maxBatch?: number;
  onError?: (error: unknown, context: { actorId: string; event: string }) => void;
}

/** At most this many lone spawns' ids in one store read. */
const SPAWNS_READ_TOGETHER = 1_000;

/** How many settled actors the host remembers (a few hundred KB at most). */
const SETTLED_REMEMBERED = 256;

/**
 * Hosts every actor as its own root, addressed by id. Messages are processed in batches: each
 * message steps one actor's pure machine; the effects it asks for become messages to other
 * actors in the same batch, timer and event writes, or work for after the commit. One store
 * commit closes the batch, and only then does anything leave the process.
 */
export class ActorHost {
  private readonly live = new Map<string, LiveActor>();
  /**
   * The last actors that settled, as they were committed, oldest first. Work that fans out from
   * one finished task (each of a split's children gets its source's output in its context
   * package) reads it here instead of once per child from the store. An actor that lives again
   * leaves it; nothing else changes a settled actor but this host.
   */
  private readonly settledRecently = new Map<string, LiveActor>();
  private queue: Message[] = [];
  private head = 0;
  private draining = false;
  private scheduled = false;
  private batch: OpenBatch | null = null;
  private pendingAfter = 0;
  private failure: TroupeError | null = null;
  /** Wakes a batch that waits for mail while the commit before it is in flight. */
  private mailWaiter: (() => void) | null = null;
  private idleWaiters: Array<() => void> = [];
  private readonly timers: TimerWheel;
  private readonly maxBatch: number;
  private readonly scope: BatchScope;
  private readonly effects: BatchEffects;

  constructor(private readonly options: ActorHostOptions) {
    this.maxBatch = options.maxBatch ?? 2_000;
    this.timers = new TimerWheel(options.clock, (actorId, name) => {
      this.enqueue({ kind: 'timer', to: actorId, event: { type: 'timer', name }, timer: name });
    });
    this.scope = {
      send: (to, event, onUnapplied) =>
        this.followUp(onUnapplied ? { kind: 'deliver', to, event, onUnapplied } : { kind: 'deliver', to, event }),
      spawn: (kind, id, input, ticketId) => this.followUp({ kind: 'spawn', to: id, spawn: { kind, input, ticketId } }),
      afterCommit: (fn) => this.currentBatch().after.push(fn),
    };
    this.effects = new BatchEffects({
      clock: options.clock,
      timers: this.timers,
      handlers: options.effects,
      scope: this.scope,
      followUp: (message) => this.followUp(message),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }

  /** Restores actors and timers from the store; call once before any message. */
  async recover(): Promise<{ actors: number; timers: number }> {
    this.effects.seq = await this.options.store.lastEventSeq();
    this.effects.seqStride = this.options.store.eventSeqStride ?? 1;
    const stored = await this.options.store.loadLive();
    await this.resolveKinds(stored.map((s) => s.kind));
    for (const s of stored) {
      // Restore first: it refuses unknown kinds and other versions with the clearer error.
      const snapshot = this.options.machines.restore(s);
      const entry = this.options.machines.get(s.kind);
      this.live.set(s.id, { id: s.id, kind: s.kind, entry, snapshot, ticketId: s.ticketId });
    }
    const timers = await this.options.store.loadTimers();
    for (const t of timers) this.timers.set(t.actorId, t.name, t.at);
    return { actors: stored.length, timers: timers.length };
  }

  get failed(): TroupeError | null {
    return this.failure;
  }

  /** The live actor with this id, if it is not settled. */
  getLive(id: string): LiveActor | undefined {
    return this.live.get(id);
  }

  /**
   * An actor that settled lately, as committed, if this host still remembers it (the
   * `SETTLED_REMEMBERED` settled or asked for last); otherwise only the store has it.
   */
  getSettledRecently(id: string): LiveActor | undefined {
    const actor = this.settledRecently.get(id);
    // Used lately: the last to be forgotten (a split's source, read by each of its children).
    if (actor !== undefined) this.rememberSettled(actor);
    return actor;
  }

  liveActors(): IterableIterator<LiveActor> {
    return this.live.values();
  }

  liveCount(): number {
    return this.live.size;
  }

  timerCount(): number {
    return this.timers.size();
  }

  /** Sends `event` to actor `to`; the event object is the host's from now on (see `Message`). */
  send(to: string, event: HostEvent): void {
    this.assertRunning();
    this.enqueue({ kind: 'deliver', to, event });
  }

  /**
   * Sends and resolves once the message's batch has committed, saying whether it applied. With
   * `kind`, only an actor of that kind takes it: an id of another kind answers `E_ID_KIND_CONFLICT`
   * and nothing changes (an entry point named for one kind never reaches another).
   */
  request(to: string, event: HostEvent, kind?: ActorKind): Promise<MessageOutcome> {
    this.assertRunning();
    return new Promise((reply) =>
      this.enqueue(
        kind === undefined
          ? { kind: 'deliver', to, event, reply }
          : { kind: 'deliver', to, event, reply, expectKind: kind },
      ),
    );
  }

  /**
   * Creates an actor; resolves once it is committed. With `replaceSettled`, an id whose actor
   * has settled for good may be used again (an agent registering anew). `announce` is a message
   * sent once the actor exists, committed with it (a task telling its phase it was added).
   */
  spawn(
    kind: ActorKind,
    id: string,
    input: Record<string, unknown>,
    ticketId: string | null,
    options: { replaceSettled?: boolean; announce?: { to: string; event: HostEvent } } = {},
  ): Promise<MessageOutcome> {
    this.assertRunning();
    return new Promise((reply) => this.enqueue(spawnMessage({ kind, id, input, ticketId, ...options }, reply)));
  }

  /**
   * Spawns several actors in ONE batch, whatever the batch size: a crash stores all or none of
   * them. Resolves with one outcome per spawn, in order.
   */
  spawnAll(spawns: readonly SpawnRequest[]): Promise<MessageOutcome[]> {
    this.assertRunning();
    const group: SpawnGroup = {
      ids: spawns.map((s) => s.id),
      replaceable: new Set(spawns.filter((s) => s.replaceSettled).map((s) => s.id)),
      kinds: new Map(spawns.map((s) => [s.id, s.kind])),
    };
    const outcomes = spawns.map(
      (request, i) =>
        new Promise<MessageOutcome>((reply) => {
          const message = spawnMessage(request, reply);
          message.group = { members: group, head: i === 0 };
          this.enqueue(message);
        }),
    );
    return Promise.all(outcomes);
  }

  /**
   * Starts a batch even though no actor has mail, so that `beforeCommit` (the dispatcher) runs:
   * for a decision that became possible with time alone (a reject cooldown that ended).
   */
  wake(): void {
    this.assertRunning();
    this.enqueue({ kind: 'turn' });
  }

  /** Records an event that no actor caused, in the next batch; resolves once committed. */
  record(event: EmitParams): Promise<MessageOutcome> {
    this.assertRunning();
    return new Promise((reply) => this.enqueue({ kind: 'record', record: event, reply }));
  }

  /** Resolves when no message is waiting, no batch is open and no after-commit work runs. */
  async idle(): Promise<void> {
    for (;;) {
      if (!this.busy()) {
        // Let promise chains started by committed work (in-process handlers) run one turn.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (!this.busy()) return;
      }
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  stop(): void {
    this.timers.stop();
  }

  private busy(): boolean {
    return this.draining || this.scheduled || this.head < this.queue.length || this.pendingAfter > 0;
  }

  private assertRunning(): void {
    if (this.failure) throw this.failure;
  }

  private currentBatch(): OpenBatch {
    if (!this.batch) throw new Error('no batch is open');
    return this.batch;
  }

  /** A message caused by the open batch: processed before the batch commits. */
  private followUp(message: Message): void {
    if (this.batch) this.batch.followUps.push(message);
    else this.enqueue(message);
  }

  private enqueue(message: Message): void {
    this.queue.push(message);
    if (this.mailWaiter !== null) {
      const wake = this.mailWaiter;
      this.mailWaiter = null;
      wake();
    }
    if (!this.draining && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        // A failure that escapes the batch loop (a store read that throws) stops the runtime the
        // way a failed commit does, instead of becoming an unhandled rejection.
        this.drain().catch((error: unknown) => this.fail(error));
      });
    }
  }

  /**
   * Takes mail into batches and commits them, one commit in flight at a time. When the store
   * overlaps commits (`Store.overlapsCommits`: PostgreSQL, where a commit is a network round trip
   * and the server's work), the next batch is built while one commits: it takes the mail that
   * arrives meanwhile and is sent the moment the commit before it resolved. A batch's answers,
   * events and after-commit work still wait for its own commit: nothing is said before it is
   * stored.
   */
  private async drain(): Promise<void> {
    if (this.draining || this.failure) return;
    this.draining = true;
    const overlap = this.options.store.overlapsCommits === true;
    let inFlight: Promise<void> | null = null;
    const track = (commit: Promise<void>): Promise<void> => {
      const tracked: Promise<void> = commit.then(() => {
        if (inFlight === tracked) inFlight = null;
      });
      return tracked;
    };
    try {
      while (!this.failure && (this.head < this.queue.length || inFlight !== null)) {
        const batch: OpenBatch = {
          dirty: new Map(),
          timersSet: new Map(),
          timersCleared: new Map(),
          events: [],
          after: [],
          replies: [],
          followUps: [],
          nextFollowUp: 0,
          stored: new Map(),
        };
        this.batch = batch;
        let processed = 0;
        // Messages of a group still to take into this batch, beyond the batch size if need be.
        let groupLeft = 0;
        for (;;) {
          for (;;) {
            // What this batch caused comes first and always; new mail only up to the batch size
            // (a group is taken whole: it started in this batch).
            let message: Message;
            if (batch.nextFollowUp < batch.followUps.length) message = batch.followUps[batch.nextFollowUp++] as Message;
            else if (this.head < this.queue.length && (processed < this.maxBatch || groupLeft > 0)) {
              message = this.queue[this.head++] as Message;
              if (groupLeft > 0) groupLeft -= 1;
              else if (message.kind === 'spawn' && message.group?.head)
                groupLeft = message.group.members.ids.length - 1;
            } else break;
            processed += 1;
            if (message.kind === 'turn') continue;
            if (message.kind === 'record') {
              batch.events.push(this.effects.event(message.record));
              if (message.reply) batch.replies.push([message.reply, { applied: true }]);
              continue;
            }
            const actor = message.kind === 'spawn' ? undefined : this.live.get(message.to);
            if (
              actor &&
              message.kind === 'deliver' &&
              message.expectKind !== undefined &&
              message.expectKind !== actor.kind
            )
              refuseKind(message, actor.kind);
            else if (actor) this.step(actor, message as DeliveryMessage | TimerMessage, batch);
            // The group's first message read the store for the whole group: no await for the rest.
            else if (message.kind === 'spawn' && message.group && !message.group.head)
              this.spawnChecked(message, batch);
            else {
              try {
                await this.deliverSlow(message, batch);
              } catch (error) {
                // A store that cannot be read stops the runtime like one that cannot be written.
                if (error instanceof TroupeError && error.code === 'E_STORE') {
                  replyOf(message)?.({ applied: false, error });
                  this.fail(error);
                  return;
                }
                // A stored snapshot that cannot be restored (another machine version): this
                // message is refused, the rest of the batch goes on.
                this.reportError(error, message);
              }
            }
          }
          if (this.head >= this.queue.length) {
            this.queue = [];
            this.head = 0;
          }
          const full = processed >= this.maxBatch && this.head < this.queue.length;
          // Full, with mail still waiting: commit; the dispatcher gets its turn in the next batch.
          if (full && inFlight === null) break;
          this.options.beforeCommit?.(this.scope);
          if (batch.nextFollowUp < batch.followUps.length) continue;
          if (!full && this.head < this.queue.length) continue;
          if (inFlight === null || this.failure) break;
          // The commit before this batch is in flight: take mail as it comes until it resolves
          // (its after-commit work may add follow-ups here), then send this batch at once.
          await (full ? inFlight : Promise.race([inFlight, this.nextMail()]));
        }
        if (overlap) this.batch = null;
        if (this.failure) {
          this.failBatch(batch, this.failure);
          return;
        }
        const commit = this.commit(batch);
        // A batch that writes nothing (its replies only) is done at once: tracking it as in
        // flight would open batch after empty batch without ever letting I/O in.
        inFlight = overlap && writesAnything(batch) ? track(commit) : null;
        if (inFlight === null) await commit;
        this.batch = null;
      }
      if (inFlight !== null) await inFlight;
    } finally {
      this.draining = false;
      this.batch = null;
      this.mailWaiter = null;
      this.wakeIdle();
    }
  }

  /** Resolves when the next message is enqueued (while a batch waits for the commit before it). */
  private nextMail(): Promise<void> {
    return new Promise<void>((resolve) => (this.mailWaiter = resolve));
  }

  /** Lets extensions register the kinds among `kinds` that no machine is registered for yet. */
  private async resolveKinds(kinds: string[]): Promise<void> {
    const unknown = [...new Set(kinds)].filter((k) => !this.options.machines.has(k));
    if (unknown.length > 0 && this.options.resolveKinds) await this.options.resolveKinds(unknown);
  }

  private async readStored(id: string): Promise<StoredActor | undefined> {
    try {
      return await this.options.store.getActor(id);
    } catch (error) {
      throw storeReadError(error, `actor ${id}`);
    }
  }

  /** Reads what the store holds under a group's ids, in one read, for the spawns that follow. */
  private async readStoredGroup(ids: string[], batch: OpenBatch): Promise<void> {
    let found: Map<string, StoredActor>;
    try {
      found = await this.options.store.getActors(ids);
    } catch (error) {
      throw storeReadError(error, `actors ${ids[0]}…`);
    }
    for (const id of ids) batch.stored.set(id, found.get(id));
  }

  /**
   * `id` and the ids of the lone spawns queued after it in this batch that the store must be
   * asked about: read together, a coordinator's thousand children cost one read, not a thousand.
   */
  private spawnsToRead(id: string, batch: OpenBatch): string[] {
    const ids = [id];
    for (let i = batch.nextFollowUp; i < batch.followUps.length && ids.length < SPAWNS_READ_TOGETHER; i++) {
      const next = batch.followUps[i] as Message;
      if (next.kind !== 'spawn' || next.group !== undefined) continue;
      if (!this.live.has(next.to) && !batch.stored.has(next.to)) ids.push(next.to);
    }
    return ids;
  }

  /** Why a group cannot be created (an id it would take is taken), or undefined. */
  private groupConflict(group: SpawnGroup, batch: OpenBatch): TroupeError | undefined {
    for (const id of group.ids) {
      const stored = batch.stored.get(id);
      const live = this.live.get(id);
      const spawnKind = group.kinds.get(id);
      // Only a settled actor of the same kind may be replaced: an id keeps its first kind forever.
      const replaceable =
        stored !== undefined && stored.settled && group.replaceable.has(id) && stored.kind === spawnKind;
      const kind = live?.kind ?? (stored !== undefined && !replaceable ? stored.kind : undefined);
      if (kind !== undefined)
        return duplicateId(id, kind, `: none of the ${group.ids.length} actors made together was created`);
    }
    return undefined;
  }

  /** Messages that need a spawn or an actor that is not live (settled, or unknown). */
  private async deliverSlow(message: DeliveryMessage | TimerMessage | SpawnMessage, batch: OpenBatch): Promise<void> {
    if (message.kind === 'spawn') {
      const group = message.group?.members;
      if (group && message.group?.head) {
        await this.readStoredGroup(group.ids, batch);
        group.refusal = this.groupConflict(group, batch);
      }
      if (!group?.refusal && !this.live.has(message.to) && !batch.stored.has(message.to)) {
        await this.readStoredGroup(this.spawnsToRead(message.to, batch), batch);
      }
      this.spawnChecked(message, batch);
      return;
    }
    const stored = await this.readStored(message.to);
    if (stored) await this.resolveKinds([stored.kind]);
    // The store may have been read while this batch already revived the actor.
    const revived = this.live.get(message.to);
    const found = revived?.kind ?? stored?.kind;
    if (
      message.kind === 'deliver' &&
      message.expectKind !== undefined &&
      found !== undefined &&
      found !== message.expectKind
    ) {
      refuseKind(message, found);
      return;
    }
    if (revived) {
      this.step(revived, message, batch);
      return;
    }
    if (!stored) {
      if (message.kind === 'timer') return;
      message.onUnapplied?.();
      message.reply?.({
        applied: false,
        error: new TroupeError('E_INVALID_INPUT', `no actor has id "${message.to}"`, { details: { missing: true } }),
      });
      return;
    }
    const entry = this.options.machines.get(stored.kind);
    const actor: LiveActor = {
      id: stored.id,
      kind: stored.kind,
      entry,
      snapshot: this.options.machines.restore(stored),
      ticketId: stored.ticketId,
    };
    if (actor.snapshot.status !== 'active') {
      if (message.kind === 'timer') return;
      message.onUnapplied?.();
      message.reply?.({ applied: false, snapshot: actor.snapshot });
      return;
    }
    // Settled but still able to move (a task being reworked): it lives again until it settles.
    // An event it does not take (a late dependency outcome) leaves it settled: back to the store only.
    this.live.set(actor.id, actor);
    this.settledRecently.delete(actor.id);
    this.step(actor, message, batch);
    if (!batch.dirty.has(actor.id) && isSettled(actor.snapshot)) this.live.delete(actor.id);
  }

  /** A spawn whose id this batch has read from the store (alone, or with its group). */
  private spawnChecked(message: SpawnMessage, batch: OpenBatch): void {
    const spawn = message.spawn;
    const refusal = message.group?.members.refusal;
    if (refusal) {
      message.reply?.({ applied: false, error: refusal });
      return;
    }
    const live = this.live.get(message.to);
    const existing = live ? undefined : batch.stored.get(message.to);
    // Only a settled actor of the same kind may be replaced (an agent registering anew): an id
    // keeps its first kind forever, so an agent never takes over a finished task's id.
    const replaceable =
      spawn.replaceSettled && existing !== undefined && existing.settled && existing.kind === spawn.kind;
    if (live || (existing !== undefined && !replaceable)) {
      message.reply?.({ applied: false, error: duplicateId(message.to, (live ?? existing)?.kind ?? spawn.kind) });
      return;
    }
    this.spawnNow(message, batch);
  }

  private spawnNow(message: SpawnMessage, batch: OpenBatch): void {
    const spawn = message.spawn;
    const entry = this.options.machines.get(spawn.kind);
    // The input is the host's (see `Message`): stamped in place, as a copy would cost more than the spawn.
    const input = spawn.input;
    input.now = this.options.clock.now();
    let result: ReturnType<RegisteredMachine['stepper']['initial']>;
    try {
      result = entry.stepper.initial(input);
    } catch (error) {
      this.reportError(error, message);
      return;
    }
    const actor: LiveActor = {
      id: message.to,
      kind: spawn.kind,
      entry,
      snapshot: result.snapshot,
      ticketId: spawn.ticketId,
    };
    this.live.set(actor.id, actor);
    this.settledRecently.delete(actor.id);
    batch.dirty.set(actor.id, actor);
    // The creation time the store pages lists by (Store.pageActors): the spawn's, as the views show it.
    (batch.created ??= new Map()).set(actor.id, input.now);
    if (spawn.announce) batch.followUps.push({ kind: 'deliver', to: spawn.announce.to, event: spawn.announce.event });
    this.effects.run(actor, result.effects, batch);
    if (message.reply) batch.replies.push([message.reply, { applied: true, snapshot: actor.snapshot }]);
  }

  private step(actor: LiveActor, message: DeliveryMessage | TimerMessage, batch: OpenBatch): void {
    if (message.kind === 'timer') this.effects.fired(actor.id, message.timer, batch);
    // The event is the host's (see `Message`): stamped in place. Copying it cost more than the
    // step itself (events come in many shapes, so a spread takes V8's slow path).
    const event = message.event;
    event.now = this.options.clock.now();
    event.rand = this.options.random();
    let result: ReturnType<RegisteredMachine['stepper']['step']>;
    try {
      result = actor.entry.stepper.step(actor.snapshot, event);
    } catch (error) {
      this.reportError(error, message);
      return;
    }
    if (!result) {
      if (message.kind === 'timer') return;
      message.onUnapplied?.();
      if (message.reply) batch.replies.push([message.reply, { applied: false, snapshot: actor.snapshot }]);
      return;
    }
    actor.snapshot = result.snapshot;
    batch.dirty.set(actor.id, actor);
    this.effects.run(actor, result.effects, batch);
    if (message.kind === 'deliver' && message.reply)
      batch.replies.push([message.reply, { applied: true, snapshot: actor.snapshot }]);
  }

  private async commit(batch: OpenBatch): Promise<void> {
    if (writesAnything(batch)) {
      const now = this.options.clock.now();
      const write = emptyBatch();
      for (const actor of batch.dirty.values()) write.actors.push(storedRecordOf(actor, now));
      write.timersSet = [...batch.timersSet.values()];
      write.timersCleared = [...batch.timersCleared.values()];
      write.events = batch.events;
      if (batch.created !== undefined) write.created = batch.created;
      try {
        await this.options.store.commit(write);
      } catch (error) {
        const failure = storeFailure(error);
        this.failBatch(batch, failure);
        this.fail(failure);
        return;
      }
    }
    // What the answers and after-commit work send or defer belongs to this batch when no other
    // is open (after-commit work may add more after-commit work, run in the loop below).
    const open = this.batch === batch ? null : this.batch;
    const lend = this.batch === null;
    if (lend) this.batch = batch;
    try {
      this.finish(batch, open);
    } finally {
      if (lend) this.batch = null;
    }
  }

  private rememberSettled(actor: LiveActor): void {
    const memory = this.settledRecently;
    memory.delete(actor.id);
    memory.set(actor.id, actor);
    if (memory.size > SETTLED_REMEMBERED) memory.delete(memory.keys().next().value as string);
  }

  private finish(batch: OpenBatch, open: OpenBatch | null): void {
    for (const actor of batch.dirty.values()) {
      // A batch built while this one committed may have moved the actor again: it stays live
      // until that batch has committed too (the store does not hold its latest state yet).
      if (isSettled(actor.snapshot) && !open?.dirty.has(actor.id)) {
        this.live.delete(actor.id);
        this.rememberSettled(actor);
      }
    }
    if (batch.events.length > 0) this.options.onCommitted?.(batch.events);
    for (const [reply, outcome] of batch.replies) reply(outcome);
    for (const fn of batch.after) this.runAfter(fn);
  }

  /** Tells everyone waiting on a batch that will never commit. */
  private failBatch(batch: OpenBatch, failure: TroupeError): void {
    const outcome: MessageOutcome = { applied: false, error: failure };
    for (const [reply] of batch.replies) reply(outcome);
    batch.replies = [];
  }

  private runAfter(fn: () => void | Promise<void>): void {
    try {
      const pending = fn();
      if (pending instanceof Promise) {
        this.pendingAfter += 1;
        pending
          .catch((error: unknown) => this.options.onError?.(error, { actorId: '', event: 'after-commit' }))
          .finally(() => {
            this.pendingAfter -= 1;
            this.wakeIdle();
          });
      }
    } catch (error) {
      this.options.onError?.(error, { actorId: '', event: 'after-commit' });
    }
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    const failure = storeFailure(error);
    this.failure = failure;
    this.timers.stop();
    const outcome: MessageOutcome = { applied: false, error: failure };
    if (this.batch) this.failBatch(this.batch, failure);
    for (let i = this.head; i < this.queue.length; i++) {
      const message = this.queue[i];
      if (message) replyOf(message)?.(outcome);
    }
    this.queue = [];
    this.head = 0;
    this.options.onFailure?.(failure);
  }

  private reportError(error: unknown, message: DeliveryMessage | TimerMessage | SpawnMessage): void {
    // A spawn's event is the machine's start (xstate's own name for it).
    const event = message.kind === 'spawn' ? 'xstate.init' : message.event.type;
    this.options.onError?.(error, { actorId: message.to, event });
    const wrapped =
      error instanceof TroupeError
        ? error
        : new TroupeError('E_INVALID_STATE', `actor ${message.to} rejected ${event}: ${String(error)}`, {
            cause: error,
          });
    replyOf(message)?.({ applied: false, error: wrapped });
  }

  private wakeIdle(): void {
    if (this.busy()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** Whether a batch has anything to store (a batch of answers alone has not). */
function writesAnything(batch: OpenBatch): boolean {
  return batch.dirty.size > 0 || batch.events.length > 0 || batch.timersSet.size > 0 || batch.timersCleared.size > 0;
}

function storeFailure(error: unknown): TroupeError {
  return error instanceof TroupeError
    ? error
    : new TroupeError('E_STORE', `the store failed to commit: ${(error as Error)?.message ?? String(error)}`, {
        cause: error,
      });
}

/** A delivery meant for one kind reached an id of another: refused, nothing changes. */
function refuseKind(message: DeliveryMessage, found: string): void {
  message.onUnapplied?.();
  message.reply?.({
    applied: false,
    error: new TroupeError(
      'E_ID_KIND_CONFLICT',
      `"${message.to}" is the id of a ${found}, not of a ${String(message.expectKind)}`,
      {
        details: { id: message.to, heldBy: found, expected: message.expectKind },
      },
    ),
  });
}
