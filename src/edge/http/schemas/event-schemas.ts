import { z } from 'zod';
import { eventShape } from '../../server/protocol/shapes.js';
import { csv } from './common-schemas.js';

export const eventView = eventShape;

export const eventQuery = z.strictObject({
  types: csv(z.string().min(1).max(200))
    .optional()
    .meta({ description: 'Comma-separated event types, or prefixes ending in `*`: `task.*,ticket.completed`.' }),
  ticket: z.string().min(1).max(300).optional(),
  task: z.string().min(1).max(300).optional(),
  agent: z.string().min(1).max(200).optional(),
  after: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: 'Only events with a greater `seq`. For a stream, `Last-Event-ID` says the same (and wins).' }),
  until: csv(z.string().min(1).max(200)).optional().meta({
    description:
      'Streams only: end the stream after the first event of one of these types (or prefixes ending in `*`), e.g. `ticket.completed,ticket.failed,ticket.cancelled`.',
  }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000)
    .default(100)
    .meta({ description: 'Events per page (JSON only). Default 100.' }),
});

export const eventPage = z
  .strictObject({
    events: z.array(eventView).meta({ description: 'Oldest first.' }),
    lastSeq: z.int().meta({
      description: 'The seq of the last event here (or `after` when none): pass it as `after` for the next page.',
    }),
  })
  .meta({ description: 'Events after `after`, oldest first.' });

export type EventQuery = z.input<typeof eventQuery>;
