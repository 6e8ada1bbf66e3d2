import { z } from 'zod';
import { TASK_STATUSES } from '../../../core/machines/task-types.js';

/**
 * The shapes of what the server sends inside its messages: a task, its context package, an
 * event. They mirror `TaskView`, `ContextPackage` and `TroupeEvent`, so that an agent in another
 * language can be written from the published JSON Schema alone. Objects are open (`loose`):
 * a later minor version may add fields, and a client must ignore those it does not know.
 */

const attemptError = z.looseObject({
  message: z.string(),
  category: z.enum(['transient', 'permanent', 'timeout', 'cancelled', 'agent-lost']),
  code: z.string(),
  retryable: z.boolean(),
  timeout: z.enum(['start', 'finish', 'heartbeat']).optional(),
});

const attemptRecord = z.looseObject({
  attempt: z.int(),
  agentId: z.string(),
  leaseId: z.string(),
  assignedAt: z.number(),
  startedAt: z.number().optional(),
  endedAt: z.number().optional(),
  error: attemptError.optional(),
});

export const taskViewShape = z
  .looseObject({
    id: z.string(),
    status: z.enum(TASK_STATUSES),
    type: z.string(),
    description: z.string(),
    ticketId: z.string().nullable(),
    phase: z.string().nullable(),
    priority: z.number(),
    requires: z.array(z.string()),
    dependsOn: z.array(z.string()),
    pendingDependencies: z.array(z.string()),
    input: z.unknown(),
    role: z.string().nullable(),
    attempt: z.int(),
    maxAttempts: z.int(),
    attempts: z.array(attemptRecord),
    agentId: z.string().nullable(),
    leaseId: z.string().nullable(),
    result: z.unknown(),
    artifacts: z.record(z.string(), z.unknown()),
    quality: z.number().nullable(),
    error: attemptError.nullable(),
    reason: z.string().nullable(),
    progress: z.looseObject({ value: z.number().nullable(), message: z.string().nullable() }).nullable(),
    round: z.int(),
    feedback: z.string().nullable(),
    createdAt: z.number(),
    queuedAt: z.number().nullable(),
    startedAt: z.number().nullable(),
    retryAt: z.number().nullable(),
    settledAt: z.number().nullable(),
    notBefore: z.number().nullable(),
    controls: z.looseObject({}).meta({
      description: 'Rate limits, concurrency key, bulkhead, breakers, dependency failure policies (docs/controls.md).',
    }),
    redrives: z.array(
      z.looseObject({
        at: z.number(),
        afterAttempt: z.int(),
        error: attemptError.nullable(),
        inputChanged: z.boolean(),
        retryChanged: z.boolean(),
        reason: z.string().nullable(),
      }),
    ),
    waitingFor: z.string().nullable(),
  })
  .meta({ title: 'TaskView', description: 'A task as the runtime shows it; times are ms on the runtime clock.' });

const validationShape = z
  .looseObject({
    phase: z.string(),
    round: z.int(),
    maxRounds: z.int(),
    criteria: z.looseObject({
      allTasksSucceeded: z.boolean(),
      requiredArtifacts: z.array(z.string()),
      minQuality: z.number().nullable(),
    }),
    tasks: z
      .record(
        z.string(),
        z.looseObject({
          type: z.string(),
          status: z.string(),
          result: z.unknown(),
          artifacts: z.record(z.string(), z.unknown()),
          quality: z.number().nullable(),
        }),
      )
      .meta({ description: "The phase's tasks (validators left out) by id, in creation order." }),
    artifacts: z
      .record(z.string(), z.unknown())
      .meta({ description: 'Artifacts of the succeeded tasks, merged by name.' }),
    minQuality: z.number().nullable().meta({ description: 'Lowest quality a succeeded task reported, or null.' }),
    previousFeedback: z
      .string()
      .nullable()
      .meta({ description: 'The feedback that sent the phase into this round; null in round 1.' }),
  })
  .meta({
    title: 'ValidationPackage',
    description: 'What a phase validator judges. Answer with complete, result {"approved": bool, "feedback": string}.',
  });

export const contextPackageShape = z
  .looseObject({
    ticket: z
      .looseObject({
        id: z.string(),
        title: z.string(),
        description: z.string(),
        context: z.record(z.string(), z.unknown()),
        shared: z.record(z.string(), z.unknown()),
        phases: z.record(z.string(), z.unknown()).meta({ description: 'Outputs of the phases already passed.' }),
      })
      .nullable(),
    dependencies: z.record(
      z.string(),
      z.looseObject({
        result: z.unknown(),
        artifacts: z.record(z.string(), z.unknown()),
        quality: z.number().nullable(),
      }),
    ),
    artifacts: z
      .record(z.string(), z.unknown())
      .meta({ description: 'Artifacts of the dependencies, merged by name.' }),
    feedback: z.string().nullable().meta({
      description:
        'Gate feedback when the phase sent the work back (a validator: the feedback that led to the round it judges).',
    }),
    round: z.int().meta({ description: 'The phase round (a validator: the round it judges).' }),
    attempt: z.int(),
    validation: validationShape
      .nullable()
      .meta({ description: 'For a phase validator (task role "validator"): what it judges; null otherwise.' }),
  })
  .meta({ title: 'ContextPackage', description: 'Everything the task needs to know besides itself.' });

export const eventShape = z
  .looseObject({
    seq: z.int(),
    type: z.string(),
    at: z.number(),
    ticketId: z.string().nullable(),
    taskId: z.string().nullable(),
    agentId: z.string().nullable(),
    phase: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ title: 'TroupeEvent', description: 'A committed event; `seq` increases without gaps.' });
