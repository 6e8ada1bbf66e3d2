import { z } from 'zod';
import { isReservedId, RESERVED_ID_RULE } from '../../core/reserved-ids.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../core/machines/retry-backoff.js';
import type { TaskTimeouts } from '../../core/machines/task-types.js';

/** Named priorities map onto numbers; higher runs first. */
export const PRIORITY_LEVELS = { low: 25, medium: 50, high: 75, critical: 100 } as const;
/** A named priority (`low`, `medium`, `high`, `critical`); `PRIORITY_LEVELS` gives its number. */
export type PriorityName = keyof typeof PRIORITY_LEVELS;

/** An actor id as the APIs accept it (tasks, coordinators: one address space). */
export const idSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:/@-]+$/, 'ids use letters, digits and . _ : / @ - only')
  .refine((id) => !isReservedId(id), RESERVED_ID_RULE);

/** The name of a rate limit, breaker or bulkhead. */
export const controlKeySchema = z.string().min(1).max(200);

/** A positive whole number of ms. */
export const duration = z.number().int('must be a whole number of ms').positive('must be greater than 0');

export const taskCreateSchema = z
  .object({
    id: idSchema.optional(),
    type: z.string().min(1).max(200),
    description: z.string().max(100_000).optional(),
    ticketId: idSchema.optional(),
    phase: z.string().min(1).optional(),
    priority: z.union([z.number().int().min(0).max(1000), z.enum(['low', 'medium', 'high', 'critical'])]).optional(),
    requires: z.array(z.string().min(1)).optional(),
    /** Ids, or `{ id, onFailure }` where the dependency's failure should not skip the task. */
    dependsOn: z
      .array(
        z.union([
          idSchema,
          z.object({ id: idSchema, onFailure: z.enum(['skip', 'continue', 'fail']).optional() }).strict(),
        ]),
      )
      .optional(),
    /** Not queued before this instant (clock ms), or `delayMs` after creation. */
    notBefore: z.number().int().min(0).optional(),
    delayMs: z.number().int().min(0).optional(),
    /** Units of rate-limited keys one attempt spends (limits are declared with `runtime.controls.setRateLimit`). */
    rateLimits: z
      .array(z.object({ key: controlKeySchema, units: z.number().positive().max(1e12).optional() }).strict())
      .max(16)
      .optional(),
    /**
     * At most `max` running tasks per key. `key` is taken as it is, or with `${path}` parts filled
     * from the task (`${input.tenant}`, `${ticketId}`, `${type}`).
     */
    concurrency: z
      .object({ key: z.string().min(1).max(500), max: z.number().int().min(1).max(1_000_000) })
      .strict()
      .optional(),
    /** The bulkhead (class of work) the task runs in. */
    bulkhead: controlKeySchema.optional(),
    /** Circuit-breaker keys the task answers to (besides its rate-limit keys, `type:<type>` and `capability:<c>`). */
    breakers: z.array(controlKeySchema).max(16).optional(),
    input: z.unknown().optional(),
    role: z.string().min(1).optional(),
    retry: z
      .object({
        maxAttempts: z.number().int().min(1).max(1_000).optional(),
        backoff: z
          .object({
            baseMs: z.number().int().min(0).optional(),
            factor: z.number().min(1).max(100).optional(),
            capMs: z.number().int().min(0).optional(),
            jitter: z.number().min(0).max(1).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    timeouts: z
      .object({ start: duration.optional(), finish: duration.optional(), heartbeat: duration.optional() })
      .strict()
      .optional(),
    /** W3C trace context to continue: the task's spans (and its agent's) join this trace. */
    traceparent: z
      .string()
      .regex(
        /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/,
        'a W3C traceparent: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>',
      )
      .optional(),
  })
  .strict();

/** What `runtime.tasks.create` accepts. */
export type TaskCreateInput = z.input<typeof taskCreateSchema>;

export function resolvePriority(priority: number | PriorityName | undefined): number {
  if (priority === undefined) return PRIORITY_LEVELS.medium;
  return typeof priority === 'number' ? priority : PRIORITY_LEVELS[priority];
}

/**
 * A task's retry policy. A task that sets none shares the runtime's default object (never
 * changed): most tasks then hold one policy, not a copy each.
 */
export function resolveRetry(
  retry: z.output<typeof taskCreateSchema>['retry'],
  defaults: RetryPolicy = DEFAULT_RETRY_POLICY,
): RetryPolicy {
  if (retry === undefined) return defaults;
  return {
    maxAttempts: retry.maxAttempts ?? defaults.maxAttempts,
    backoff: { ...defaults.backoff, ...stripUndefined(retry.backoff ?? {}) },
  };
}

const NO_TIMEOUTS: TaskTimeouts = Object.freeze({});

/** A task's deadlines; one shared empty object for the many tasks that set none. */
export function resolveTimeouts(timeouts: z.output<typeof taskCreateSchema>['timeouts']): TaskTimeouts {
  return timeouts === undefined ? NO_TIMEOUTS : stripUndefined(timeouts);
}

function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}
