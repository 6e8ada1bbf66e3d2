import type { CompiledPattern } from '../compile/compile.js';
import type { PatternRunContext } from '../compile/protocol.js';
import type { StepWork } from '../compile/work.js';

/**
 * Task ids of a run, derived from the run, the state and the round, never drawn at random: a
 * run resumed after a restart finds the tasks it made, and test scripts know them in advance.
 *
 * - one task of a state: `<run>/<state>` (`run-1/build`, `run-1/etl/extract`)
 * - children, voters: `<run>/<state>/<i>`
 * - a join's continuation: `<run>/<state>/then`
 * - a review's work and reviewers in round r: `<run>/<state>/work/r<r>`, `<run>/<state>/reviewing/r<r>/<i>`
 */
export const singleTaskId = (run: string, state: string): string => `${run}/${state}`;
export const memberTaskId = (run: string, state: string, index: number): string => `${run}/${state}/${index}`;
export const continuationId = (run: string, state: string): string => `${run}/${state}/then`;
export const roundTaskId = (run: string, state: string, round: number): string => `${run}/${state}/r${round}`;
export const reviewerTaskId = (run: string, state: string, round: number, index: number): string =>
  `${run}/${state}/r${round}/${index}`;

/** How many children a split made: known at compile time, or recorded when it ran over a result. */
export function splitSize(work: Extract<StepWork, { kind: 'split' }>, context: PatternRunContext): number {
  if (work.tasks) return work.tasks.length;
  const recorded = context.results[work.step] as { children?: unknown } | undefined;
  return typeof recorded?.children === 'number' ? recorded.children : 0;
}

/**
 * The tasks that carry a state's outcome (for `needs`, join sources, merges and branches), or
 * null for a state whose value is computed (a merge, a vote) and kept in the run's context.
 */
export function outputTasks(
  compiled: CompiledPattern,
  context: PatternRunContext,
  run: string,
  state: string,
): string[] | null {
  const work = compiled.works.get(state);
  if (!work) {
    // A compound step (review, pipeline, saga): its last part carries the outcome.
    const parts = [...compiled.works.values()].filter(
      (w) => w.step.startsWith(`${state}/`) && w.kind !== 'compensate' && w.kind !== 'review',
    );
    const last = parts[parts.length - 1];
    return last ? outputTasks(compiled, context, run, last.step) : [];
  }
  switch (work.kind) {
    case 'task':
    case 'stage':
    case 'saga_step':
    case 'compensate':
      return [singleTaskId(run, state)];
    case 'review_work':
      return [roundTaskId(run, state, context.rounds[work.review] ?? 1)];
    case 'split':
      return Array.from({ length: splitSize(work, context) }, (_, i) => memberTaskId(run, state, i));
    case 'join':
      return work.then
        ? [continuationId(run, state)]
        : work.from.flatMap((f) => outputTasks(compiled, context, run, f) ?? []);
    case 'review':
      return outputTasks(compiled, context, run, work.work);
    case 'merge':
    case 'vote':
      return null;
    case 'branch':
    case 'sync':
    case 'wait':
      return [];
  }
}
