import { jsonEqual } from '../../../core/canonical-json.js';
import { TroupeError } from '../../../core/errors.js';
import type { TaskContext, TaskSpec } from '../../../core/machines/task-types.js';
import {
  resolvePriority,
  resolveRetry,
  resolveTimeouts,
  taskCreateSchema,
  type TaskCreateInput,
} from '../../../engine/api/task-input.js';
import { stateOf, taskView, type TaskView } from '../../../engine/api/views.js';
import { dependencyIds, resolveControls } from '../../../engine/api/task-controls.js';
import type { Runtime } from '../../../runtime.js';
import { HttpError } from '../shared/http-errors.js';

/** The actor stored or live under an id, with its kind and context; undefined when none. */
export async function actorAt(
  runtime: Runtime,
  id: string,
): Promise<{ kind: string; value: unknown; context: unknown } | undefined> {
  const live = runtime.core.host.getLive(id);
  if (live) return { kind: live.kind, ...stateOf(live.snapshot) };
  const stored = await runtime.store.getActor(id);
  return stored ? { kind: stored.kind, ...stateOf(stored) } : undefined;
}

/** The spec a task request would be created with, as `prepareTasks` builds it (creation time aside). */
function specOf(runtime: Runtime, input: TaskCreateInput): Omit<TaskSpec, 'createdAt'> {
  const t = taskCreateSchema.parse(input);
  const ticketId = t.ticketId ?? null;
  return {
    type: t.type,
    description: t.description ?? '',
    ticketId,
    phase: ticketId !== null ? (t.phase ?? null) : null,
    priority: resolvePriority(t.priority),
    requires: [...new Set(t.requires ?? [])],
    input: t.input ?? null,
    dependsOn: dependencyIds(t.dependsOn),
    retry: resolveRetry(t.retry, runtime.core.options.retry),
    timeouts: resolveTimeouts(t.timeouts),
    role: t.role ?? null,
    controls: resolveControls({ ...t, id: t.id ?? '' }),
  };
}

/**
 * Whether an existing task is what this request asks for: the same spec field by field. The
 * answer to a lost response is then the task as it is now, never a second task.
 */
export function sameTask(runtime: Runtime, context: TaskContext, input: TaskCreateInput): boolean {
  const { createdAt: _createdAt, ...stored } = context.spec;
  return jsonEqual(stored, specOf(runtime, input));
}

/**
 * The task already under `input.id` if it is this very request (a resubmission), undefined if
 * the id is free; a 409 `E_DUPLICATE_ID` if the id holds something else.
 */
export async function existingTask(
  runtime: Runtime,
  input: TaskCreateInput,
  path: Array<string | number>,
): Promise<TaskView | undefined> {
  if (input.id === undefined) return undefined;
  const found = await actorAt(runtime, input.id);
  if (!found) return undefined;
  if (found.kind !== 'task')
    throw new HttpError('E_DUPLICATE_ID', `id "${input.id}" is taken by a ${found.kind}`, path);
  if (!sameTask(runtime, found.context as TaskContext, input)) {
    throw new HttpError(
      'E_DUPLICATE_ID',
      `task "${input.id}" exists with another body; resubmit the same body, or choose another id`,
      path,
    );
  }
  return taskView(found.value, found.context as TaskContext);
}

/**
 * Creates the tasks of a request, idempotently by id: tasks that exist with the same body are
 * answered as they are, the rest are created together (all or none). A request that races
 * another with the same ids is checked once more after losing.
 */
export async function submitTasks(
  runtime: Runtime,
  inputs: TaskCreateInput[],
  batch: boolean,
): Promise<{ tasks: TaskView[]; created: string[] }> {
  for (let round = 0; ; round++) {
    const existing = new Map<number, TaskView>();
    for (const [i, input] of inputs.entries()) {
      const found = await existingTask(runtime, input, batch ? ['body', 'tasks', i, 'id'] : ['body', 'id']);
      if (found) existing.set(i, found);
    }
    const fresh = inputs.filter((_, i) => !existing.has(i));
    try {
      const made = fresh.length > 0 ? await runtime.tasks.createMany(fresh) : [];
      let next = 0;
      const tasks = inputs.map((_, i) => existing.get(i) ?? (made[next++] as TaskView));
      return { tasks, created: made.map((t) => t.id) };
    } catch (error) {
      if (
        round === 0 &&
        error instanceof TroupeError &&
        error.code === 'E_DUPLICATE_ID' &&
        fresh.some((t) => t.id !== undefined)
      )
        continue;
      throw error;
    }
  }
}
