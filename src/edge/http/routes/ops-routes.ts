import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { Runtime } from '../../../runtime.js';
import { SUBPROTOCOL } from '../../server/protocol/codes.js';
import { protocolJsonSchema } from '../../server/protocol/protocol-json-schema.js';
import type { HttpEnv } from '../shared/http-auth.js';
import { json } from './route-kit.js';

/** What the health routes read from the server. */
export interface HealthSource {
  /** Null while healthy, else why not. */
  problem(): string | null;
  /** True once the store is open and recovery is done. */
  recovered(): boolean;
  agents(): number;
  observers(): number;
  connections(): number;
}

const healthBody = z
  .looseObject({
    status: z.enum(['ok', 'unavailable']),
    problem: z.string().optional(),
    protocol: z.string(),
    agents: z.int(),
    observers: z.int(),
    connections: z.int(),
  })
  .meta({ description: 'Liveness with counts of connections.' });

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['operations'],
  summary: 'Liveness',
  description: '200 while the runtime accepts work; 503 once it has failed or is shutting down. No token needed.',
  security: [],
  responses: { 200: json(healthBody, 'Alive'), 503: json(healthBody, 'Failed or shutting down') },
});

const readyBody = z.strictObject({
  status: z.enum(['ready', 'starting', 'unavailable']),
  problem: z.string().optional(),
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['operations'],
  summary: 'Readiness',
  description:
    '200 once the store is open and unfinished work has been recovered; 503 before, and after a failure. No token needed.',
  security: [],
  responses: { 200: json(readyBody, 'Ready for traffic'), 503: json(readyBody, 'Not ready') },
});

const metrics = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['operations'],
  summary: 'Prometheus metrics',
  description:
    "The runtime's counters and histograms in the Prometheus text format. No token needed: keep the port on a private network, as is usual for scrape targets.",
  security: [],
  responses: {
    200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: z.string() } } },
  },
});

/** `/healthz`, `/readyz`, `/metrics` and the protocol schema: no token, nothing changes. */
export function opsRoutes(app: OpenAPIHono<HttpEnv>, runtime: Runtime, health: HealthSource): void {
  app.openapi(healthz, (c) => {
    const problem = health.problem();
    const body = {
      status: problem === null ? ('ok' as const) : ('unavailable' as const),
      ...(problem === null ? {} : { problem }),
      protocol: SUBPROTOCOL,
      agents: health.agents(),
      observers: health.observers(),
      connections: health.connections(),
    };
    return problem === null ? c.json(body, 200) : c.json(body, 503);
  });

  app.openapi(readyz, (c) => {
    const problem = health.problem();
    if (problem !== null) return c.json({ status: 'unavailable' as const, problem }, 503);
    if (!health.recovered()) return c.json({ status: 'starting' as const }, 503);
    return c.json({ status: 'ready' as const }, 200);
  });

  app.openapi(metrics, async (c) => {
    const text = await runtime.metrics.text();
    return c.text(text, 200, { 'Content-Type': runtime.metrics.registry.contentType });
  });

  let schema: string | null = null;
  app.get('/v1/protocol.schema.json', (c) => {
    schema ??= JSON.stringify(protocolJsonSchema());
    return c.body(schema, 200, { 'Content-Type': 'application/schema+json' });
  });
}
