import { z } from 'zod';
import { ROUTING_DECISIONS, ROUTING_OPERATORS } from '../../core/coordination/routing-rules.js';
import { duration, idSchema, taskCreateSchema } from '../../engine/api/task-input.js';

/**
 * What the coordination API accepts, checked with zod at the edge so that a bad field is named
 * before anything changes. Task templates are the fields of `tasks.create` minus `ticketId`
 * (a coordinator's tasks belong to its ticket), plus an optional nested `split`.
 */

const nameSchema = z.string().min(1).max(200);

/** A task a coordinator creates: `tasks.create` fields without `ticketId`, and a nested split. */
export interface TaskTemplate extends Omit<z.input<typeof taskCreateSchema>, 'ticketId'> {
  /** Splits this task again once it succeeds (a nested split). */
  split?: NestedSplitInput;
}

/** A split's plan: fixed `targets`, or `map` over a list at `path` in the source's result. */
export interface NestedSplitInput {
  targets?: TaskTemplate[];
  map?: { path: string; task: TaskTemplate; maxItems?: number };
}

export const taskTemplateSchema: z.ZodType<TaskTemplate> = taskCreateSchema.omit({ ticketId: true }).extend({
  get split() {
    return nestedSplitSchema.optional();
  },
});

const mapSchema = z
  .object({
    path: z.string().max(500),
    task: taskTemplateSchema,
    maxItems: z.number().int().positive().max(1_000_000).optional(),
  })
  .strict();

export const nestedSplitSchema: z.ZodType<NestedSplitInput> = z
  .object({ targets: z.array(taskTemplateSchema).max(100_000).optional(), map: mapSchema.optional() })
  .strict()
  .refine((s) => (s.targets === undefined) !== (s.map === undefined), 'give either targets or map, not both');

export const splitSchema = z
  .object({
    id: idSchema.optional(),
    sourceTaskId: idSchema,
    targets: z.array(taskTemplateSchema).max(100_000).optional(),
    map: mapSchema.optional(),
    /** Capabilities every child requires unless its template says otherwise. */
    requires: z.array(z.string().min(1)).optional(),
  })
  .strict()
  .refine((s) => (s.targets === undefined) !== (s.map === undefined), 'give either targets or map, not both');
/**
 * A split: one task per target (or per item of `map`), created together as children of one coordinator.
 *
 * @example
 * ```ts
 * const plan = await runtime.tasks.create({ type: 'plan' });
 * await runtime.coordination.split({
 *   sourceTaskId: plan.id,
 *   targets: [{ type: 'review', input: { file: 'a.ts' } }, { type: 'review', input: { file: 'b.ts' } }],
 * });
 * ```
 */
export type SplitRequest = z.input<typeof splitSchema>;

const sourcesSchema = z.union([z.array(idSchema).max(1_000_000), z.object({ split: idSchema }).strict()]);

export const joinStrategySchema = z.union([
  z.enum(['all', 'any', 'majority']),
  z
    .object({
      strategy: z.literal('k-of-n'),
      k: z.number().int().min(0),
      maxFailures: z.number().int().min(0).optional(),
    })
    .strict(),
]);

export const mergeSpecSchema = z.union([
  z.enum(['combine', 'union', 'intersection', 'majority']),
  z.object({ strategy: z.literal('majority'), key: z.string().min(1) }).strict(),
  z.object({ strategy: z.literal('custom'), name: nameSchema }).strict(),
]);

export const joinSchema = z
  .object({
    id: idSchema.optional(),
    /** Task ids in a meaningful order (merges follow it), or the children of a split. */
    sources: sourcesSchema,
    strategy: joinStrategySchema.optional(),
    continuation: taskTemplateSchema.optional(),
    merge: mergeSpecSchema.optional(),
    cancelRemaining: z.boolean().optional(),
    timeoutMs: duration.optional(),
    onTimeout: z.enum(['fail', 'continue']).optional(),
    ticketId: idSchema.optional(),
  })
  .strict();
/** A join: waits for its sources (task ids or a split) by a strategy (all, any, quorum, ...) and merges their results. */
export type JoinRequest = z.input<typeof joinSchema>;

export const syncPointSchema = z
  .object({
    id: idSchema.optional(),
    taskIds: sourcesSchema,
    /** Successes needed; all of them when left out. */
    requiredCount: z.number().int().min(0).optional(),
    timeoutMs: duration.optional(),
    onTimeout: z.enum(['fail', 'continue']).optional(),
    /** Tasks that wait for the sync point and run once it is ready. */
    dependents: z.array(taskTemplateSchema).max(10_000).optional(),
    cancelRemaining: z.boolean().optional(),
    ticketId: idSchema.optional(),
  })
  .strict();
