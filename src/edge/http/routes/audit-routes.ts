import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Runtime } from '../../../runtime.js';
import type { HttpEnv } from '../shared/http-auth.js';
import { auditPage, auditQuery } from '../schemas/audit-schemas.js';
import { errors, json } from './route-kit.js';

const list = createRoute({
  method: 'get',
  path: '/v1/audit',
  tags: ['audit'],
  summary: 'Read the audit log',
  description:
    'Who (the token named in the configuration) submitted, cancelled, redrove or changed what, and when. Kept under its own retention (`retention.audit`).',
  request: { query: auditQuery },
  responses: { 200: json(auditPage, 'A page of the audit log'), ...errors(400, 401, 403, 429, 503) },
});

/** `/v1/audit`: the audit log (docs/operations.md). */
export function auditRoutes(app: OpenAPIHono<HttpEnv>, runtime: Runtime): void {
  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const entries = await runtime.audit.read({
      limit: q.limit,
      ...(q.actor !== undefined ? { actor: q.actor } : {}),
      ...(q.action !== undefined ? { action: q.action } : {}),
      ...(q.target !== undefined ? { target: q.target } : {}),
      ...(q.since !== undefined ? { since: q.since } : {}),
      ...(q.after !== undefined ? { afterSeq: q.after, order: 'oldest' as const } : {}),
    });
    return c.json({ entries } as never, 200);
  });
}
