import { z } from 'zod';
import { TASK_STATUSES } from '../../../core/machines/task-types.js';
import { taskCreateSchema } from '../../../engine/api/task-input.js';
import { taskViewShape } from '../../server/protocol/shapes.js';
import { csv, pageOf, pageQueryShape } from './common-schemas.js';

/** One task as `POST /v1/tasks` takes it: what `runtime.tasks.create` takes. */
export const taskCreateBody = taskCreateSchema.meta({
  description:
    'A task. Give it an `id` to make resubmitting safe: the same body under a used id answers with the existing task.',
});

/** A batch: created together or not at all, and may depend on each other by id. */
export const taskBatchBody = z
  .strictObject({ tasks: z.array(taskCreateBody).min(1).max(1_000) })
  .meta({ description: 'Several tasks, created together or not at all; they may depend on each other by id.' });

export const taskSubmitBody = z.union([taskBatchBody, taskCreateBody]);

export const taskView = taskViewShape;

export const taskSubmitAnswer = z
  .strictObject({
    tasks: z.array(taskView),
    created: z
      .array(z.string())
      .meta({ description: 'Ids created by this request; the others existed already with the same body.' }),
  })
  .meta({ description: 'The tasks in the order given.' });

export const taskListQuery = z.strictObject({
  status: csv(z.enum(TASK_STATUSES))
    .optional()
    .meta({ description: 'Comma-separated statuses, e.g. `queued,running`.' }),
  ticket: z.string().min(1).max(300).optional().meta({ description: 'Tasks of this ticket.' }),
  phase: z.string().min(1).max(300).optional().meta({ description: 'Tasks of this phase (with `ticket`).' }),
  type: z.string().min(1).max(200).optional(),
  agent: z.string().min(1).max(200).optional().meta({ description: 'Tasks this agent holds or made an attempt at.' }),
  ...pageQueryShape,
});

export const taskPage = pageOf(taskView, 'tasks');

export type TaskSubmitBody = z.input<typeof taskSubmitBody>;
export type TaskListQuery = z.input<typeof taskListQuery>;
