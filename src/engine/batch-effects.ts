import type { EmitParams, SetTimerParams, TellParams, TimersParams } from '../core/machines/effects.js';
import type { Clock } from './clock.js';
import type { BatchScope, EffectHandler, LiveActor, Message, OpenBatch } from './host-types.js';
import type { RequestedEffect } from '../core/stepper/machine-stepper.js';
import type { StoredEvent } from './store/store.js';
import type { TimerWheel } from './timer-wheel.js';

export interface BatchEffectsOptions {
  clock: Clock;
  /** The armed timers of this process; the batch's timer rows are kept beside them. */
  timers: TimerWheel;
  /** Handlers for the effects not carried out here. */
  handlers: Record<string, EffectHandler>;
  scope: BatchScope;
  /** A message the batch's own effects send (processed before it commits). */
  followUp: (message: Message) => void;
  onError?: (error: unknown, context: { actorId: string; event: string }) => void;
}

const timerKey = (actorId: string, name: string) => `${actorId}\u0000${name}`;

/**
 * What a step's effects do to the open batch: events numbered and recorded, durable timers armed
 * and cleared (in memory and as rows to write), messages to other actors, and the effects the
 * runtime handles (the dispatcher, transports, coordinators).
 */
export class BatchEffects {
  /** The last event number given; restored from the store at start. */
  seq = 0;
  /** How far apart event numbers are: 1, or a sharded store's shard count (`Store.eventSeqStride`). */
  seqStride = 1;

  constructor(private readonly options: BatchEffectsOptions) {}

  run(actor: LiveActor, effects: RequestedEffect[], batch: OpenBatch): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'emit':
          batch.events.push(this.event(effect.params as unknown as EmitParams));
          break;
        case 'setTimer': {
          const { name, at } = effect.params as unknown as SetTimerParams;
          this.setTimer(actor.id, name, at, batch);
          break;
        }
        case 'clearTimer':
          this.clearTimer(actor.id, (effect.params as { name: string }).name, batch);
          break;
        case 'timers': {
          const { set, clear } = effect.params as unknown as TimersParams;
          for (const name of clear) this.clearTimer(actor.id, name, batch);
          for (const t of set) this.setTimer(actor.id, t.name, t.at, batch);
          break;
        }
        case 'tell': {
          const { to, event } = effect.params as unknown as TellParams;
          this.options.followUp({ kind: 'deliver', to, event });
          break;
        }
        default: {
          const handler = this.options.handlers[effect.type];
          try {
            if (!handler) throw new Error(`no handler for effect "${effect.type}" asked by ${actor.kind} ${actor.id}`);
            handler(actor, effect.params, this.options.scope);
          } catch (error) {
            // A handler bug must not stop the batch: the other actors' work still commits.
            this.options.onError?.(error, { actorId: actor.id, event: `effect ${effect.type}` });
          }
        }
      }
    }
  }

  /** The next event, numbered and stamped with the clock. */
  event(params: EmitParams): StoredEvent {
    this.seq += this.seqStride;
    return {
      seq: this.seq,
      type: params.type,
      at: this.options.clock.now(),
      ticketId: params.ticketId ?? null,
      taskId: params.taskId ?? null,
      agentId: params.agentId ?? null,
      phase: params.phase ?? null,
      data: params.data ?? {},
    };
  }

  /** A timer fired: its row goes from the store unless handling it arms it again. */
  fired(actorId: string, name: string, batch: OpenBatch): void {
    const key = timerKey(actorId, name);
    batch.timersSet.delete(key);
    batch.timersCleared.set(key, { actorId, name });
  }

  private setTimer(actorId: string, name: string, at: number, batch: OpenBatch): void {
    const key = timerKey(actorId, name);
    batch.timersCleared.delete(key);
    batch.timersSet.set(key, { actorId, name, at });
    this.options.timers.set(actorId, name, at);
  }

  private clearTimer(actorId: string, name: string, batch: OpenBatch): void {
    const key = timerKey(actorId, name);
    if (this.options.timers.clear(actorId, name) || batch.timersSet.has(key)) {
      batch.timersSet.delete(key);
      batch.timersCleared.set(key, { actorId, name });
    }
  }
}
