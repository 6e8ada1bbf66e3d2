import type { TaskContext } from '../../core/machines/task-types.js';
import type { RuntimeCore } from '../../engine/runtime-core.js';
import {
  runMerge,
  type CustomMerge,
  type MergeInput,
  type MergeOutcome,
  type MergeSpec,
} from '../../core/coordination/merge-strategies.js';

/** The results and artifacts of succeeded tasks, in the order given, with their merge. */
export interface Collected {
  results: Record<string, unknown>;
  /** Artifacts of all the tasks, merged by name; on a clash the later task (in given order) wins. */
  artifacts: Record<string, unknown>;
  merged: MergeOutcome | null;
}

/** Task contexts by id, from the live registry or else the store (settled tasks live only there). */
export async function readTasks(core: RuntimeCore, ids: readonly string[]): Promise<Map<string, TaskContext>> {
  const out = new Map<string, TaskContext>();
  const missing: string[] = [];
  for (const id of ids) {
    const live = core.host.getLive(id);
    if (live?.kind === 'task') out.set(id, live.snapshot.context as TaskContext);
    else missing.push(id);
  }
  if (missing.length > 0) {
    const stored = await core.options.store.getActors(missing);
    for (const id of missing) {
      const record = stored.get(id);
      if (record?.kind === 'task') out.set(id, record.context as TaskContext);
    }
  }
  return out;
}

/**
 * Reads and merges the outputs of `sources`. Sources that did not succeed are an error here:
 * callers pass only the ones that did (a join passes those its marks say succeeded).
 */
export async function collectResults(
  core: RuntimeCore,
  sources: readonly string[],
  merge: MergeSpec | null,
  customs: ReadonlyMap<string, CustomMerge>,
): Promise<Collected> {
  const tasks = await readTasks(core, sources);
  const inputs: MergeInput[] = [];
  const results: Record<string, unknown> = {};
  const artifacts: Record<string, unknown> = {};
  for (const id of sources) {
    const task = tasks.get(id);
    if (!task?.output || task.outcome !== 'succeeded')
      throw new Error(`source ${id} has no result (it did not succeed)`);
    inputs.push({ sourceId: id, result: task.output.result });
    results[id] = task.output.result;
    Object.assign(artifacts, task.output.artifacts);
  }
  return { results, artifacts, merged: merge === null ? null : runMerge(merge, inputs, customs) };
}
