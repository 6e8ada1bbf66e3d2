import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { eventMatcher, type EventFilter, type TroupeEvent } from '../../../engine/event-bus.js';
import type { EventQuery as StoreEventQuery } from '../../../engine/store/store.js';
import type { Runtime } from '../../../runtime.js';
import type { HttpEnv } from '../shared/http-auth.js';
import { HttpError } from '../shared/http-errors.js';
import { eventPage, eventQuery } from '../schemas/event-schemas.js';
import type { EventStreams } from './sse-streams.js';
import { errors } from './route-kit.js';

export type { EventStreams } from './sse-streams.js';

/** Stored events scanned for one JSON page at most (type prefixes are matched after reading). */
const MAX_SCANNED = 10_000;

const events = createRoute({
  method: 'get',
  path: '/v1/events',
  tags: ['events'],
  summary: 'Event history, or a live stream',
  description:
    'With `Accept: application/json` (the default): a page of stored events after `after`, oldest first. With `Accept: text/event-stream`: Server-Sent Events, each with its `seq` as `id:` and the event as JSON `data:`; the stored events after `after` (or after the `Last-Event-ID` header, which a reconnecting EventSource sends) come first, then live ones as they commit, each seq once and none missed. Without either, the stream is live from now. A `: ping` comment comes every 15 s.',
  request: {
    query: eventQuery,
    headers: z.object({
      'last-event-id': z.string().max(20).optional().meta({ description: 'Resume a stream after this seq.' }),
    }),
  },
  responses: {
    200: {
      description: 'A page of events (JSON) or an event stream',
      content: {
        'application/json': { schema: eventPage },
        'text/event-stream': {
          schema: z.string().meta({ description: '`id: <seq>` and `data: <event JSON>` per event' }),
        },
      },
    },
    ...errors(400, 401, 403, 429, 503),
  },
});

/** `GET /v1/events`: the stored history by filter, or a stream that resumes. */
export function eventRoutes(app: OpenAPIHono<HttpEnv>, runtime: Runtime, streams: EventStreams): void {
  app.openapi(events, async (c) => {
    const q = c.req.valid('query');
    const filter: EventFilter = {
      ...(q.types !== undefined && q.types.length > 0 ? { types: q.types } : {}),
      ...(q.ticket !== undefined ? { ticketId: q.ticket } : {}),
      ...(q.task !== undefined ? { taskId: q.task } : {}),
      ...(q.agent !== undefined ? { agentId: q.agent } : {}),
    };
    const lastEventId = c.req.header('last-event-id');
    let after = q.after;
    if (lastEventId !== undefined && lastEventId !== '') {
      if (!/^\d{1,15}$/.test(lastEventId))
        throw new HttpError('E_INVALID_INPUT', 'Last-Event-ID: not a seq this server sent', [
          'header',
          'last-event-id',
        ]);
      after = Number(lastEventId);
    }
    if ((c.req.header('accept') ?? '').includes('text/event-stream')) {
      await runtime.start();
      const until = q.until !== undefined && q.until.length > 0 ? eventMatcher({ types: q.until }) : undefined;
      const body = streams.start(filter, after, until);
      return new Response(body, {
        status: 200,
        headers: {
          'Content-Type': 'text/event-stream; charset=utf-8',
          'Cache-Control': 'no-store',
          'X-Accel-Buffering': 'no',
        },
      }) as never;
    }
    return c.json(await readPage(runtime, filter, after ?? 0, q.limit), 200);
  });
}

/** Up to `limit` matching events after `after`, reading stored pages until enough match. */
async function readPage(
  runtime: Runtime,
  filter: EventFilter,
  after: number,
  limit: number,
): Promise<{ events: TroupeEvent[]; lastSeq: number }> {
  const matches = eventMatcher(filter);
  const query: StoreEventQuery = {};
  if (filter.ticketId !== undefined) query.ticketId = filter.ticketId;
  if (filter.taskId !== undefined) query.taskId = filter.taskId;
  if (filter.agentId !== undefined) query.agentId = filter.agentId;
  const types = filter.types ?? [];
  if (types.length > 0 && !types.some((t) => t.endsWith('*'))) query.types = types;
  const out: TroupeEvent[] = [];
  let cursor = after;
  for (let scanned = 0; out.length < limit && scanned < MAX_SCANNED;) {
    const page = await runtime.events.read({
      ...query,
      afterSeq: cursor,
      order: 'oldest',
      limit: Math.min(500, limit * 2),
    });
    for (const event of page) {
      cursor = event.seq;
      if (matches(event)) out.push(event);
      if (out.length >= limit) break;
    }
    scanned += page.length;
    if (page.length < Math.min(500, limit * 2)) break;
  }
  return { events: out, lastSeq: cursor };
}
