import type { MiddlewareHandler } from 'hono';
import type { Clock } from '../../../engine/clock.js';
import { TokenBucket } from '../../server/shared/token-bucket.js';
import type { Principal, TokenAuth } from '../../server/shared/token-auth.js';
import { HttpError } from './http-errors.js';

/** What the HTTP app keeps per request. */
export interface HttpEnv {
  Variables: { principal: Principal };
}

const READS = new Set(['GET', 'HEAD']);

/** The bearer token of a request: `Authorization: Bearer <token>`, else `?token=` (for EventSource, which sends no headers). */
function tokenOf(authorization: string | undefined, url: string): string | undefined {
  if (authorization !== undefined) return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  return new URL(url).searchParams.get('token') ?? undefined;
}

/**
 * Who may do what over HTTP: clients submit, steer and read; observers read; agents work over
 * the WebSocket only (an agent token is refused here, so a leaked agent token cannot submit work).
 */
export function authorize(auth: TokenAuth): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const principal = auth.authenticate(tokenOf(c.req.header('authorization'), c.req.url));
    if (!principal) {
      throw new HttpError(
        'E_UNAUTHORIZED',
        'a valid token is required: Authorization: Bearer <client or observer token>',
        [],
        {
          'WWW-Authenticate': 'Bearer realm="troupe"',
        },
      );
    }
    if (principal.role === 'agent') {
      throw new HttpError(
        'E_FORBIDDEN',
        'an agent token cannot use the HTTP API (agents connect to the WebSocket endpoint); use a client token',
      );
    }
    if (principal.role === 'observer' && !READS.has(c.req.method)) {
      throw new HttpError(
        'E_FORBIDDEN',
        'an observer token is read-only; submitting and cancelling take a client token',
      );
    }
    c.set('principal', principal);
    await next();
  };
}

/**
 * Requests per token, as a token bucket on the runtime's clock. Buckets exist only for tokens
 * that authenticated, so their number is bounded by the configured tokens.
 */
export function rateLimit(
  clock: Clock,
  limit: { requestsPerSecond: number; burst: number } | false,
): MiddlewareHandler<HttpEnv> {
  const buckets = new Map<string, TokenBucket>();
  return async (c, next) => {
    if (limit !== false) {
      const token = c.get('principal').token;
      let bucket = buckets.get(token);
      if (!bucket) {
        bucket = new TokenBucket(clock, limit.burst, limit.requestsPerSecond / 1_000);
        buckets.set(token, bucket);
      }
      if (!bucket.take()) {
        const retryAfter = String(Math.max(1, Math.ceil(1 / limit.requestsPerSecond)));
        throw new HttpError(
          'E_RATE_LIMITED',
          `more than ${limit.requestsPerSecond} requests per second (burst ${limit.burst}) with this token`,
          [],
          {
            'Retry-After': retryAfter,
          },
        );
      }
    }
    await next();
  };
}
