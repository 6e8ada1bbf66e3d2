import { z } from 'zod';
import { taskView } from './task-schemas.js';

/** The dead-letter queue over HTTP: its filter (as query or body), an entry, and a redrive. */

const filterShape = {
  type: z.string().min(1).max(200).optional().meta({ description: 'Only tasks of this type.' }),
  category: z
    .string()
    .min(1)
    .max(50)
    .optional()
    .meta({ description: 'Only this error category: `transient`, `permanent`, `timeout`, `agent-lost`.' }),
  code: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .meta({ description: 'Only this error code, e.g. `E_DEPENDENCY_FAILED`.' }),
  ticket: z.string().min(1).max(300).optional().meta({ description: 'Only tasks of this ticket.' }),
  since: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: 'Dead-lettered at or after (ms on the runtime clock).' }),
  until: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: 'Dead-lettered before (ms on the runtime clock).' }),
};

export const deadLetterQuery = z.strictObject({
  ...filterShape,
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(1_000)
    .meta({ description: 'At most this many, oldest first. Default 1000.' }),
});

export const deadLetter = z
  .looseObject({
    id: z.string(),
    type: z.string(),
    ticketId: z.string().nullable(),
    phase: z.string().nullable(),
    at: z.number().meta({ description: 'When it was dead-lettered (ms on the runtime clock).' }),
    attempts: z.int(),
    redrives: z.int(),
    error: z
      .looseObject({ message: z.string(), category: z.string(), code: z.string(), retryable: z.boolean() })
      .nullable(),
  })
  .meta({ title: 'DeadLetter', description: 'A task that ran out of attempts or failed for good.' });

export const deadLetterList = z.strictObject({ items: z.array(deadLetter) });

export const redriveBody = z
  .strictObject({
    ids: z
      .array(z.string().min(1).max(300))
      .max(10_000)
      .optional()
      .meta({ description: 'These tasks; or leave out and give a filter.' }),
    ...filterShape,
    all: z.boolean().optional().meta({ description: 'Required to redrive every dead letter (no ids and no filter).' }),
    input: z.unknown().optional().meta({ description: 'A new input for each redriven task.' }),
    retry: z
      .strictObject({ maxAttempts: z.int().min(1).max(1_000).optional(), backoff: z.looseObject({}).optional() })
      .optional()
      .meta({ description: 'A new retry policy; the budget starts afresh either way.' }),
    reason: z.string().min(1).max(1_000).optional().meta({ description: 'Why; kept in each task history.' }),
  })
  .meta({ description: 'Which dead letters to send back to the queue, and what to change.' });

export const redriveAnswer = z.strictObject({ redriven: z.array(taskView) });
