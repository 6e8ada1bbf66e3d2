import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Runtime } from '../../../runtime.js';
import type { HttpEnv } from '../shared/http-auth.js';
import { scheduleCreateBody, scheduleList, scheduleParams, scheduleView } from '../schemas/schedule-schemas.js';
import { errors, json, jsonBody } from './route-kit.js';

const create = createRoute({
  method: 'post',
  path: '/v1/schedules',
  tags: ['schedules'],
  summary: 'Create a schedule',
  description:
    'A cron expression in a time zone that creates a task, a ticket or a pattern run at each fire time, durable across restarts (docs/controls.md, "Schedules"). Its first fire time is the first one after now. A bad expression, time zone or target is 400 `E_INVALID_INPUT` and nothing is stored; an id a live schedule (or anything else) holds is 409 `E_DUPLICATE_ID`. A removed schedule\'s id may be used again.',
  request: { body: jsonBody(scheduleCreateBody) },
  responses: {
    201: json(scheduleView, 'Created'),
    ...errors(400, 401, 403, 409, 413, 415, 429, 503),
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/schedules',
  tags: ['schedules'],
  summary: 'List schedules',
  responses: { 200: json(scheduleList, 'The active schedules'), ...errors(401, 403, 429, 503) },
});

const one = createRoute({
  method: 'get',
  path: '/v1/schedules/{id}',
  tags: ['schedules'],
  summary: 'One schedule',
  description: 'Active or removed (until retention sweeps it): 404 `E_UNKNOWN_SCHEDULE` for an id never used.',
  request: { params: scheduleParams },
  responses: { 200: json(scheduleView, 'The schedule'), ...errors(401, 403, 404, 429, 503) },
});

const remove = createRoute({
  method: 'delete',
  path: '/v1/schedules/{id}',
  tags: ['schedules'],
  summary: 'Remove a schedule',
  description:
    'No fire time after this gets a run (a run already launched goes on). Removing a removed schedule answers it as it is.',
  request: { params: scheduleParams },
  responses: { 200: json(scheduleView, 'The removed schedule'), ...errors(401, 403, 404, 429, 503) },
});

/** `/v1/schedules`: create, list, read and remove cron schedules (`runtime.schedules`). */
export function scheduleRoutes(app: OpenAPIHono<HttpEnv>, runtime: Runtime): void {
  app.openapi(create, async (c) => c.json((await runtime.schedules.create(c.req.valid('json'))) as never, 201));
  app.openapi(list, async (c) => c.json({ items: await runtime.schedules.list() } as never, 200));
  app.openapi(one, async (c) => c.json((await runtime.schedules.get(c.req.valid('param').id)) as never, 200));
  app.openapi(remove, async (c) => c.json((await runtime.schedules.remove(c.req.valid('param').id)) as never, 200));
}
