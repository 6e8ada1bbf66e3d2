import type { Step } from '../format/steps.js';
import { lazyLocate } from '../load/source.js';
import { timerName } from './protocol.js';
import { resolveTarget, stepMeta, type StepContext, needsOf } from './step-context.js';
import {
  deadline,
  emit,
  failureTransition,
  isStep,
  recordFailure,
  ref,
  runStep,
  stepPath,
  timeoutTransition,
  type StateConfig,
  type StepMeta,
  type TransitionConfig,
} from './state-kit.js';
import { taskWork, tasksOf, type StepWork } from './work.js';

/**
 * Builders for the steps that are a state with parts: a review loop (work, then reviewers,
 * round after round), a pipeline (one state per stage) and a saga (one state per step and one
 * per compensation, run in reverse after a failure).
 */

function partMeta(
  c: StepContext,
  id: string,
  kind: StepMeta['kind'],
  work: StepWork,
  path: Array<string | number>,
): StepMeta {
  const tasks = tasksOf(work);
  return {
    ...stepMeta(c, work),
    step: id,
    kind,
    unit: false,
    at: lazyLocate(c.scope.source, stepPath(c.index, ...path)),
    refs: [],
    count: tasks.length,
    requires: tasks.map((t) => t.requires),
  };
}

function compound(
  c: StepContext,
  initial: string,
  states: Record<string, StateConfig>,
  meta: Partial<StepMeta>,
  extraEntry: StateConfig['entry'] = [],
): StateConfig {
  const timer = deadline(c.qid, c.deadlineMs);
  const parts = Object.values(states).flatMap((s) => (s.meta ? [s.meta] : []));
  return {
    id: c.qid,
    initial,
    entry: [emit('pattern.step.started', { step: c.qid }), ...extraEntry, ...timer.entry],
    exit: timer.exit,
    states,
    meta: { ...stepMeta(c, null), count: null, requires: parts.flatMap((p) => p.requires), ...meta },
    tags: ['step'],
    ...(c.step.description !== undefined ? { description: c.step.description } : {}),
  };
}

const done = (step: string, target: string, actions: TransitionConfig['actions'] = []): TransitionConfig => ({
  guard: isStep(step),
  target,
  actions,
});

export function reviewState(c: StepContext & { step: Extract<Step, { review: unknown }> }): StateConfig {
  const { review } = c.step;
  const { out } = c.scope;
  const workId = `${c.qid}/work`;
  const reviewingId = `${c.qid}/reviewing`;
  const max = review.max_rounds ?? 3;
  const exhaustedTarget = resolveTarget(c.scope, c.index, review.on_exhausted ?? 'escalate', 'failure');
  const work: StepWork = {
    kind: 'review_work',
    step: workId,
    ...needsOf(c),
    review: c.qid,
    task: taskWork(review.work, c.step),
  };
  const reviewers: StepWork = {
    kind: 'review',
    step: reviewingId,
    needs: [],
    work: workId,
    reviewers: review.reviewers.map((r) => taskWork(r, c.step)),
    approval: review.approval ?? 'all',
  };
  out.works.set(workId, work);
  out.works.set(reviewingId, reviewers);
  out.events.push(
    { type: 'step.done', step: workId },
    { type: 'step.failed', step: workId, reason: 'scripted failure' },
    { type: 'review.approved', step: c.qid },
    { type: 'review.rejected', step: c.qid, feedback: 'needs work' },
    { type: 'step.failed', step: reviewingId, reason: 'scripted failure' },
  );
  const states: Record<string, StateConfig> = {
    work: {
      id: workId,
      entry: [runStep(workId, c.qid)],
      on: {
        'step.done': [done(workId, ref(reviewingId))],
        'step.failed': [failureTransition(c.qid, workId, c.failure)],
      },
      meta: partMeta(c, workId, 'review_work', work, ['review', 'work']),
    },
    reviewing: {
      id: reviewingId,
      entry: [runStep(reviewingId, c.qid)],
      on: {
        'review.approved': [
          {
            guard: isStep(c.qid),
            target: c.success,
            actions: [
              emit('pattern.review.approved', { step: c.qid }),
              emit('pattern.step.completed', { step: c.qid }),
            ],
            description: 'approved',
          },
        ],
        'review.rejected': [
          {
            guard: { type: 'roundsLeft', params: { step: c.qid, max } },
            target: ref(workId),
            actions: [
              { type: 'nextRound', params: { step: c.qid } },
              emit('pattern.review.rejected', ({ event }) => ({
                step: c.qid,
                feedback: event.type === 'review.rejected' ? event.feedback : null,
              })),
            ],
            description: `rejected, rounds left (max ${max})`,
          },
          {
            guard: isStep(c.qid),
            target: exhaustedTarget,
            actions: [
              recordFailure(c.qid, 'exhausted'),
              emit('pattern.review.exhausted', { step: c.qid, rounds: max }),
            ],
            description: 'rejected, no rounds left',
          },
        ],
        'step.failed': [failureTransition(c.qid, reviewingId, c.failure)],
      },
      meta: {
        ...partMeta(c, reviewingId, 'review_round', reviewers, ['review', 'reviewers']),
        awaits: ['review.approved'],
      },
    },
  };
  if (c.deadlineMs !== null) out.events.push({ type: 'timer', name: timerName(c.qid) });
  const node = compound(c, 'work', states, { awaits: ['review.approved'] }, [
    { type: 'startRounds', params: { step: c.qid } },
  ]);
  if (c.deadlineMs !== null) node.on = { timer: [timeoutTransition(c.qid, c.timeout)] };
  return node;
}