/** A sync point: a join over tasks that each wait at the point until all have arrived. */
export type SyncPointRequest = z.input<typeof syncPointSchema>;

export const mergeRequestSchema = z
  .object({
    id: idSchema.optional(),
    sources: z.array(idSchema).max(1_000_000),
    strategy: mergeSpecSchema,
    /** What to do with sources that have not succeeded: fail (default) or leave them out. */
    incomplete: z.enum(['error', 'skip']).optional(),
  })
  .strict();
/** A merge of several results into one by a named strategy (concat, deep, majority, custom ...). */
export type MergeRequest = z.input<typeof mergeRequestSchema>;

export const routingRuleSchema = z
  .object({
    id: nameSchema.optional(),
    key: z.string().max(500),
    operator: z.enum(ROUTING_OPERATORS),
    value: z.unknown().optional(),
    decision: z.enum(ROUTING_DECISIONS),
    priority: z.number().finite().optional(),
    confidence: z.number().min(0).max(1).optional(),
    target: nameSchema.optional(),
  })
  .strict();

export const routeOptionsSchema = z
  .object({ fallback: z.enum(ROUTING_DECISIONS).optional(), fallbackConfidence: z.number().min(0).max(1).optional() })
  .strict();

export const routeSchema = z
  .object({
    id: idSchema.optional(),
    sourceTaskId: idSchema,
    rules: z.array(routingRuleSchema).max(10_000),
    fallback: z.enum(ROUTING_DECISIONS).optional(),
    fallbackConfidence: z.number().min(0).max(1).optional(),
    /** Tasks to create per branch name (a rule's `target`, else its decision). */
    branches: z.record(nameSchema, z.array(taskTemplateSchema).max(10_000)).optional(),
  })
  .strict();
/** A route: rules over a state decide what happens next (continue, retry, branch, end ...). */
export type RouteRequest = z.input<typeof routeSchema>;

export const dependencySchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('task'),
      taskId: idSchema,
      requireSuccess: z.boolean().optional(),
      timeoutMs: duration.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('quality'),
      gate: nameSchema,
      threshold: z.number().finite(),
      timeoutMs: duration.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('resource'),
      resource: nameSchema,
      mode: z.enum(['exclusive', 'shared']).optional(),
      timeoutMs: duration.optional(),
    })
    .strict(),
]);
/** One dependency of a guard: a task, a resource, or a time. */
export type DependencyRequest = z.input<typeof dependencySchema>;

export const guardSchema = z
  .object({
    id: idSchema.optional(),
    task: taskTemplateSchema,
    dependencies: z.array(dependencySchema).min(1).max(1_000),
    ticketId: idSchema.optional(),
  })
  .strict();
/** A dependency guard: waits until every dependency holds (tasks done, resources free, times reached) or times out. */
export type GuardRequest = z.input<typeof guardSchema>;

export const sagaSchema = z
  .object({
    id: idSchema.optional(),
    steps: z
      .array(z.object({ task: taskTemplateSchema, compensation: taskTemplateSchema.optional() }).strict())
      .min(1)
      .max(1_000),
    ticketId: idSchema.optional(),
  })
  .strict();
/** A saga: steps run in order; when one fails, the compensations of the done ones run in reverse. */
export type SagaRequest = z.input<typeof sagaSchema>;

export const defineResourceSchema = z
  .object({
    name: nameSchema,
    kind: z.enum(['lock', 'semaphore']),
    permits: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict()
  .refine(
    (r) => (r.kind === 'semaphore') === (r.permits !== undefined),
    'a semaphore needs permits; a lock takes none',
  );
/** A shared resource: a lock (one holder) or a semaphore with a number of permits. */
export type DefineResourceRequest = z.input<typeof defineResourceSchema>;

export const acquireSchema = z
  .object({
    resource: nameSchema,
    owner: nameSchema,
    mode: z.enum(['exclusive', 'shared']).optional(),
    /** The grant ends by itself this long after it was made (renew by acquiring again). */
    leaseMs: duration.optional(),
    /** Give up (E_TIMEOUT) after waiting this long; 0 means do not wait at all. */
    waitMs: z.number().int().min(0).optional(),
  })
  .strict();
/** A request to hold a resource, exclusively or shared, optionally with a timeout. */
export type AcquireRequest = z.input<typeof acquireSchema>;

export const barrierSchema = z
  .object({
    id: idSchema.optional(),
    parties: z.number().int().min(1).max(1_000_000),
    timeoutMs: duration.optional(),
    ticketId: idSchema.optional(),
  })
  .strict();
/** A barrier: releases all parties at once when the last one arrives, or breaks on timeout. */
export type BarrierRequest = z.input<typeof barrierSchema>;
