import { readPath } from '../../../core/canonical-json.js';
import {
  runMerge,
  type CustomMerge,
  type MergeInput,
  type MergeSpec,
} from '../../../core/coordination/merge-strategies.js';
import type { RunStepParams } from '../compile/protocol.js';
import { substitute } from '../load/variables.js';
import { taskSpecSchema, type NeedPolicy } from '../format/common.js';
import { taskWork, type StepWork, type TaskWork } from '../compile/work.js';
import { decideRoute } from '../compile/route-decision.js';
import { coordinatedMerge, startCoordinatedJoin, type CoordinatedDriver } from './coordinated-steps.js';
import type { Outbox } from './outbox.js';
import type { RunRef } from './run-ref.js';
import type { Settled } from './groups.js';
import { memberTaskId, outputTasks, reviewerTaskId, roundTaskId, singleTaskId } from './task-ids.js';

/** Whether a watched task is a step's own work, or the continuation of its join. */
export type WatchRole = 'own' | 'then';

/** What starting a step needs from the driver. */
export interface StepDriver extends CoordinatedDriver {
  spawn(run: RunRef, out: Outbox, id: string, work: TaskWork, deps: string[], extra?: Record<string, unknown>): void;
  watchOne(run: RunRef, step: string, taskId: string, out: Outbox): void;
  watchGroup(run: RunRef, work: Extract<StepWork, { kind: 'vote' | 'review' }>, ids: string[], out: Outbox): void;
  /** Outcomes of tasks (live or stored), by id; absent for unknown ids. */
  read(ids: string[]): Promise<Map<string, Settled & { open: boolean }>>;
  merges: ReadonlyMap<string, CustomMerge>;
}

/**
 * The ids of the tasks of the steps named in `needs`, values of computed ones (merges, votes),
 * and the failure policy of each of those tasks where the step gave one other than `skip`.
 */
function dependencies(
  run: RunRef,
  needs: string[],
  policies: Record<string, NeedPolicy> = {},
): { deps: string[]; values: Record<string, unknown>; policies: Record<string, NeedPolicy> } {
  const deps: string[] = [];
  const values: Record<string, unknown> = {};
  const byTask: Record<string, NeedPolicy> = {};
  for (const need of needs) {
    const ids = outputTasks(run.compiled, run.context, run.runId, need);
    if (ids === null) values[need] = run.context.results[need] ?? null;
    else {
      deps.push(...ids);
      const policy = policies[need];
      if (policy !== undefined) for (const id of ids) byTask[id] = policy;
    }
  }
  return { deps, values, policies: byTask };
}

/**
 * Starts the work of one state: creates its tasks (ids derived from the run), watches them, or
 * decides at once (a split of known tasks, a branch, a merge). Decisions arrive as events.
 */
