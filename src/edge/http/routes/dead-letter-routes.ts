import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { DeadLetterFilter } from '../../../engine/controls/dead-letter-index.js';
import type { Runtime } from '../../../runtime.js';
import type { HttpEnv } from '../shared/http-auth.js';
import { HttpError } from '../shared/http-errors.js';
import { deadLetterList, deadLetterQuery, redriveAnswer, redriveBody } from '../schemas/dead-letter-schemas.js';
import { errors, json, jsonBody } from './route-kit.js';

const list = createRoute({
  method: 'get',
  path: '/v1/dead-letters',
  tags: ['dead letters'],
  summary: 'List dead letters',
  description:
    'Tasks that ran out of attempts or failed for good, oldest first, filtered by type, error category or code, ticket and time (docs/controls.md).',
  request: { query: deadLetterQuery },
  responses: { 200: json(deadLetterList, 'The dead letters'), ...errors(400, 401, 403, 429, 503) },
});

const redrive = createRoute({
  method: 'post',
  path: '/v1/dead-letters/redrive',
  tags: ['dead letters'],
  summary: 'Redrive dead letters',
  description:
    'Sends the named dead letters, or those matching a filter, back to the queue with a fresh retry budget, optionally with a new input or retry policy. Every earlier attempt and the redrive stay in each task history. A task of a ticket phase is 409 `E_INVALID_STATE`.',
  request: { body: jsonBody(redriveBody) },
  responses: {
    200: json(redriveAnswer, 'The redriven tasks as they are now'),
    ...errors(400, 401, 403, 404, 409, 413, 415, 429, 503),
  },
});

type Filterish = {
  type?: string | undefined;
  category?: string | undefined;
  code?: string | undefined;
  ticket?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
};

function filterOf(q: Filterish): DeadLetterFilter {
  const f: DeadLetterFilter = {};
  if (q.type !== undefined) f.type = q.type;
  if (q.category !== undefined) f.category = q.category;
  if (q.code !== undefined) f.code = q.code;
  if (q.ticket !== undefined) f.ticketId = q.ticket;
  if (q.since !== undefined) f.since = q.since;
  if (q.until !== undefined) f.until = q.until;
  return f;
}

/** `/v1/dead-letters`: list and redrive the dead-letter queue. */
export function deadLetterRoutes(app: OpenAPIHono<HttpEnv>, runtime: Runtime): void {
  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const items = await runtime.deadLetters.list({ ...filterOf(q), limit: q.limit });
    return c.json({ items } as never, 200);
  });

  app.openapi(redrive, async (c) => {
    const body = c.req.valid('json');
    const filter = filterOf(body);
    const ids = body.ids ?? [];
    if (ids.length === 0 && Object.keys(filter).length === 0 && body.all !== true) {
      throw new HttpError(
        'E_INVALID_INPUT',
        'name ids, give a filter, or set "all": true to redrive every dead letter',
        ['body'],
      );
    }
    const changes: Parameters<Runtime['deadLetters']['redrive']>[1] = {};
    if (body.input !== undefined) changes.input = body.input;
    if (body.retry !== undefined) changes.retry = body.retry as NonNullable<typeof changes.retry>;
    if (body.reason !== undefined) changes.reason = body.reason;
    const redriven = await runtime.deadLetters.redrive(ids.length > 0 ? ids : filter, changes);
    return c.json({ redriven } as never, 200);
  });
}
