/**
 * The contract of a task handler, the function that does a task's work: what it gets (the task,
 * its context package and controls) and how what it throws becomes an attempt's error. Shared by
 * in-process agents and the SDK's remote agents.
 */
import { NonRetryableError, TroupeError, type ErrorCategory } from '../../core/errors.js';
import type { AttemptError } from '../../core/machines/task-types.js';
import type { ContextPackage } from './context-package.js';
import type { TaskView } from './views.js';

/** What a handler receives besides the task: its context package and its controls. */
export interface TaskHandlerContext extends ContextPackage {
  /** Fires when the task is cancelled, times out, or the agent is lost. */
  signal: AbortSignal;
  /** Tells the runtime the work is alive (resets the task's heartbeat deadline). */
  heartbeat(): void;
  /** Reports progress (0..1 or any number you like) with an optional message; counts as a heartbeat. */
  progress(value: number | null, message?: string): void;
  /** Hands an artifact on, by name, to the tasks that depend on this one and to the phase gate. */
  artifact(name: string, value: unknown): void;
  /** Reports a quality score for the phase gate. */
  quality(score: number): void;
  /** Sends a message to another agent by id (delivered as an `agent.message` event). */
  message(toAgentId: string, body: unknown): void;
}

/**
 * A task handler: gets the task and its context; what it returns is the task's result (plain
 * JSON). Throwing fails the attempt (retried with backoff); throwing `NonRetryableError` does
 * not retry.
 */
export type TaskHandler = (task: TaskView, context: TaskHandlerContext) => unknown;

/** Classifies a thrown value into the error an attempt records. */
export function toAttemptError(error: unknown): AttemptError {
  if (error instanceof NonRetryableError) {
    return { message: error.message, category: 'permanent', code: 'E_NON_RETRYABLE', retryable: false };
  }
  if (error instanceof TroupeError) {
    const category: ErrorCategory =
      error.code === 'E_TIMEOUT'
        ? 'timeout'
        : error.code === 'E_CANCELLED'
          ? 'cancelled'
          : error.retryable
            ? 'transient'
            : 'permanent';
    return { message: error.message, category, code: error.code, retryable: error.retryable };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message, category: 'transient', code: 'E_TASK_FAILED', retryable: true };
}
