/**
 * The actor host's vocabulary: the messages it routes, the live actors it steps, the batch a
 * message is processed in, and the scope effect handlers get.
 */
import { TroupeError } from '../core/errors.js';
import type { EmitParams } from '../core/machines/effects.js';
import { isSettled, type RegisteredMachine } from './machine-registry.js';
import type { SteppedSnapshot } from '../core/stepper/machine-stepper.js';
import type { ActorKind, StoredActor, StoredEvent } from './store/store.js';

export type HostEvent = { type: string } & Record<string, unknown>;

export interface MessageOutcome {
  applied: boolean;
  /** The actor's snapshot after the message (absent when the actor does not exist). */
  snapshot?: SteppedSnapshot;
  error?: TroupeError;
}

/**
 * What the actor host routes: one kind per thing a message does. A message's event (and a
 * spawn's input) belongs to the host from the moment it is sent: the host stamps it with `now`
 * and `rand` in place. Senders build a fresh object per message and never reuse or change it.
 */
export type Message = DeliveryMessage | TimerMessage | SpawnMessage | RecordMessage | TurnMessage;

/** An event for one actor: live, settled in the store (revived if it takes the event), or unknown. */
export interface DeliveryMessage {
  kind: 'deliver';
  to: string;
  event: HostEvent;
  reply?: (outcome: MessageOutcome) => void;
  /** Called at once when the message did not apply (no transition took it, or no such actor). */
  onUnapplied?: () => void;
  /** Only an actor of this kind takes the event (see `ActorHost.request`). */
  expectKind?: string;
}

/** A durable timer of `to` fired: its row is cleared in the batch that delivers its event. */
export interface TimerMessage {
  kind: 'timer';
  to: string;
  event: HostEvent;
  timer: string;
}

/** Creates actor `to`, alone or as one of a group made all or none (`spawnAll`). */
export interface SpawnMessage {
  kind: 'spawn';
  to: string;
  spawn: {
    kind: ActorKind;
    input: Record<string, unknown>;
    ticketId: string | null;
    replaceSettled?: boolean;
    /** A message sent in the same batch once the actor exists, so both commit together. */
    announce?: { to: string; event: HostEvent };
  };
  reply?: (outcome: MessageOutcome) => void;
  /**
   * The group this spawn belongs to: its messages are queued one after another, taken into one
   * batch, and checked against the store with one read, made by the group's head.
   */
  group?: { members: SpawnGroup; head: boolean };
}

/** An event recorded on its own, not caused by any actor (for example an inter-agent message). */
export interface RecordMessage {
  kind: 'record';
  record: EmitParams;
  reply?: (outcome: MessageOutcome) => void;
}

/** Nothing to deliver: the message only starts a batch, so that `beforeCommit` runs. */
export interface TurnMessage {
  kind: 'turn';
}

/** The reply callback a message carries, if any. */
export function replyOf(message: Message): ((outcome: MessageOutcome) => void) | undefined {
  return message.kind === 'timer' || message.kind === 'turn' ? undefined : message.reply;
}

/** Spawns made together: all of them or none. */
export interface SpawnGroup {
  ids: string[];
  /** Ids whose settled actor may be replaced. */
  replaceable: Set<string>;
  /** The kind each id is spawned as: a settled actor is replaced only by one of its own kind. */
  kinds: Map<string, string>;
  /** Set by the first message when an id is taken: every spawn of the group is refused with it. */
  refusal?: TroupeError;
}

/** An actor to create: its kind, id, machine input and ticket. */
export interface SpawnRequest {
  kind: ActorKind;
  id: string;
  input: Record<string, unknown>;
  ticketId: string | null;
  /** A settled actor of that id may be replaced (an agent that left and registers again). */
  replaceSettled?: boolean;
  /** A message sent in the same batch once the actor exists, so both commit together. */
  announce?: { to: string; event: HostEvent };
}

export function spawnMessage(request: SpawnRequest, reply: (outcome: MessageOutcome) => void): SpawnMessage {
  const spawn: SpawnMessage['spawn'] = {
    kind: request.kind,
    input: request.input,
    ticketId: request.ticketId,
    replaceSettled: request.replaceSettled ?? false,
  };
  if (request.announce) spawn.announce = request.announce;
  return { kind: 'spawn', to: request.id, spawn, reply };
}

export interface LiveActor {
  id: string;
  kind: ActorKind;
  entry: RegisteredMachine;
  snapshot: SteppedSnapshot;
  ticketId: string | null;
}

/** What the store keeps of a live actor, as of `now`. */
export function storedRecordOf(actor: LiveActor, now: number): StoredActor {
  return {
    id: actor.id,
    kind: actor.kind,
    machineId: actor.entry.machineId,
    version: actor.entry.version,
    state: actor.snapshot.value,
    context: actor.snapshot.context,
    settled: isSettled(actor.snapshot),
    ticketId: actor.ticketId,
    updatedAt: now,
  };
}

/** What an effect handler may do while its batch is open. */
export interface BatchScope {
  /** A message to another actor, processed in this same batch; `onUnapplied` runs if no transition takes it. */
  send(to: string, event: HostEvent, onUnapplied?: () => void): void;
  /** Creates an actor in this same batch. */
  spawn(kind: ActorKind, id: string, input: Record<string, unknown>, ticketId: string | null): void;
  /** Work to run once this batch has committed (messages out of the process, async reads). */
  afterCommit(fn: () => void | Promise<void>): void;
}

export type EffectHandler = (actor: LiveActor, params: Record<string, unknown>, scope: BatchScope) => void;

/** A batch being processed: what it changed, and what waits for its commit. */
export interface OpenBatch {
  dirty: Map<string, LiveActor>;
  timersSet: Map<string, { actorId: string; name: string; at: number }>;
  timersCleared: Map<string, { actorId: string; name: string }>;
  events: StoredEvent[];
  after: Array<() => void | Promise<void>>;
  replies: Array<[(outcome: MessageOutcome) => void, MessageOutcome]>;
  /**
   * Messages the batch's own effects sent. They are part of the batch: it does not commit
   * before they are processed, so a crash can never store a cause without its consequences.
   */
  followUps: Message[];
  nextFollowUp: number;
  /** What the store holds under ids about to be spawned, read once for a whole group. */
  stored: Map<string, StoredActor | undefined>;
  /** When the actors this batch spawned were created, by id (made at the first spawn). */
  created?: Map<string, number>;
}

/** An id already taken: by which kind of actor, in the one address space all actors share. */
export function duplicateId(id: string, kind: string, detail = ''): TroupeError {
  return new TroupeError(
    'E_DUPLICATE_ID',
    `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} with id "${id}" already exists (tasks, tickets, phases and agents share one address space)${detail}`,
  );
}
