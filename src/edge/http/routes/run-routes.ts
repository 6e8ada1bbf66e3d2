import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Runtime } from '../../../runtime.js';
import type { HttpEnv } from '../shared/http-auth.js';
import { storePageOf, storePageRequest } from '../shared/paging.js';
import { submitRun } from './run-submission.js';
import { cancelBodySchema, idParams } from '../schemas/common-schemas.js';
import { runCreateBody, runListQuery, runPage, runView } from '../schemas/run-schemas.js';
import { errors, json, jsonBody } from './route-kit.js';

const submit = createRoute({
  method: 'post',
  path: '/v1/runs',
  tags: ['runs'],
  summary: 'Apply a pattern',
  description:
    'A built-in pattern by name, or a pattern as YAML text, with its inputs; alone, for a ticket, or for a phase of one. A pattern with problems is 400 `E_INVALID_INPUT` naming the first (line and column for YAML). With a `runId`, the same body again answers 200 with the run as it is.',
  request: { body: jsonBody(runCreateBody) },
  responses: {
    201: json(runView, 'Started (or waiting for its phase to open)'),
    200: json(runView, 'Existed already with this body; nothing changed'),
    ...errors(400, 401, 403, 404, 409, 413, 415, 429, 503),
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/runs',
  tags: ['runs'],
  summary: 'List pattern runs',
  request: { query: runListQuery },
  responses: { 200: json(runPage, 'A page of runs'), ...errors(400, 401, 403, 429, 503) },
});

const one = createRoute({
  method: 'get',
  path: '/v1/runs/{id}',
  tags: ['runs'],
  summary: 'One pattern run',
  request: { params: idParams },
  responses: { 200: json(runView, 'The run'), ...errors(401, 403, 404, 429, 503) },
});

const cancel = createRoute({
  method: 'post',
  path: '/v1/runs/{id}/cancel',
  tags: ['runs'],
  summary: 'Cancel a pattern run',
  description: 'Its unfinished tasks are cancelled with it.',
  request: { params: idParams, body: jsonBody(cancelBodySchema, false) },
  responses: { 200: json(runView, 'The cancelled run'), ...errors(401, 403, 404, 409, 413, 415, 429, 503) },
});

/** `/v1/runs`: apply patterns, list, read and cancel their runs. */
export function runRoutes(app: OpenAPIHono<HttpEnv>, runtime: Runtime): void {
  app.openapi(submit, async (c) => {
    const { run, created } = await submitRun(runtime, c.req.valid('json'));
    return c.json(run as never, created ? 201 : 200);
  });

  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const filter = {
      ...(q.status !== undefined ? { status: q.status } : {}),
      ...(q.ticket !== undefined ? { ticketId: q.ticket } : {}),
      ...(q.pattern !== undefined ? { pattern: q.pattern } : {}),
    };
    return c.json(storePageOf(await runtime.patterns.page(filter, storePageRequest(q))) as never, 200);
  });

  app.openapi(one, async (c) => c.json((await runtime.patterns.get(c.req.valid('param').id)) as never, 200));

  app.openapi(cancel, async (c) => {
    const body = c.req.valid('json') as { reason?: string } | undefined;
    return c.json((await runtime.patterns.cancel(c.req.valid('param').id, body?.reason)) as never, 200);
  });
}
