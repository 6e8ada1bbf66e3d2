import { getRequestListener } from '@hono/node-server';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Runtime } from '../../runtime.js';
import type { ResolvedServerOptions } from '../server/shared/options.js';
import type { TokenAuth } from '../server/shared/token-auth.js';
import { authorize, rateLimit, type HttpEnv } from './shared/http-auth.js';
import { errorAnswer, HttpError } from './shared/http-errors.js';
import { auditWrites } from './http-audit.js';
import { openApiDocument } from './openapi-document.js';
import { dashboardRoutes } from '../dashboard/dashboard-routes.js';
import { actorRoutes } from './routes/actor-routes.js';
import { agentRoutes } from './routes/agent-routes.js';
import { auditRoutes } from './routes/audit-routes.js';
import { deadLetterRoutes } from './routes/dead-letter-routes.js';
import { eventRoutes, type EventStreams } from './routes/event-routes.js';
import { opsRoutes, type HealthSource } from './routes/ops-routes.js';
import { runRoutes } from './routes/run-routes.js';
import { scheduleRoutes } from './routes/schedule-routes.js';
import { taskRoutes } from './routes/task-routes.js';
import { ticketRoutes } from './routes/ticket-routes.js';
import { validationError } from './shared/validation-hook.js';

export type { HealthSource } from './routes/ops-routes.js';

export interface HttpAppDeps {
  runtime: Runtime;
  options: ResolvedServerOptions;
  auth: TokenAuth;
  health: HealthSource;
  streams: EventStreams;
  logger: Logger;
}

/** Hono's own refusals (unreadable JSON, a wrong content type, an oversized body) in the one error shape. */
function fromHttpException(error: HTTPException, maxBodyBytes: number): HttpError {
  if (error.status === 415)
    return new HttpError('E_UNSUPPORTED_MEDIA_TYPE', 'send the body as JSON with Content-Type: application/json', [
      'header',
      'content-type',
    ]);
  if (error.status === 413)
    return new HttpError('E_PAYLOAD_TOO_LARGE', `the body is larger than ${maxBodyBytes} bytes`, ['body']);
  if (error.status === 400)
    return new HttpError('E_NOT_JSON', `the body is not valid JSON: ${error.message}`, ['body']);
  return new HttpError('E_INVALID_INPUT', error.message);
}

/**
 * The HTTP API under `/v1` (docs/api.md) with the operations routes beside it, as a Hono app
 * whose routes carry their zod schemas: requests are checked with them, and the OpenAPI
 * document at `/v1/openapi.json` is generated from them.
 */
export function createHttpApp(deps: HttpAppDeps): OpenAPIHono<HttpEnv> {
  const { runtime, options, logger } = deps;
  const app = new OpenAPIHono<HttpEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.target, result.error);
    },
  });
  app.onError((error, c: Context) => {
    const answer = errorAnswer(error instanceof HTTPException ? fromHttpException(error, options.maxBodyBytes) : error);
    if (answer.internal) logger.error({ err: error, method: c.req.method, path: c.req.path }, 'HTTP request failed');
    return c.json(answer.body, answer.status as 400, answer.headers);
  });
  app.notFound((c) => {
    const answer = errorAnswer(
      new HttpError(
        'E_NOT_FOUND',
        `nothing at ${c.req.method} ${c.req.path}; see /v1/openapi.json (the WebSocket endpoint is ${options.path})`,
      ),
    );
    return c.json(answer.body, 404);
  });

  opsRoutes(app, runtime, deps.health);
  dashboardRoutes(app);
  let document: string | null = null;
  app.get('/v1/openapi.json', (c) => {
    document ??= JSON.stringify(openApiDocument(app));
    return c.body(document, 200, { 'Content-Type': 'application/json' });
  });

  app.use(
    '/v1/*',
    authorize(deps.auth),
    rateLimit(runtime.clock, options.httpRateLimit),
    auditWrites(runtime, () => options.tokenNames),
  );
  app.on(
    ['POST', 'PUT', 'PATCH'],
    '/v1/*',
    bodyLimit({
      maxSize: options.maxBodyBytes,
      onError: () => {
        throw new HttpError('E_PAYLOAD_TOO_LARGE', `the body is larger than ${options.maxBodyBytes} bytes`, ['body']);
      },
    }),
  );
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A client token (reads and writes) or an observer token (reads only).',
  });

  taskRoutes(app, runtime);
  deadLetterRoutes(app, runtime);
  ticketRoutes(app, runtime);
  runRoutes(app, runtime);
  scheduleRoutes(app, runtime);
  agentRoutes(app, runtime);
  auditRoutes(app, runtime);
  eventRoutes(app, runtime, deps.streams);
  actorRoutes(app, runtime);
  return app;
}

/** The app as a Node request listener, for the server's `http.createServer`. */
export function httpListener(app: OpenAPIHono<HttpEnv>): (request: IncomingMessage, response: ServerResponse) => void {
  return getRequestListener(app.fetch);
}
