import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Runtime } from '../../../runtime.js';
import type { HttpEnv } from '../shared/http-auth.js';
import { storePageOf, storePageRequest } from '../shared/paging.js';
import { cancelBodySchema, idParams } from '../schemas/common-schemas.js';
import { ticketCreateBody, ticketListQuery, ticketPage, ticketView } from '../schemas/ticket-schemas.js';
import { submitTicket } from './ticket-submission.js';
import { errors, json, jsonBody } from './route-kit.js';

const submit = createRoute({
  method: 'post',
  path: '/v1/tickets',
  tags: ['tickets'],
  summary: 'Create a ticket with its phases and plan',
  description:
    'The ticket, its phases and the tasks of its plan are created together or not at all; the first phase opens at once. With an `id`, the same body again answers 200 with the ticket as it is; another body under that id is 409 `E_DUPLICATE_ID`.',
  request: { body: jsonBody(ticketCreateBody) },
  responses: {
    201: json(ticketView, 'Created'),
    200: json(ticketView, 'Existed already with this body; nothing changed'),
    ...errors(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/tickets',
  tags: ['tickets'],
  summary: 'List tickets',
  request: { query: ticketListQuery },
  responses: { 200: json(ticketPage, 'A page of tickets'), ...errors(400, 401, 403, 429, 503) },
});

const one = createRoute({
  method: 'get',
  path: '/v1/tickets/{id}',
  tags: ['tickets'],
  summary: 'One ticket with its phases',
  request: { params: idParams },
  responses: { 200: json(ticketView, 'The ticket'), ...errors(401, 403, 404, 429, 503) },
});

const cancel = createRoute({
  method: 'post',
  path: '/v1/tickets/{id}/cancel',
  tags: ['tickets'],
  summary: 'Cancel a ticket',
  description: 'Cancels the ticket and every unfinished phase and task of it; agents running them are told to stop.',
  request: { params: idParams, body: jsonBody(cancelBodySchema, false) },
  responses: { 200: json(ticketView, 'The cancelled ticket'), ...errors(401, 403, 404, 409, 413, 415, 429, 503) },
});

/** `/v1/tickets`: submit, list, read and cancel tickets. */
export function ticketRoutes(app: OpenAPIHono<HttpEnv>, runtime: Runtime): void {
  app.openapi(submit, async (c) => {
    const { ticket, created } = await submitTicket(runtime, c.req.valid('json'));
    return c.json(ticket as never, created ? 201 : 200);
  });

  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    return c.json(storePageOf(await runtime.tickets.page(q.status, storePageRequest(q))) as never, 200);
  });

  app.openapi(one, async (c) => c.json((await runtime.tickets.get(c.req.valid('param').id)) as never, 200));

  app.openapi(cancel, async (c) => {
    const body = c.req.valid('json') as { reason?: string } | undefined;
    return c.json((await runtime.tickets.cancel(c.req.valid('param').id, body?.reason)) as never, 200);
  });
}
