import { z } from 'zod';
import { isReservedId, RESERVED_ID_RULE } from '../../../core/reserved-ids.js';
import { csv, pageOf, pageQueryShape } from './common-schemas.js';

const runId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:@-]+$/, 'ids use letters, digits and . _ : @ - only')
  .refine((id) => !isReservedId(id), RESERVED_ID_RULE);

/** `POST /v1/runs`: a pattern by name (built-in or known to the server) or as YAML text, with its inputs. */
export const runCreateBody = z
  .strictObject({
    pattern: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .meta({ description: 'A pattern by name: a built-in (`fork_join`, `map_reduce`, ...).' }),
    yaml: z
      .string()
      .min(1)
      .max(1_000_000)
      .optional()
      .meta({ description: 'A pattern as YAML text (docs/patterns.md); give this or `pattern`.' }),
    inputs: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: 'Input values by name; inputs without one take their default.' }),
    runId: runId.optional().meta({
      description: 'The run id (default `run-<uuid>`). With it, the same body again answers with the existing run.',
    }),
    ticketId: z.string().min(1).max(200).optional().meta({ description: 'The ticket the run works for.' }),
    phase: z.string().min(1).max(200).optional().meta({
      description: 'A phase of that ticket: the run starts when the phase opens, and the phase waits for it.',
    }),
  })
  .refine((b) => (b.pattern === undefined) !== (b.yaml === undefined), {
    message: 'give either `pattern` (a name) or `yaml` (the text), not both',
    path: ['pattern'],
  })
  .meta({ description: 'Applies a pattern.' });

export const RUN_STATUSES = [
  'pending',
  'running',
  'completed',
  'failed',
  'timed_out',
  'escalated',
  'cancelled',
] as const;

export const runView = z
  .looseObject({
    id: z.string(),
    pattern: z.string(),
    kind: z.string().meta({ description: 'The machine kind the run is stored under (`pattern:<name>:<hash>`).' }),
    status: z.enum(RUN_STATUSES),
    state: z.string().meta({ description: 'The state it is in, dotted (`review.reviewing`).' }),
    ticketId: z.string().nullable(),
    phase: z.string().nullable(),
    rounds: z.record(z.string(), z.int()),
    results: z.record(z.string(), z.unknown()),
    failure: z.looseObject({ step: z.string(), kind: z.string(), reason: z.string() }).nullable(),
    startedAt: z.number(),
    settledAt: z.number().nullable(),
  })
  .meta({
    title: 'RunView',
    description: 'A pattern run; its tasks: `GET /v1/tasks?ticket=...` or ids `<runId>/<step>`.',
  });

export const runListQuery = z.strictObject({
  status: csv(z.enum(RUN_STATUSES)).optional().meta({ description: 'Comma-separated statuses.' }),
  ticket: z.string().min(1).max(300).optional(),
  pattern: z.string().min(1).max(200).optional().meta({ description: 'Runs of this pattern (by name).' }),
  ...pageQueryShape,
});

export const runPage = pageOf(runView, 'pattern runs');

export type RunCreateBody = z.input<typeof runCreateBody>;
export type RunListQuery = z.input<typeof runListQuery>;
