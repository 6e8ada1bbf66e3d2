/**
 * The named effects a machine may ask for. Machines stay pure: an effect is a named action with
 * plain params, and the runtime's actor host carries it out (inside the same batch for messages
 * to other actors, after the batch's commit for anything that leaves the process).
 */

/** What the host adds to every event it delivers: machines never read the clock themselves. */
export type Stamped = { now: number };

/** An observable event for the event bus and the history. */
export interface EmitParams {
  type: string;
  ticketId?: string | null;
  taskId?: string | null;
  agentId?: string | null;
  phase?: string | null;
  data?: Record<string, unknown>;
}

/** Arms the actor's durable timer `name` to fire at `at` (replacing one of the same name). */
export interface SetTimerParams {
  name: string;
  at: number;
}

export interface ClearTimerParams {
  name: string;
}

/** Several timer changes at once: one action instead of a conditional list (cheaper to step). */
export interface TimersParams {
  set: readonly SetTimerParams[];
  clear: readonly string[];
}

const NONE: readonly never[] = Object.freeze([]);
const NO_TIMERS: TimersParams = Object.freeze({ set: NONE, clear: NONE });

/** The params of a `timers` action; one shared value when there is nothing to change (the common case). */
export function timerChanges(set: readonly SetTimerParams[], clear: readonly string[]): TimersParams {
  return set.length === 0 && clear.length === 0 ? NO_TIMERS : { set, clear };
}

/** A message to another actor by address, delivered within the same batch. */
export interface TellParams {
  to: string;
  event: { type: string } & Record<string, unknown>;
}

const noop = (): void => {};

/**
 * The implementation a machine lists for an effect in `setup({ actions })`: a no-op typed with
 * the effect's params. The host intercepts effects by name; this never runs.
 */
export const hostEffect = <P = undefined>() => noop as (_: unknown, params: P) => void;

export const EFFECT_ACTIONS = {
  emit: hostEffect<EmitParams>(),
  setTimer: hostEffect<SetTimerParams>(),
  clearTimer: hostEffect<ClearTimerParams>(),
  tell: hostEffect<TellParams>(),
  timers: hostEffect<TimersParams>(),
};
