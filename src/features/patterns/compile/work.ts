import { durationMs, type NeedPolicy, type RetrySpec, type TaskSpec } from '../format/common.js';
import type { JoinStrategy, MergeStrategy, RoutingRule } from '../format/steps.js';

/**
 * What the runtime does when a state of a compiled pattern asks for its work (`runStep`). Ids
 * are qualified (`review`, `build/review`) and refer to states of the same statechart.
 */

/** One task as it will be created: the step's settings folded into the task's own. */
export interface TaskWork {
  type: string;
  description: string;
  input: unknown;
  priority?: TaskSpec['priority'];
  requires: string[];
  retry?: RetrySpec;
  /** The production controls of the task, as the YAML gave them (docs/controls.md). */
  controls?: TaskWorkControls;
  /** Not queued before this long after it is created. */
  delayMs?: number;
  /** Failure policies of its dependencies other than `skip`, by task id (set when the step starts). */
  dependencyPolicies?: Record<string, NeedPolicy>;
}

/** Controls a pattern task takes: what `tasks.create` takes, in the pattern's words. */
export interface TaskWorkControls {
  rateLimits?: Array<{ key: string; units: number }>;
  concurrency?: { key: string; max: number };
  breakers?: string[];
  bulkhead?: string;
}

interface Base {
  /** Qualified id of the state. */
  step: string;
  /** States whose tasks this work's tasks depend on (and receive results and artifacts from). */
  needs: string[];
  /** What a failure of those states' tasks does to this work's tasks, when not `skip`. */
  needPolicies?: Record<string, NeedPolicy>;
}

/** The work one compiled step asks the runtime for (a task, a split, a join ...), as data the run actor hands over. */
export type StepWork =
  | (Base & { kind: 'task'; task: TaskWork })
  | (Base & {
      kind: 'split';
      /** The children, when known at compile time (fixed, count, or a list input). */
      tasks: TaskWork[] | null;
      /** Children from a list in an earlier step's result, made when the split runs. */
      over: {
        from: string;
        path: string | null;
        as: string;
        template: TaskSpec;
        requires: string[];
        retry?: RetrySpec;
      } | null;
    })
  | (Base & {
      kind: 'join';
      from: string[];
      strategy: JoinStrategy;
      k: number | null;
      tolerance: number | null;
      then: TaskWork | null;
      cancelRemaining: boolean;
    })
  | (Base & { kind: 'sync'; waitFor: string[]; required: number | null; continueOnTimeout: boolean })
  | (Base & { kind: 'merge'; from: string[]; strategy: MergeStrategy; fn: string | null })
  | (Base & { kind: 'stage'; task: TaskWork; produces: string[]; previous: string | null })
  | (Base & { kind: 'review_work'; review: string; task: TaskWork })
  | (Base & { kind: 'review'; work: string; reviewers: TaskWork[]; approval: 'all' | 'any' | 'majority' })
  | (Base & { kind: 'vote'; voters: number; task: TaskWork; field: string | null })
  | (Base & { kind: 'branch'; on: string; rules: RoutingRule[] })
  | (Base & { kind: 'saga_step'; task: TaskWork; previous: string | null })
  | (Base & { kind: 'compensate'; task: TaskWork; of: string })
  | (Base & { kind: 'wait'; signal: string });

export type StepWorkKind = StepWork['kind'];

/** Folds a step's capability and retry settings into one of its tasks. */
export function taskWork(spec: TaskSpec, step: { requires?: string[]; retry?: RetrySpec }): TaskWork {
  const requires = [...new Set([...(step.requires ?? []), ...(spec.requires ?? [])])];
  const work: TaskWork = { type: spec.type, description: spec.description ?? '', input: spec.input ?? null, requires };
  if (spec.priority !== undefined) work.priority = spec.priority;
  const retry = spec.retry ?? step.retry;
  if (retry !== undefined) work.retry = retry;
  const controls: TaskWorkControls = {};
  if (spec.rate_limits !== undefined && spec.rate_limits.length > 0)
    controls.rateLimits = spec.rate_limits.map((r) => ({ key: r.key, units: r.units ?? 1 }));
  if (spec.concurrency !== undefined) controls.concurrency = { key: spec.concurrency.key, max: spec.concurrency.max };
  if (spec.breakers !== undefined && spec.breakers.length > 0) controls.breakers = [...new Set(spec.breakers)];
  if (spec.bulkhead !== undefined) controls.bulkhead = spec.bulkhead;
  if (Object.keys(controls).length > 0) work.controls = controls;
  if (spec.delay !== undefined) work.delayMs = durationMs(spec.delay);
  return work;
}

/** Every task a piece of work creates when it runs (known ones only), for capability checks. */
export function tasksOf(work: StepWork): TaskWork[] {
  switch (work.kind) {
    case 'task':
    case 'stage':
    case 'review_work':
    case 'saga_step':
    case 'compensate':
      return [work.task];
    case 'vote':
      return [work.task];
    case 'split':
      return (
        work.tasks ??
        (work.over
          ? [{ type: work.over.template.type, description: '', input: null, requires: work.over.requires }]
          : [])
      );
    case 'join':
      return work.then ? [work.then] : [];
    case 'review':
      return work.reviewers;
    default:
      return [];
  }
}
