import type { ActorHost } from '../../../engine/actor-host.js';
import type { BatchScope, HostEvent } from '../../../engine/host-types.js';

/**
 * Where the driver's messages go: into the open batch (so they commit with what caused them),
 * or, for work done after a commit (reading the store), as new messages.
 */
export interface Outbox {
  send(to: string, event: HostEvent): void;
  /** Creates a task actor; one that already exists (work resumed after a restart) is left alone. */
  spawnTask(id: string, input: Record<string, unknown>, ticketId: string | null): void;
  /** Runs `fn` once the current batch has committed (at once when there is none). */
  later(fn: () => Promise<void>): void;
}

export function batchOutbox(scope: BatchScope): Outbox {
  return {
    send: (to, event) => scope.send(to, event),
    spawnTask: (id, input, ticketId) => scope.spawn('task', id, input, ticketId),
    later: (fn) => scope.afterCommit(fn),
  };
}

export function hostOutbox(host: ActorHost, onError: (error: unknown) => void): Outbox {
  return {
    send: (to, event) => {
      if (!host.failed) host.send(to, event);
    },
    spawnTask: (id, input, ticketId) => {
      if (!host.failed) void host.spawn('task', id, input, ticketId).catch(onError);
    },
    later: (fn) => void fn().catch(onError),
  };
}
