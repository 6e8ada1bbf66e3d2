import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Runtime } from '../../runtime.js';
import type { HttpEnv } from './shared/http-auth.js';

/** Which write did what: `POST /v1/tasks` submits, `POST /v1/tasks/{id}/cancel` cancels, ... */
const ACTIONS: Array<{ pattern: RegExp; action: string }> = [
  { pattern: /^\/v1\/tasks$/, action: 'task.submitted' },
  { pattern: /^\/v1\/tasks\/([^/]+)\/cancel$/, action: 'task.cancelled' },
  { pattern: /^\/v1\/dead-letters\/redrive$/, action: 'task.redriven' },
  { pattern: /^\/v1\/tickets$/, action: 'ticket.created' },
  { pattern: /^\/v1\/tickets\/([^/]+)\/cancel$/, action: 'ticket.cancelled' },
  { pattern: /^\/v1\/runs$/, action: 'run.applied' },
  { pattern: /^\/v1\/runs\/([^/]+)\/cancel$/, action: 'run.cancelled' },
  { pattern: /^\/v1\/schedules$/, action: 'schedule.created' },
  // Reads are not audited, so only DELETE reaches this one.
  { pattern: /^\/v1\/schedules\/([^/]+)$/, action: 'schedule.removed' },
];

/** Who a token is in the audit log: its configured name, else a digest prefix (never the secret). */
export function auditName(token: string, names: Readonly<Record<string, string>>): string {
  return names[token] ?? `token:${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;
}

/**
 * Writes every successful write request to the audit log (`runtime.audit`): who (the token's
 * name from the configuration), what (`task.submitted`, `task.cancelled`, ...), which ids, when.
 * Reads are not audited. `names` is read per request, so a configuration reload renames at once.
 */
export function auditWrites(
  runtime: Runtime,
  names: () => Readonly<Record<string, string>>,
): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    await next();
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.res.status >= 300) return;
    const path = new URL(c.req.url).pathname;
    const match = ACTIONS.map((a) => ({ a, m: a.pattern.exec(path) })).find((x) => x.m !== null);
    const action = match?.a.action ?? `http.${c.req.method.toLowerCase()}`;
    const fromPath = match?.m?.[1];
    const ids =
      fromPath !== undefined
        ? [decodeURIComponent(fromPath)]
        : idsOf(
            await c.res
              .clone()
              .json()
              .catch(() => null),
          );
    try {
      await runtime.audit.record({
        actor: auditName(c.get('principal').token, names()),
        action,
        target: ids.length === 1 ? (ids[0] as string) : null,
        details: { method: c.req.method, path, ...(ids.length > 1 ? { ids } : {}) },
      });
    } catch (error) {
      // The work was done and answered for; a lost audit line is logged, not turned into a failure.
      runtime.logger.error({ err: error, action, path }, 'could not write the audit log');
    }
  };
}

/**
 * The ids a write answered with: `{ created: [...] }` or `{ redriven: [...] }` (views or ids), or
 * a view with an `id`.
 */
function idsOf(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const record = body as Record<string, unknown>;
  const listed = record['created'] ?? record['redriven'];
  if (Array.isArray(listed)) {
    return listed
      .map((x) => (typeof x === 'string' ? x : String((x as { id?: unknown })?.id ?? '')))
      .filter((id) => id.length > 0);
  }
  return typeof record['id'] === 'string' ? [record['id']] : [];
}
