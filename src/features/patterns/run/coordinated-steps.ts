import { TroupeError } from '../../../core/errors.js';
import type { CoordinationApi } from '../../coordination/coordination-api.js';
import type { TaskTemplate } from '../../coordination/coordination-input.js';
import type { JoinView } from '../../coordination/coordinator-views.js';
import type { MergeSpec } from '../../../core/coordination/merge-strategies.js';
import type { StepWork, TaskWork } from '../compile/work.js';
import type { Outbox } from './outbox.js';
import type { RunRef } from './run-ref.js';
import { continuationId, outputTasks } from './task-ids.js';

/**
 * The steps a pattern leaves to the coordination API: a join or sync point is a coordination
 * join coordinator (a durable actor of its own, with its `coordination.join.*` /
 * `coordination.sync.*` events), a merge of task results is `coordination.merge`. The pattern
 * run hears how they ended as ordinary events.
 */

type JoinWork = Extract<StepWork, { kind: 'join' | 'sync' }>;

/** The id of a join or sync step's coordinator: found again after a restart. */
const coordinatorIdOf = (runId: string, work: JoinWork): string => `${runId}/${work.step}/${work.kind}`;

export interface CoordinatedDriver {
  coordination: CoordinationApi;
  /** Watches a task (the join's continuation) and reports its end to the run as the step's end. */
  watchTask(run: RunRef, step: string, taskId: string, out: Outbox): void;
  /** An outbox for work that happens outside any batch. */
  hostOut(): Outbox;
  onError(error: unknown): void;
}

function template(run: RunRef, id: string, work: TaskWork): TaskTemplate {
  const t: TaskTemplate = {
    id,
    type: work.type,
    description: work.description,
    requires: work.requires,
    input: work.input ?? null,
    role: 'pattern',
  };
  if (run.phase !== null) t.phase = run.phase;
  if (work.priority !== undefined) t.priority = work.priority;
  if (work.retry) {
    const b = work.retry.backoff ?? {};
    t.retry = {
      maxAttempts: work.retry.max_attempts,
      backoff: {
        ...(b.base_ms !== undefined ? { baseMs: b.base_ms } : {}),
        ...(b.factor !== undefined ? { factor: b.factor } : {}),
        ...(b.cap_ms !== undefined ? { capMs: b.cap_ms } : {}),
        ...(b.jitter !== undefined ? { jitter: b.jitter } : {}),
      },
    };
  }
  return t;
}

/**
 * Starts (or, after a restart, finds again) the join coordinator of a join or sync step and
 * waits for it: ready goes on to the continuation (if any), failed fails the step.
 */
export function startCoordinatedJoin(d: CoordinatedDriver, run: RunRef, work: JoinWork, out: Outbox): void {
  const { runId } = run;
  const id = coordinatorIdOf(runId, work);
  const from = work.kind === 'join' ? work.from : work.waitFor;
  const sources = from.flatMap((f) => outputTasks(run.compiled, run.context, runId, f) ?? []);
  const ticketId = run.ticketId ?? undefined;
  out.later(async () => {
    const exists = await d.coordination.get(id).then(
      () => true,
      () => false,
    );
    if (!exists) {
      if (work.kind === 'join') {
        const strategy =
          work.strategy === 'k_of_n'
            ? {
                strategy: 'k-of-n' as const,
                k: work.k ?? 1,
                ...(work.tolerance !== null ? { maxFailures: work.tolerance } : {}),
              }
            : work.strategy;
        await d.coordination.join({
          id,
          sources,
          strategy,
          cancelRemaining: work.cancelRemaining,
          ...(work.then ? { continuation: template(run, continuationId(runId, work.step), work.then) } : {}),
          ...(ticketId ? { ticketId } : {}),
        });
      } else {
        await d.coordination.syncPoint({
          id,
          taskIds: sources,
          ...(work.required !== null ? { requiredCount: work.required } : {}),
          ...(ticketId ? { ticketId } : {}),
        });
      }
    }
    // Not awaited here: work after a commit must end soon (the runtime is idle only once it has),
    // and a join may wait for hours. The join itself is durable; after a restart it is awaited anew.
    void d.coordination.wait(id).then(
      (view) => {
        const join = view as JoinView;
        const later = d.hostOut();
        if (join.status !== 'ready')
          later.send(runId, {
            type: 'step.failed',
            step: work.step,
            reason: join.reason ?? `${work.kind} ${id} failed`,
          });
        else if (work.kind === 'join' && work.then)
          d.watchTask(run, work.step, continuationId(runId, work.step), later);
        else later.send(runId, { type: 'step.done', step: work.step });
      },
      (error: unknown) => d.onError(error),
    );
  });
}

/** A step's deadline passed: its coordinator stops waiting (the sources it waited for go on). */
export function cancelCoordinated(d: CoordinatedDriver, runId: string, work: JoinWork, out: Outbox): void {
  const id = coordinatorIdOf(runId, work);
  out.later(async () => {
    await d.coordination.cancel(id, `step ${work.step} of pattern run ${runId} timed out`).catch((error: unknown) => {
      // Already decided: nothing is waiting any more.
      if (!(error instanceof TroupeError) || error.code !== 'E_INVALID_STATE') throw error;
    });
  });
}

/** Merges task results with `coordination.merge` (which emits `coordination.merge.completed`). */
export async function coordinatedMerge(
  d: CoordinatedDriver,
  runId: string,
  work: Extract<StepWork, { kind: 'merge' }>,
  sources: string[],
): Promise<unknown> {
  const strategy: MergeSpec = work.strategy === 'custom' ? { strategy: 'custom', name: work.fn ?? '' } : work.strategy;
  const view = await d.coordination.merge({ id: `${runId}/${work.step}/merge`, sources, strategy, incomplete: 'skip' });
  return view.value;
}
