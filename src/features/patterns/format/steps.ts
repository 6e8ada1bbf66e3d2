import { z } from 'zod';
import {
  artifactNameSchema,
  patternNameSchema,
  stepCommonShape,
  stepIdSchema,
  targetSchema,
  taskSpecSchema,
} from './common.js';

/**
 * The step kinds. Each is a strict object: the common keys plus exactly one kind key. Cross-field
 * rules (k only with k_of_n, ...) are refinements that carry their own problem code.
 */

const refsSchema = z.union([stepIdSchema, z.array(stepIdSchema).min(1)], {
  error: 'expected a step id or a list of step ids',
});

const varNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name is letters, digits and _');

export const SPLIT_SHAPE = {
  /** Fixed, distinct tasks. */
  tasks: z.array(taskSpecSchema).min(1).optional(),
  /** So many copies of `task`. */
  count: z.number().int().min(1).max(100_000).optional(),
  /** One `task` per item: a list, or a list found in an earlier step's result at `path`. */
  over: z
    .union([z.array(z.unknown()), z.strictObject({ from: stepIdSchema, path: z.string().min(1).optional() })], {
      error: 'expected a list, or { from: <step>, path: <dotted path> }',
    })
    .optional(),
  /** Name of the loop variable inside `task` (default `item`; `index` is also set). */
  as: varNameSchema.optional(),
  task: taskSpecSchema.optional(),
};

export const splitSchema = z.strictObject(SPLIT_SHAPE).superRefine((split, ctx) => {
  const forms = (['tasks', 'count', 'over'] as const).filter((k) => split[k] !== undefined);
  if (forms.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: `a split has exactly one of tasks, count or over (found ${forms.length === 0 ? 'none' : forms.join(', ')})`,
      params: { code: forms.length === 0 ? 'E_MISSING_KEY' : 'E_BAD_VALUE' },
    });
  }
  if ((split.count !== undefined || split.over !== undefined) && split.task === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: 'a split with count or over needs a task to copy',
      params: { code: 'E_MISSING_KEY' },
    });
  }
  if (split.tasks !== undefined && split.task !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['task'],
      message: 'a split with a tasks list takes no task template',
      params: { code: 'E_BAD_VALUE' },
    });
  }
});

export const JOIN_STRATEGIES = ['all', 'any', 'majority', 'k_of_n'] as const;
export const joinSchema = z
  .strictObject({
    from: refsSchema,
    strategy: z.enum(JOIN_STRATEGIES).optional(),
    k: z.number().int().min(1).optional(),
    /** Failures tolerated before the join fails (k_of_n). */
    tolerance: z.number().int().min(0).optional(),
    /** A continuation task that runs once the join is met and receives the joined results. */
    then: taskSpecSchema.optional(),
    /** Cancel the sources still running once the join no longer needs them. */
    cancel_remaining: z.boolean().optional(),
  })
  .superRefine((join, ctx) => {
    if (join.strategy === 'k_of_n' && join.k === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'strategy k_of_n needs k', params: { code: 'E_MISSING_KEY' } });
    }
    if (join.strategy !== 'k_of_n' && join.k !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['k'],
        message: 'k is only for strategy k_of_n',
        params: { code: 'E_BAD_VALUE' },
      });
    }
  });

export const syncSchema = z.strictObject({
  wait_for: refsSchema,
  /** Tasks that must have succeeded; default all of them. */
  required: z.number().int().min(1).optional(),
});

export const MERGE_STRATEGIES = ['combine', 'union', 'intersection', 'majority', 'custom'] as const;
export const mergeSchema = z
  .strictObject({
    from: refsSchema,
    strategy: z.enum(MERGE_STRATEGIES),
    /** Name of a merge function registered on the runtime (strategy custom). */
    function: z.string().min(1).optional(),
  })
  .superRefine((merge, ctx) => {
    if (merge.strategy === 'custom' && merge.function === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'strategy custom needs function: <registered name>',
        params: { code: 'E_MISSING_KEY' },
      });
    }
    if (merge.strategy !== 'custom' && merge.function !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['function'],
        message: 'function is only for strategy custom',
        params: { code: 'E_BAD_VALUE' },
      });
    }
  });

export const stageSchema = z.strictObject({
  id: stepIdSchema,
  task: taskSpecSchema,
  /** Artifacts this stage must hand on to the stages after it. */
  produces: z.array(artifactNameSchema).optional(),
  /** Artifacts this stage needs from earlier stages. */
  consumes: z.array(artifactNameSchema).optional(),
});
export const pipelineSchema = z.strictObject({ stages: z.array(stageSchema).min(1) });

export const APPROVAL_RULES = ['all', 'any', 'majority'] as const;
export const reviewSchema = z.strictObject({
  work: taskSpecSchema,
  reviewers: z.array(taskSpecSchema).min(1),
  approval: z.enum(APPROVAL_RULES).optional(),
  max_rounds: z.number().int().min(1).max(100).optional(),
  /** Where to go when the last round is rejected: `escalate` (default), `fail`, `continue` or a step. */
  on_exhausted: targetSchema.optional(),
});

export const voteSchema = z.strictObject({
  voters: z.number().int().min(1).max(1_000),
  task: taskSpecSchema,
  /** Field of each voter's result that holds its choice; default the whole result. */
  field: z.string().min(1).optional(),
  /** Where to go on a tie: `fail` (default), `escalate`, `continue` or a step. */
  on_tie: targetSchema.optional(),
});

