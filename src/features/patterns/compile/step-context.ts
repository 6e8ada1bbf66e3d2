import { durationMs, needPolicy, needStep, type NeedPolicy } from '../format/common.js';
import { stepKind, type Step } from '../format/steps.js';
import { stepReferences } from '../load/references.js';
import { lazyLocate } from '../load/source.js';
import type { ProblemLocation } from '../problems/problems.js';
import { qualify, ref, stepPath, type CompileScope, type StepMeta } from './state-kit.js';
import { tasksOf, type StepWork } from './work.js';

/** What every state builder knows about the step it builds. */
export interface StepContext {
  scope: CompileScope;
  index: number;
  step: Step;
  /** Qualified id of the step's state. */
  qid: string;
  at: ProblemLocation;
  success: string;
  failure: string;
  timeout: string;
  deadlineMs: number | null;
  /** Qualified ids of the steps named in `needs`. */
  needs: string[];
  /** Failure policies other than `skip` of those steps, by qualified id. */
  needPolicies: Record<string, NeedPolicy>;
  refs: StepMeta['refs'];
}

/** The `needs` of a step's work: ids, and the failure policies when any is not `skip`. */
export function needsOf(c: StepContext): { needs: string[]; needPolicies?: Record<string, NeedPolicy> } {
  return Object.keys(c.needPolicies).length === 0
    ? { needs: c.needs }
    : { needs: c.needs, needPolicies: c.needPolicies };
}

/** Where a target word or step id leads from step `index`. */
export function resolveTarget(
  scope: CompileScope,
  index: number,
  word: string,
  as: 'success' | 'failure' | 'timeout',
): string {
  switch (word) {
    case 'end':
      return scope.exits.end;
    case 'fail':
      return as === 'timeout' ? scope.exits.timeout : scope.exits.fail;
    case 'escalate':
      return scope.exits.escalate;
    case 'continue':
      return stepAfter(scope, index, 1);
    default:
      return ref(qualify(scope, word));
  }
}

/** The state `distance` steps after `index` in document order, or the end. */
export function stepAfter(scope: CompileScope, index: number, distance: number): string {
  const next = scope.pattern.steps[index + distance];
  return next ? ref(qualify(scope, next.id)) : scope.exits.end;
}

export function stepContext(scope: CompileScope, index: number): StepContext {
  const step = scope.pattern.steps[index] as Step;
  const refs = stepReferences(step, index)
    .filter((r) => r.role === 'data')
    .map((r) => ({ to: qualify(scope, r.to), at: lazyLocate(scope.source, r.path) }));
  if ('branch' in step && step.branch.on === undefined && index > 0) {
    refs.push({
      to: qualify(scope, (scope.pattern.steps[index - 1] as Step).id),
      at: lazyLocate(scope.source, stepPath(index, 'branch')),
    });
  }
  return {
    scope,
    index,
    step,
    qid: qualify(scope, step.id),
    at: lazyLocate(scope.source, stepPath(index)),
    success: resolveTarget(scope, index, step.next ?? 'continue', 'success'),
    failure: resolveTarget(scope, index, step.on_failure ?? 'fail', 'failure'),
    timeout: resolveTarget(scope, index, step.on_timeout ?? 'fail', 'timeout'),
    deadlineMs: step.timeout === undefined ? null : durationMs(step.timeout),
    needs: (step.needs ?? []).map((n) => qualify(scope, needStep(n))),
    needPolicies: Object.fromEntries(
      (step.needs ?? [])
        .filter((n) => needPolicy(n) !== 'skip')
        .map((n) => [qualify(scope, needStep(n)), needPolicy(n)]),
    ),
    refs,
  };
}

/** The metadata of a step's state, from its work. */
export function stepMeta(c: StepContext, work: StepWork | null, extra: Partial<StepMeta> = {}): StepMeta {
  const tasks = work ? tasksOf(work) : [];
  return {
    step: c.qid,
    kind: stepKind(c.step),
    unit: true,
    pattern: c.scope.pattern.name,
    at: c.at,
    awaits: ['step.done'],
    refs: c.refs,
    count: tasks.length,
    requires: tasks.map((t) => t.requires),
    ...(c.needs.length > 0
      ? { needs: c.needs.map((step) => ({ step, onFailure: c.needPolicies[step] ?? 'skip' })) }
      : {}),
    ...extra,
  };
}
