import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { AgentView } from '../../../engine/api/views.js';
import type { Runtime } from '../../../runtime.js';
import type { HttpEnv } from '../shared/http-auth.js';
import { pageOf } from '../shared/paging.js';
import { agentListQuery, agentPage, agentView } from '../schemas/agent-schemas.js';
import { idParams } from '../schemas/common-schemas.js';
import { errors, json } from './route-kit.js';

const list = createRoute({
  method: 'get',
  path: '/v1/agents',
  tags: ['agents'],
  summary: 'List agents',
  description: 'Connected, stale and departed agents, newest registration first.',
  request: { query: agentListQuery },
  responses: { 200: json(agentPage, 'A page of agents'), ...errors(400, 401, 403, 429, 503) },
});

const one = createRoute({
  method: 'get',
  path: '/v1/agents/{id}',
  tags: ['agents'],
  summary: 'One agent',
  request: { params: idParams },
  responses: { 200: json(agentView, 'The agent'), ...errors(401, 403, 404, 429, 503) },
});

/** `/v1/agents`: read the agents (they register themselves over the WebSocket). */
export function agentRoutes(app: OpenAPIHono<HttpEnv>, runtime: Runtime): void {
  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const statuses = q.status === undefined ? undefined : new Set<string>(q.status);
    const all = (await runtime.agents.list()).filter(
      (a) =>
        (statuses === undefined || statuses.has(a.status)) &&
        (q.capability === undefined || a.capabilities.includes(q.capability)),
    );
    return c.json(pageOf<AgentView>(all, q, (a) => ({ at: a.registeredAt, id: a.id })) as never, 200);
  });

  app.openapi(one, async (c) => c.json((await runtime.agents.get(c.req.valid('param').id)) as never, 200));
}