export const RULE_OPERATORS = ['==', '!=', '>', '<', '>=', '<=', 'in', 'not_in', 'contains', 'not_contains'] as const;
export const RULE_DECISIONS = ['continue', 'branch', 'skip', 'end', 'error'] as const;
export const ruleSchema = z
  .strictObject({
    /** Dotted path into the examined result, e.g. `metrics.complexity`. */
    key: z.string().min(1),
    operator: z.enum(RULE_OPERATORS),
    value: z.unknown(),
    decision: z.enum(RULE_DECISIONS),
    to: stepIdSchema.optional(),
    /** Higher first; equal priorities keep their order. Default 0. */
    priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
    reasoning: z.string().optional(),
  })
  .meta({ id: 'RoutingRule' })
  .superRefine((rule, ctx) => {
    if (rule.decision === 'branch' && rule.to === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'decision branch needs to: <step>',
        params: { code: 'E_RULE_TARGET' },
      });
    }
    if (rule.decision !== 'branch' && rule.to !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `decision ${rule.decision} takes no to`,
        params: { code: 'E_RULE_TARGET' },
      });
    }
  });
export const branchSchema = z.strictObject({
  /** The step whose result the rules examine; default the step before. */
  on: stepIdSchema.optional(),
  rules: z.array(ruleSchema).min(1),
  /** Where to go when no rule matches: `continue` (default), `end`, `fail` or a step. */
  otherwise: targetSchema.optional(),
});

export const sagaStepSchema = z.strictObject({
  id: stepIdSchema,
  task: taskSpecSchema,
  compensate: taskSpecSchema.optional(),
});
export const sagaSchema = z.strictObject({ steps: z.array(sagaStepSchema).min(1) });

export const waitSchema = z.strictObject({
  /** Name of the signal (sent with `runtime.patterns.signal`) that lets the flow go on. */
  signal: z.string().min(1),
});

const common = stepCommonShape;
export const STEP_SCHEMAS = {
  task: z.strictObject({ ...common, task: taskSpecSchema }).meta({ id: 'TaskStep' }),
  split: z.strictObject({ ...common, split: splitSchema }).meta({ id: 'SplitStep' }),
  join: z.strictObject({ ...common, join: joinSchema }).meta({ id: 'JoinStep' }),
  sync: z.strictObject({ ...common, sync: syncSchema }).meta({ id: 'SyncStep' }),
  merge: z.strictObject({ ...common, merge: mergeSchema }).meta({ id: 'MergeStep' }),
  pipeline: z.strictObject({ ...common, pipeline: pipelineSchema }).meta({ id: 'PipelineStep' }),
  review: z.strictObject({ ...common, review: reviewSchema }).meta({ id: 'ReviewStep' }),
  vote: z.strictObject({ ...common, vote: voteSchema }).meta({ id: 'VoteStep' }),
  branch: z.strictObject({ ...common, branch: branchSchema }).meta({ id: 'BranchStep' }),
  saga: z.strictObject({ ...common, saga: sagaSchema }).meta({ id: 'SagaStep' }),
  use: z
    .strictObject({ ...common, use: patternNameSchema, with: z.record(z.string(), z.unknown()).optional() })
    .meta({ id: 'UseStep' }),
  wait: z.strictObject({ ...common, wait: waitSchema }).meta({ id: 'WaitStep' }),
};

/** The kind of a pattern step: the key that names it in YAML. */
export type StepKind = keyof typeof STEP_SCHEMAS;
export const STEP_KINDS = Object.keys(STEP_SCHEMAS) as StepKind[];

export type TaskStep = z.output<(typeof STEP_SCHEMAS)['task']>;
export type SplitStep = z.output<(typeof STEP_SCHEMAS)['split']>;
export type JoinStep = z.output<(typeof STEP_SCHEMAS)['join']>;
export type SyncStep = z.output<(typeof STEP_SCHEMAS)['sync']>;
export type MergeStep = z.output<(typeof STEP_SCHEMAS)['merge']>;
export type PipelineStep = z.output<(typeof STEP_SCHEMAS)['pipeline']>;
export type ReviewStep = z.output<(typeof STEP_SCHEMAS)['review']>;
export type VoteStep = z.output<(typeof STEP_SCHEMAS)['vote']>;
export type BranchStep = z.output<(typeof STEP_SCHEMAS)['branch']>;
export type SagaStep = z.output<(typeof STEP_SCHEMAS)['saga']>;
export type UseStep = z.output<(typeof STEP_SCHEMAS)['use']>;
export type WaitStep = z.output<(typeof STEP_SCHEMAS)['wait']>;
/** A routing rule as a pattern's YAML gives it. */
export type RoutingRule = z.output<typeof ruleSchema>;
export type RuleOperator = (typeof RULE_OPERATORS)[number];
export type RuleDecision = (typeof RULE_DECISIONS)[number];
/** A join strategy a pattern's join step may name. */
export type JoinStrategy = (typeof JOIN_STRATEGIES)[number];
/** A merge strategy a pattern's merge step may name. */
export type MergeStrategy = (typeof MERGE_STRATEGIES)[number];

/** One step of a pattern (task, split, join, route, ...), as the YAML gives it. */
export type Step =
  | TaskStep
  | SplitStep
  | JoinStep
  | SyncStep
  | MergeStep
  | PipelineStep
  | ReviewStep
  | VoteStep
  | BranchStep
  | SagaStep
  | UseStep
  | WaitStep;

/** The kind of a valid step: the one kind key it has. */
export function stepKind(step: Step): StepKind {
  for (const kind of STEP_KINDS) if (kind in step) return kind;
  throw new Error(`step ${(step as { id: string }).id} has no kind`);
}

/** A list of references as a list, whichever form was written. */
export const refList = (refs: string | string[]): string[] => (typeof refs === 'string' ? [refs] : refs);
