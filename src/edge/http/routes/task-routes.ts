import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Runtime } from '../../../runtime.js';
import type { HttpEnv } from '../shared/http-auth.js';
import { storePageOf, storePageRequest } from '../shared/paging.js';
import { cancelBodySchema, idParams } from '../schemas/common-schemas.js';
import { taskListQuery, taskPage, taskSubmitAnswer, taskSubmitBody, taskView } from '../schemas/task-schemas.js';
import { submitTasks } from './task-submission.js';
import { errors, json, jsonBody } from './route-kit.js';

const submit = createRoute({
  method: 'post',
  path: '/v1/tasks',
  tags: ['tasks'],
  summary: 'Create a task, or a batch of tasks',
  description:
    'One task, or `{ "tasks": [...] }` created together or not at all. Idempotent by id: tasks whose id exists with the same body are answered as they are (200 when nothing was created); a used id with another body is 409 `E_DUPLICATE_ID`.',
  request: { body: jsonBody(taskSubmitBody) },
  responses: {
    201: json(taskSubmitAnswer, 'Created (some may have existed already: see `created`)'),
    200: json(taskSubmitAnswer, 'Every task existed already with this body; nothing changed'),
    ...errors(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/tasks',
  tags: ['tasks'],
  summary: 'List tasks',
  description: 'Live and settled tasks, filtered, newest first, a page at a time.',
  request: { query: taskListQuery },
  responses: { 200: json(taskPage, 'A page of tasks'), ...errors(400, 401, 403, 429, 503) },
});

const one = createRoute({
  method: 'get',
  path: '/v1/tasks/{id}',
  tags: ['tasks'],
  summary: 'One task, whole',
  description: 'State, attempts with their errors, result, artifacts, progress and timings.',
  request: { params: idParams },
  responses: { 200: json(taskView, 'The task'), ...errors(401, 403, 404, 429, 503) },
});

const cancel = createRoute({
  method: 'post',
  path: '/v1/tasks/{id}/cancel',
  tags: ['tasks'],
  summary: 'Cancel a task',
  description: 'A running agent is told to stop. A settled task is 409 `E_INVALID_STATE` and stays as it was.',
  request: { params: idParams, body: jsonBody(cancelBodySchema, false) },
  responses: { 200: json(taskView, 'The cancelled task'), ...errors(401, 403, 404, 409, 413, 415, 429, 503) },
});

/** `/v1/tasks`: submit, list, read and cancel tasks. */
export function taskRoutes(app: OpenAPIHono<HttpEnv>, runtime: Runtime): void {
  app.openapi(submit, async (c) => {
    const body = c.req.valid('json');
    const batch = 'tasks' in body;
    const answer = await submitTasks(runtime, batch ? body.tasks : [body], batch);
    return c.json(answer as never, answer.created.length > 0 ? 201 : 200);
  });

  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const page = await runtime.tasks.page(
      {
        ...(q.status !== undefined ? { status: q.status } : {}),
        ...(q.ticket !== undefined ? { ticketId: q.ticket } : {}),
        ...(q.phase !== undefined ? { phase: q.phase } : {}),
        ...(q.type !== undefined ? { type: q.type } : {}),
        ...(q.agent !== undefined ? { agentId: q.agent } : {}),
      },
      storePageRequest(q),
    );
    return c.json(storePageOf(page) as never, 200);
  });

  app.openapi(one, async (c) => c.json((await runtime.tasks.get(c.req.valid('param').id)) as never, 200));

  app.openapi(cancel, async (c) => {
    const body = c.req.valid('json') as { reason?: string } | undefined;
    return c.json((await runtime.tasks.cancel(c.req.valid('param').id, body?.reason)) as never, 200);
  });
}
