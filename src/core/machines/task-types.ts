import type { ErrorCategory } from '../errors.js';
import type { RetryPolicy } from './retry-backoff.js';
import type { Stamped } from './effects.js';

/** Deadlines of one attempt, each optional and each in ms. */
export interface TaskTimeouts {
  /** From entering the queue until an agent starts the attempt. */
  start?: number;
  /** From the start of an attempt until it completes. */
  finish?: number;
  /** Longest silence (no heartbeat, no progress) allowed while running. */
  heartbeat?: number;
}

/** Why an attempt failed: the message, its category (which decides retries) and a code. */
export interface AttemptError {
  message: string;
  category: ErrorCategory;
  code: string;
  retryable: boolean;
  /** Which deadline passed, for category `timeout`. */
  timeout?: 'start' | 'finish' | 'heartbeat';
}

/** One attempt at a task: which agent under which lease, when, and how it ended. */
export interface AttemptRecord {
  attempt: number;
  agentId: string;
  leaseId: string;
  assignedAt: number;
  startedAt?: number;
  endedAt?: number;
  error?: AttemptError;
}

export interface TaskLease {
  id: string;
  agentId: string;
  assignedAt: number;
}

/** What a task's failed dependency does to it: skip it (the default), ignore it, or fail it. */
export type DependencyFailurePolicy = 'skip' | 'continue' | 'fail';

/**
 * The production controls a task is under (docs/controls.md). Absent fields do not apply; a task
 * with none shares one frozen empty object.
 */
export interface TaskControls {
  /** Units of each rate-limited key one attempt spends. */
  rateLimits?: ReadonlyArray<{ key: string; units: number }>;
  /** At most `max` running tasks share this key (resolved from the task's template when created). */
  concurrency?: { key: string; max: number };
  /** The bulkhead (class of work) whose share of agent slots the task runs in. */
  bulkhead?: string;
  /** Circuit-breaker keys the task answers to besides its rate-limit keys, `type:<type>` and `capability:<c>`. */
  breakers?: readonly string[];
  /** Dependencies whose failure does not skip the task (`skip` is the default and is not listed). */
  onDependencyFailure?: Readonly<Record<string, DependencyFailurePolicy>>;
}

/** A dead letter sent back to the queue, kept in the task's history. */
export interface RedriveRecord {
  at: number;
  /** Attempts made before the redrive: the retry budget counts from here. */
  afterAttempt: number;
  /** The error it was dead-lettered with. */
  error: AttemptError | null;
  inputChanged: boolean;
  retryChanged: boolean;
  reason: string | null;
}

/** What a task is asked to do; fixed when the task is created. */
export interface TaskSpec {
  type: string;
  description: string;
  ticketId: string | null;
  phase: string | null;
  priority: number;
  requires: string[];
  input: unknown;
  dependsOn: string[];
  retry: RetryPolicy;
  timeouts: TaskTimeouts;
  /** Free-form label, e.g. `validator` for a phase's validator task. */
  role: string | null;
  createdAt: number;
  controls: TaskControls;
  /** W3C `traceparent` of the submitter's trace; set only when one was given. */
  traceparent?: string;
}

/** Instants in the current attempt's life, in clock ms. */
export interface TaskTimes {
  queuedAt: number | null;
  startedAt: number | null;
  lastBeatAt: number | null;
  retryAt: number | null;
  settledAt: number | null;
  /** Not queued before this instant (a delayed task), null once it has passed. */
  notBefore: number | null;
}

/** What a successful attempt handed back. */
export interface TaskOutput {
  result: unknown;
  artifacts: Record<string, unknown>;
  quality: number | null;
}

/**
 * Everything the task machine knows; plain JSON, persisted as the snapshot's context.
 * Kept to few top-level keys on purpose: xstate copies the context with `Object.assign` on every
 * `assign`, and V8 turns objects of more than about 16 properties built that way into slow
 * dictionaries (measured: 0.4 µs per copy at 16 keys, 7 µs at 20).
 */
export interface TaskContext {
  id: string;
  spec: TaskSpec;
  /** Dependencies that have not succeeded yet. */
  pendingDeps: string[];
  /** False while the task's phase has not opened. */
  phaseOpen: boolean;
  attempt: number;
  attempts: AttemptRecord[];
  lease: TaskLease | null;
  at: TaskTimes;
  progress: { value: number | null; message: string | null } | null;
  output: TaskOutput | null;
  error: AttemptError | null;
  reason: string | null;
  /** The settled status, once settled. */
  outcome: TaskStatus | null;
  round: number;
  feedback: string | null;
  /** Each time the task was redriven out of the dead letters. */
  redrives: RedriveRecord[];
}

export interface TaskInput {
  id: string;
  type: string;
  description?: string;
  ticketId?: string | null;
  phase?: string | null;
  priority: number;
  requires: string[];
  input?: unknown;
  dependsOn: string[];
  /** Dependencies already succeeded when the task is created. */
  satisfiedDeps: string[];
  phaseOpen: boolean;
  retry: RetryPolicy;
  timeouts: TaskTimeouts;
  role?: string | null;
  controls?: TaskControls;
  /** Not queued before this instant. */
  notBefore?: number | null;
  /** The round the task starts in (a validator: the phase's round it judges). Default 1. */
  round?: number;
  /** Feedback it starts with (a validator: the previous round's). Default none. */
  feedback?: string | null;
  /** W3C trace context the task was submitted under (tracing; see docs/operations.md). */
  traceparent?: string;
  now: number;
}

export type TaskEvent =
  | ({ type: 'task.dependency.succeeded'; taskId: string } & Stamped)
  | ({ type: 'task.dependency.failed'; taskId: string; status: string } & Stamped)
  | ({ type: 'task.phase.opened' } & Stamped)
  | ({ type: 'task.assign'; agentId: string; leaseId: string; autoStart: boolean } & Stamped)
  | ({ type: 'task.accept'; leaseId: string } & Stamped)
  | ({ type: 'task.reject'; leaseId: string; reason: string } & Stamped)
  | ({ type: 'task.heartbeat'; leaseId: string } & Stamped)
  | ({ type: 'task.progress'; leaseId: string; value: number | null; message: string | null } & Stamped)
  | ({
      type: 'task.complete';
      leaseId: string;
      result: unknown;
      artifacts: Record<string, unknown>;
      quality: number | null;
    } & Stamped)
  | ({ type: 'task.fail'; leaseId: string; error: AttemptError; rand: number } & Stamped)
  | ({ type: 'task.agent_lost'; agentId: string; rand: number } & Stamped)
  | ({ type: 'timer'; name: string; rand: number } & Stamped)
  | ({ type: 'task.cancel'; reason: string } & Stamped)
  | ({ type: 'task.skip'; reason: string } & Stamped)
  | ({ type: 'task.rework'; feedback: string; round: number; waitFor: string[] } & Stamped)
  | ({ type: 'task.redrive'; input?: unknown; retry?: RetryPolicy; reason: string | null } & Stamped)
  | ({ type: 'task.discard'; reason: string } & Stamped);

/** Task states, as the machine names them, in the order of a task's life (the HTTP and protocol schemas list these). */
export const TASK_STATUSES = [
  'waiting',
  'queued',
  'offered',
  'running',
  'retrying',
  'succeeded',
  'dead_lettered',
  'cancelled',
  'skipped',
  'discarded',
] as const;

/** Task states, as the machine names them. */
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const SETTLED_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set([
  'succeeded',
  'dead_lettered',
  'cancelled',
  'skipped',
  'discarded',
]);