export function startStep(d: StepDriver, run: RunRef, work: StepWork, params: RunStepParams, out: Outbox): void {
  const { runId } = run;
  const done = (result?: unknown) =>
    out.send(
      runId,
      result === undefined ? { type: 'step.done', step: work.step } : { type: 'step.done', step: work.step, result },
    );
  const failed = (reason: string) => out.send(runId, { type: 'step.failed', step: work.step, reason });
  const { deps, values, policies } = dependencies(run, work.needs, work.needPolicies);
  const extra = Object.keys(values).length > 0 ? { results: values } : undefined;
  // A task of a step whose needs carry failure policies carries them as its dependencies' policies.
  const withPolicies = (t: TaskWork): TaskWork =>
    Object.keys(policies).length === 0 ? t : { ...t, dependencyPolicies: policies };
  switch (work.kind) {
    case 'task':
    case 'stage':
    case 'saga_step': {
      const id = singleTaskId(runId, work.step);
      // A saga step receives what the step before it handed on.
      const previous = work.kind === 'saga_step' && work.previous ? [singleTaskId(runId, work.previous)] : [];
      d.spawn(run, out, id, withPolicies(work.task), [...previous, ...deps], extra);
      d.watchOne(run, work.step, id, out);
      return;
    }
    case 'compensate': {
      const id = singleTaskId(runId, work.step);
      d.spawn(run, out, id, work.task, [], { compensates: singleTaskId(runId, work.of) });
      d.watchOne(run, work.step, id, out);
      return;
    }
    case 'review_work': {
      const id = roundTaskId(runId, work.step, params.round);
      d.spawn(run, out, id, withPolicies(work.task), deps, {
        ...extra,
        round: params.round,
        feedback: params.feedback,
      });
      d.watchOne(run, work.step, id, out);
      return;
    }
    case 'review': {
      const workTask = roundTaskId(runId, work.work, params.round);
      const ids = work.reviewers.map((_, i) => reviewerTaskId(runId, work.step, params.round, i));
      work.reviewers.forEach((r, i) => d.spawn(run, out, ids[i] as string, r, [workTask], { round: params.round }));
      d.watchGroup(run, work, ids, out);
      return;
    }
    case 'vote': {
      const ids = Array.from({ length: work.voters }, (_, i) => memberTaskId(runId, work.step, i));
      ids.forEach((id, i) => d.spawn(run, out, id, withPolicies(work.task), deps, { ...extra, voter: i }));
      d.watchGroup(run, work, ids, out);
      return;
    }
    case 'split': {
      if (work.tasks) {
        work.tasks.forEach((t, i) =>
          d.spawn(run, out, memberTaskId(runId, work.step, i), withPolicies(t), deps, extra),
        );
        done();
        return;
      }
      const over = work.over!;
      out.later(async () => {
        const list = readPath(await stepValue(d, run, over.from), over.path ?? '');
        if (!list.found || !Array.isArray(list.value)) {
          failed(
            `split ${work.step}: ${over.path ? `"${over.path}" in ` : ''}the result of ${over.from} is not a list`,
          );
          return;
        }
        const children = list.value.map((item, index) => {
          const spec = taskSpecSchema.safeParse(
            substitute(
              over.template,
              {
                values: new Map<string, unknown>([
                  [over.as, item],
                  ['index', index],
                ]),
              },
              [],
            ),
          );
          return spec.success
            ? taskWork(spec.data, { requires: over.requires, ...(over.retry ? { retry: over.retry } : {}) })
            : null;
        });
        if (children.some((c) => c === null)) {
          failed(`split ${work.step}: an item of the list does not make a valid task`);
          return;
        }
        children.forEach((t, i) => d.spawn(run, out, memberTaskId(runId, work.step, i), withPolicies(t!), deps, extra));
        done({ children: children.length });
      });
      return;
    }
    case 'join':
    case 'sync':
      startCoordinatedJoin(d, run, work, out);
      return;
    case 'merge': {
      out.later(async () => {
        const ids = work.from.map((from) => outputTasks(run.compiled, run.context, runId, from));
        try {
          // Results of tasks merge through the coordination API; values the run computed
          // (an earlier merge, a vote) are merged here with the same strategies.
          if (ids.every((i) => i !== null)) done(await coordinatedMerge(d, runId, work, ids.flat() as string[]));
          else {
            const inputs: MergeInput[] = [];
            for (const from of work.from) inputs.push(...(await mergeInputs(d, run, from)));
            const spec: MergeSpec =
              work.strategy === 'custom' ? { strategy: 'custom', name: work.fn ?? '' } : work.strategy;
            done(runMerge(spec, inputs, d.merges).value);
          }
        } catch (error) {
          failed(`merge ${work.step}: ${(error as Error).message}`);
        }
      });
      return;
    }
    case 'branch': {
      out.later(async () => {
        const decision = decideRoute(work.rules, await stepValue(d, run, work.on));
        out.send(runId, { type: 'route.chosen', step: work.step, route: decision.route });
      });
      return;
    }
    case 'wait':
      return;
  }
}

/** The value a step produced: a computed one, one task's result, or the results of several. */
export async function stepValue(d: StepDriver, run: RunRef, step: string): Promise<unknown> {
  const ids = outputTasks(run.compiled, run.context, run.runId, step);
  if (ids === null) return run.context.results[step] ?? null;
  const read = await d.read(ids);
  const results = ids
    .map((id) => read.get(id))
    .filter((s) => s?.status === 'succeeded')
    .map((s) => s!.result);
  const single = run.compiled.works.get(step);
  const many = single?.kind === 'split' || (single?.kind === 'join' && !single.then);
  return many ? results : (results[0] ?? null);
}

/** A merge's inputs from one source step, in the order its tasks were made (never completion order). */
async function mergeInputs(d: StepDriver, run: RunRef, step: string): Promise<MergeInput[]> {
  const ids = outputTasks(run.compiled, run.context, run.runId, step);
  if (ids === null) return [{ sourceId: step, result: run.context.results[step] ?? null }];
  const read = await d.read(ids);
  return ids.flatMap((id) =>
    read.get(id)?.status === 'succeeded' ? [{ sourceId: id, result: read.get(id)!.result }] : [],
  );
}
