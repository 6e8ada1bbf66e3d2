import { z } from 'zod';

/**
 * Building blocks of the pattern format shared by every step kind: ids, durations, retry,
 * capabilities and the description of one task. Keys are snake_case, as in the seeds' YAML.
 */

/** Words that name where the flow goes; no step may take them as its id. */
export const RESERVED_TARGETS = ['end', 'fail', 'continue', 'escalate'] as const;
/** Names of the statechart's own states; no step may take them either. */
export const RESERVED_STATES = ['pending', 'completed', 'failed', 'timed_out', 'escalated', 'cancelled'] as const;
export const RESERVED_IDS: ReadonlySet<string> = new Set<string>([...RESERVED_TARGETS, ...RESERVED_STATES]);

const ID_RE = /^[a-z][a-z0-9_]*$/;
export const stepIdSchema = z
  .string()
  .regex(ID_RE, 'ids are lowercase letters, digits and _, starting with a letter (for example "build_api")')
  .max(100)
  .meta({ id: 'StepId' });

export const patternNameSchema = z
  .string()
  .regex(ID_RE, 'pattern names are lowercase letters, digits and _, starting with a letter')
  .max(100)
  .meta({ id: 'PatternName' });

/** Where the flow goes: `end`, `fail`, `continue`, `escalate`, or a step id. */
export const targetSchema = stepIdSchema;

export const DURATION_RE = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export const durationSchema = z
  .union(
    [
      z.number().int('a duration in ms is a whole number').positive('a duration must be greater than 0'),
      z.string().regex(DURATION_RE, 'a duration is a whole number with a unit: 500ms, 30s, 5m, 2h or 1d'),
    ],
    { error: 'expected a duration: a whole number of ms, or a number with a unit (500ms, 30s, 5m, 2h, 1d)' },
  )
  .meta({ id: 'Duration' });

/** Milliseconds of a valid duration value. */
export function durationMs(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = DURATION_RE.exec(value);
  if (!match) throw new RangeError(`not a duration: ${value}`);
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

export const capabilitiesSchema = z.array(z.string().min(1, 'a capability name is not empty'));

export const retrySchema = z
  .strictObject({
    max_attempts: z.number().int().min(1).max(1_000),
    backoff: z
      .strictObject({
        base_ms: z.number().int().min(0).optional(),
        factor: z.number().min(1).max(100).optional(),
        cap_ms: z.number().int().min(0).optional(),
        jitter: z.number().min(0).max(1).optional(),
      })
      .optional(),
  })
  .meta({ id: 'Retry' });

export const prioritySchema = z.union(
  [z.number().int().min(0).max(1_000), z.enum(['low', 'medium', 'high', 'critical'])],
  { error: 'expected a priority: low, medium, high, critical or a whole number from 0 to 1000' },
);

export const artifactNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+$/, 'artifact names are letters, digits and _ . -')
  .max(200);

const controlKeySchema = z.string().min(1, 'a key is not empty').max(200);

/** One unit of work for one agent, with the production controls a task takes (docs/controls.md). */
export const taskSpecSchema = z
  .strictObject({
    type: z.string().min(1, 'a task type is not empty').max(200),
    description: z.string().max(100_000).optional(),
    input: z.unknown().optional(),
    priority: prioritySchema.optional(),
    requires: capabilitiesSchema.optional(),
    /** Retry policy of this task (over the step's). */
    retry: retrySchema.optional(),
    /** Units of rate-limited keys one attempt spends (limits are declared on the runtime). */
    rate_limits: z
      .array(z.strictObject({ key: controlKeySchema, units: z.number().positive().max(1e12).optional() }))
      .max(16)
      .optional(),
    /** At most `max` running tasks per key; `${input.x}`, `${type}`, `${ticketId}` parts are filled from the task. */
    concurrency: z
      .strictObject({ key: z.string().min(1).max(500), max: z.number().int().min(1).max(1_000_000) })
      .optional(),
    /** Circuit-breaker keys the task answers to (besides its rate-limit keys, `type:<type>`, `capability:<c>`). */
    breakers: z.array(controlKeySchema).max(16).optional(),
    /** The bulkhead (class of work) the task runs in. */
    bulkhead: controlKeySchema.optional(),
    /** Not queued before this long after the step creates it. */
    delay: durationSchema.optional(),
  })
  .meta({ id: 'TaskSpec' });

/** What a task does when a task of a step it needs fails: `skip` (default), `continue`, `fail`. */
export const NEED_POLICIES = ['skip', 'continue', 'fail'] as const;
export type NeedPolicy = (typeof NEED_POLICIES)[number];

/** A step named in `needs`, alone or with what a failure of its tasks does to this step's tasks. */
export const needSchema = z
  .union([stepIdSchema, z.strictObject({ step: stepIdSchema, on_failure: z.enum(NEED_POLICIES) })], {
    error: 'expected a step id, or { step: <id>, on_failure: skip | continue | fail }',
  })
  .meta({ id: 'Need' });
export type Need = z.output<typeof needSchema>;

/** The step a `needs` entry names. */
export const needStep = (need: Need): string => (typeof need === 'string' ? need : need.step);
/** The failure policy of a `needs` entry (`skip` when not given). */
export const needPolicy = (need: Need): NeedPolicy => (typeof need === 'string' ? 'skip' : need.on_failure);

/** Keys every step may carry besides its kind. */
export const stepCommonShape = {
  id: stepIdSchema,
  description: z.string().max(100_000).optional(),
  /**
   * Steps whose results and artifacts this step's tasks receive (handoff); they must run before.
   * `{ step, on_failure }` says what a failed task of that step does to this step's tasks: `skip`
   * them (the default), `continue` as if it had succeeded, or `fail` them (dead-lettered).
   */
  needs: z.array(needSchema).optional(),
  /** Deadline for the whole step; when it passes the flow takes `on_timeout`. */
  timeout: durationSchema.optional(),
  /** Retry policy of every task the step creates. */
  retry: retrySchema.optional(),
  /** Capabilities every task of the step requires (added to each task's own). */
  requires: capabilitiesSchema.optional(),
  /** Where to go when the step succeeds. Default: the next step (or the end after the last). */
  next: targetSchema.optional(),
  /** Where to go when the step fails: `fail` (default), `continue`, `escalate` or a step id. */
  on_failure: targetSchema.optional(),
  /** Where to go when the timeout passes: `fail` (default), `continue`, `escalate` or a step id. */
  on_timeout: targetSchema.optional(),
};

export type TaskSpec = z.output<typeof taskSpecSchema>;
export type RetrySpec = z.output<typeof retrySchema>;
export type Duration = z.output<typeof durationSchema>;
