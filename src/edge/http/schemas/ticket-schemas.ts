import { z } from 'zod';
import { ticketCreateSchema } from '../../../engine/api/ticket-api.js';
import { csv, pageOf, pageQueryShape } from './common-schemas.js';

/** A ticket as `POST /v1/tickets` takes it: what `runtime.tickets.create` takes. */
export const ticketCreateBody = ticketCreateSchema.meta({
  description:
    'A ticket with its phases and the tasks of each phase, created together or not at all. With an `id`, the same body again answers with the existing ticket.',
});

const phaseCounts = z.looseObject({
  total: z.int(),
  open: z.int(),
  succeeded: z.int(),
  dead_lettered: z.int(),
  cancelled: z.int(),
  skipped: z.int(),
});

export const phaseView = z
  .looseObject({
    name: z.string(),
    status: z.enum(['pending', 'active', 'evaluating', 'validating', 'reworking', 'passed', 'failed', 'cancelled']),
    round: z.int(),
    maxRounds: z.int(),
    tasks: phaseCounts.meta({
      description: 'Counts of the tasks of the phase by how they ended; `open` are not settled yet.',
    }),
    artifacts: z.array(z.string()),
    quality: z.number().nullable(),
    reasons: z.array(z.string()).meta({ description: 'Why the gate did not pass (last evaluation).' }),
    feedback: z.string().nullable(),
  })
  .meta({ title: 'PhaseView' });

export const TICKET_STATUSES = ['active', 'completed', 'failed', 'cancelled'] as const;

export const ticketView = z
  .looseObject({
    id: z.string(),
    status: z.enum(TICKET_STATUSES),
    title: z.string(),
    description: z.string(),
    currentPhase: z.string().nullable(),
    phases: z.array(phaseView),
    context: z.record(z.string(), z.unknown()),
    shared: z.record(z.string(), z.unknown()),
    phaseOutputs: z
      .record(z.string(), z.unknown())
      .meta({ description: 'Results and artifacts of the phases passed, by phase.' }),
    reason: z.string().nullable(),
    createdAt: z.number(),
  })
  .meta({ title: 'TicketView', description: 'A ticket with its phases; its tasks: `GET /v1/tasks?ticket=<id>`.' });

export const ticketListQuery = z.strictObject({
  status: csv(z.enum(TICKET_STATUSES)).optional().meta({ description: 'Comma-separated statuses.' }),
  ...pageQueryShape,
});

export const ticketPage = pageOf(ticketView, 'tickets');

export type TicketCreateBody = z.input<typeof ticketCreateBody>;
export type TicketListQuery = z.input<typeof ticketListQuery>;