export function pipelineState(c: StepContext & { step: Extract<Step, { pipeline: unknown }> }): StateConfig {
  const { stages } = c.step.pipeline;
  const { out } = c.scope;
  const ids = stages.map((s) => `${c.qid}/${s.id}`);
  const producer = new Map<string, string>();
  const states: Record<string, StateConfig> = {};
  stages.forEach((stage, i) => {
    const id = ids[i] as string;
    const consumedFrom = [
      ...new Set((stage.consumes ?? []).flatMap((a) => (producer.has(a) ? [producer.get(a) as string] : []))),
    ];
    const previous = i > 0 ? (ids[i - 1] as string) : null;
    const needs = [...new Set([...(i === 0 ? c.needs : []), ...(previous ? [previous] : []), ...consumedFrom])];
    const work: StepWork = {
      kind: 'stage',
      step: id,
      needs,
      task: taskWork(stage.task, c.step),
      produces: stage.produces ?? [],
      previous,
    };
    for (const a of stage.produces ?? []) producer.set(a, id);
    out.works.set(id, work);
    out.events.push({ type: 'step.done', step: id }, { type: 'step.failed', step: id, reason: 'scripted failure' });
    const last = i === stages.length - 1;
    states[stage.id] = {
      id,
      entry: [emit('pattern.stage.started', { step: c.qid, stage: stage.id }), runStep(id)],
      on: {
        'step.done': [
          done(
            id,
            last ? c.success : ref(ids[i + 1] as string),
            last ? [emit('pattern.step.completed', { step: c.qid })] : [],
          ),
        ],
        'step.failed': [failureTransition(c.qid, id, c.failure)],
      },
      meta: partMeta(c, id, 'stage', work, ['pipeline', 'stages', i]),
    };
  });
  if (c.deadlineMs !== null) out.events.push({ type: 'timer', name: timerName(c.qid) });
  const node = compound(c, stages[0]!.id, states, { awaits: [] });
  if (c.deadlineMs !== null) node.on = { timer: [timeoutTransition(c.qid, c.timeout)] };
  return node;
}

export function sagaState(c: StepContext & { step: Extract<Step, { saga: unknown }> }): StateConfig {
  const subs = c.step.saga.steps;
  const { out } = c.scope;
  const forward = subs.map((s) => `${c.qid}/${s.id}`);
  const undo = subs.map((s) => (s.compensate ? `${c.qid}/undo_${s.id}` : null));
  /** The first compensation to run when step k did not complete: that of the latest earlier step that has one. */
  const undoFrom = (k: number): string | null => {
    for (let j = k - 1; j >= 0; j--) if (undo[j]) return undo[j] as string;
    return null;
  };
  const states: Record<string, StateConfig> = {};
  subs.forEach((sub, k) => {
    const id = forward[k] as string;
    const work: StepWork = {
      kind: 'saga_step',
      step: id,
      ...(k === 0 ? needsOf(c) : { needs: [] }),
      task: taskWork(sub.task, c.step),
      previous: k > 0 ? (forward[k - 1] as string) : null,
    };
    out.works.set(id, work);
    out.events.push({ type: 'step.done', step: id }, { type: 'step.failed', step: id, reason: 'scripted failure' });
    const rollback = undoFrom(k);
    const failed = failureTransition(c.qid, id, rollback ? ref(rollback) : c.failure);
    if (rollback)
      failed.actions = [
        ...(failed.actions ?? []),
        emit('pattern.saga.compensating', { step: c.qid, failedAt: sub.id }),
      ];
    const on: StateConfig['on'] = {
      'step.done': [
        done(
          id,
          k === subs.length - 1 ? c.success : ref(forward[k + 1] as string),
          k === subs.length - 1 ? [emit('pattern.step.completed', { step: c.qid })] : [],
        ),
      ],
      'step.failed': [failed],
    };
    if (c.deadlineMs !== null) on.timer = [timeoutTransition(c.qid, rollback ? ref(rollback) : c.timeout)];
    states[sub.id] = { id, entry: [runStep(id)], on, meta: partMeta(c, id, 'saga_step', work, ['saga', 'steps', k]) };
  });
  subs.forEach((sub, k) => {
    const id = undo[k];
    if (!id || !sub.compensate) return;
    const work: StepWork = {
      kind: 'compensate',
      step: id,
      needs: [],
      task: taskWork(sub.compensate, c.step),
      of: forward[k] as string,
    };
    out.works.set(id, work);
    out.events.push({ type: 'step.done', step: id }, { type: 'step.failed', step: id, reason: 'scripted failure' });
    const next = undoFrom(k);
    const onward: TransitionConfig[] = next
      ? [{ guard: isStep(id), target: ref(next), description: 'compensated' }]
      : [
          {
            guard: { type: 'failureKindIs', params: { step: id, kind: 'timed_out' } },
            target: c.timeout,
            description: 'compensated after timeout',
          },
          { guard: isStep(id), target: c.failure, description: 'compensated' },
        ];
    const failedOnward = onward.map((t) => ({
      ...t,
      actions: [emit('pattern.compensation.failed', { step: c.qid, compensation: sub.id })],
    }));
    states[`undo_${sub.id}`] = {
      id,
      entry: [emit('pattern.compensation.started', { step: c.qid, compensation: sub.id }), runStep(id)],
      on: { 'step.done': onward, 'step.failed': failedOnward },
      meta: partMeta(c, id, 'compensate', work, ['saga', 'steps', k, 'compensate']),
    };
  });
  if (c.deadlineMs !== null) out.events.push({ type: 'timer', name: timerName(c.qid) });
  return compound(c, subs[0]!.id, states, { awaits: [] });
}
