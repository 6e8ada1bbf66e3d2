/**
 * What passes between a compiled pattern's statechart and the runtime that drives it: the
 * context it keeps, the input it starts with, the events it accepts and the effects it asks for.
 * The statechart itself never runs work; it asks (`runStep`) and is told (`step.done`, ...).
 */

/** How a run ended. */
export type PatternOutcome = 'completed' | 'failed' | 'timed_out' | 'escalated' | 'cancelled';

/** Why a step did not succeed. */
export interface PatternFailure {
  step: string;
  kind: 'failed' | 'timed_out' | 'tied' | 'exhausted' | 'error';
  reason: string;
}

/**
 * The context of a pattern run. Few top-level keys on purpose (xstate copies the context with
 * `Object.assign` on each `assign`; V8 slows down on objects built so with more than ~16 keys).
 */
export interface PatternRunContext {
  runId: string;
  pattern: string;
  ticketId: string | null;
  phase: string | null;
  /** Current round of each review step (1-based). */
  rounds: Record<string, number>;
  /** The last rejection's feedback of each review step, handed to the next round's work. */
  feedback: Record<string, string | null>;
  /** The most recent failure (the cause of the outcome when the run did not complete). */
  failure: PatternFailure | null;
  outcome: PatternOutcome | null;
  /** Values a step computed rather than took from a task: a merge's result, a vote's winner. */
  results: Record<string, unknown>;
  /** When the run was started (left `pending`); the spawn time until then. */
  startedAt: number;
  settledAt: number | null;
}

/** The input of a pattern run's actor: its id, the pattern, its ticket, and the resolved inputs. */
export interface PatternRunInput {
  runId: string;
  pattern: string;
  ticketId: string | null;
  phase: string | null;
  now: number;
}

type Stamped = { now?: number };

/** Events a pattern run accepts. `step` is the qualified id of the state that did the work. */
export type PatternEvent =
  | ({ type: 'pattern.start' } & Stamped)
  | ({ type: 'step.done'; step: string; result?: unknown } & Stamped)
  | ({ type: 'step.failed'; step: string; reason: string } & Stamped)
  | ({ type: 'review.approved'; step: string } & Stamped)
  | ({ type: 'review.rejected'; step: string; feedback: string } & Stamped)
  | ({ type: 'vote.tied'; step: string } & Stamped)
  | ({ type: 'route.chosen'; step: string; route: string } & Stamped)
  | ({ type: 'pattern.signal'; name: string } & Stamped)
  | ({ type: 'pattern.cancel'; reason: string } & Stamped)
  | ({ type: 'timer'; name: string } & Stamped);

export type PatternEventType = PatternEvent['type'];

/** Effect `patternRunStep`: the runtime starts the work of state `step`. */
export interface RunStepParams {
  runId: string;
  ticketId: string | null;
  phase: string | null;
  step: string;
  round: number;
  feedback: string | null;
}

/** Effect `patternCancelStep`: the work of `step` is no longer wanted (its deadline passed). */
export interface CancelStepParams {
  runId: string;
  step: string;
  reason: string;
}

/** Effect `patternSettled`: the run ended; leftover work is cancelled and waiters woken. */
export interface PatternSettledParams {
  runId: string;
  ticketId: string | null;
  phase: string | null;
  outcome: PatternOutcome;
  failure: PatternFailure | null;
}

/** Name of the durable timer that carries a step's deadline. */
export const timerName = (step: string): string => `${step}.timeout`;

/** Route label of rule `index` of a branch (`otherwise` when no rule matched). */
export const routeLabel = (index: number): string => `r${index}`;
export const OTHERWISE = 'otherwise';
