import type { MergeSpec } from './merge-strategies.js';
import type { RetryPolicy } from '../machines/retry-backoff.js';
import type { TaskInput, TaskStatus, TaskTimeouts, TaskControls } from '../machines/task-types.js';

/**
 * Types shared by the coordinator machines and the runtime side that carries out their effects.
 * Everything here is plain JSON: it is persisted in snapshots.
 */

/** The kinds of coordinator actor, as stored beside each snapshot. */
export const COORDINATOR_KINDS = {
  split: 'coordination.split',
  join: 'coordination.join',
  guard: 'coordination.guard',
  route: 'coordination.route',
  saga: 'coordination.saga',
  resource: 'coordination.resource',
  barrier: 'coordination.barrier',
  quality: 'coordination.quality',
} as const;
export type CoordinatorKind = (typeof COORDINATOR_KINDS)[keyof typeof COORDINATOR_KINDS];

/** A task description with every default applied, not yet bound to an id or to its sources. */
export interface ResolvedTemplate {
  /** An explicit id; when null the coordinator names the task. */
  id: string | null;
  type: string;
  description: string;
  phase: string | null;
  priority: number;
  requires: string[];
  input: unknown;
  /** Further tasks it waits for, besides the ones the coordinator adds. */
  dependsOn: string[];
  retry: RetryPolicy;
  timeouts: TaskTimeouts;
  role: string | null;
  /** Production controls; the concurrency key still a template, filled when a task is bound. */
  controls?: TaskControls;
  /** A split nested under this task: it splits again once this task succeeds. */
  split: SplitPlan | null;
}

/** What a split makes of its source: fixed targets, or one child per item of a list in its result. */
export interface SplitPlan {
  targets: ResolvedTemplate[] | null;
  map: { path: string; task: ResolvedTemplate; maxItems: number } | null;
}

/** A task the runtime is asked to create: the task machine's input without the clock. */
export type TaskSpawn = Omit<TaskInput, 'now'>;

/** Any actor the runtime is asked to create in the same batch. */
export interface ActorSpawn {
  kind: string;
  id: string;
  input: Record<string, unknown>;
  ticketId: string | null;
}

/** A task's result as far as coordinators look at it. */
export interface SettledOutput {
  result: unknown;
  quality: number | null;
}

/** Sent by the runtime to a coordinator watching a task, once that task settles. */
export interface TaskSettledEvent {
  type: 'coordination.task_settled';
  /** The position the coordinator gave the task when it asked to watch it. */
  index: number;
  taskId: string;
  /** `missing` when no task has that id. */
  status: TaskStatus | 'missing';
  /** Present when the watch asked for outputs and the task succeeded. */
  output?: SettledOutput | null;
  attempt?: number;
  error?: { code: string; message: string } | null;
}

/** One character per source in a coordinator's `marks`: cheap to copy, cheap to store. */
export const MARK = {
  open: '.',
  succeeded: 's',
  dead_lettered: 'd',
  cancelled: 'c',
  skipped: 'k',
  missing: 'x',
} as const;

const MARK_STATUS: Record<string, TaskStatus | 'missing'> = {
  s: 'succeeded',
  d: 'dead_lettered',
  c: 'cancelled',
  k: 'skipped',
  x: 'missing',
};

/** The mark for a settled status (anything unexpected counts as missing). */
export function markOf(status: string): string {
  return (MARK as Record<string, string>)[status] ?? MARK.missing;
}

export function statusOfMark(mark: string): TaskStatus | 'missing' | null {
  return MARK_STATUS[mark] ?? null;
}

/** Replaces one character; V8 copies the string once, which stays O(n) bytes, not O(n) objects. */
export function setMark(marks: string, index: number, mark: string): string {
  return marks.slice(0, index) + mark + marks.slice(index + 1);
}

/** The output a coordinator hands to the tasks it holds, in the shape of a task's output. */
export interface HandoffOutput {
  result: unknown;
  artifacts: Record<string, unknown>;
  quality: number | null;
}

export type { MergeSpec };
