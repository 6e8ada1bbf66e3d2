import { z } from 'zod';

export const auditEntryView = z
  .strictObject({
    seq: z.int().meta({ description: 'Increasing; pass the last one as `after` for the next page.' }),
    at: z.number().meta({ description: 'When, in ms since the epoch (the runtime clock).' }),
    actor: z.string().meta({ description: 'Who: the token name from the configuration (`sighup` for reloads).' }),
    action: z.string().meta({
      description:
        '`task.submitted`, `task.cancelled`, `task.redriven`, `ticket.created`, `ticket.cancelled`, `run.applied`, `run.cancelled`, `config.reloaded`, `config.refused`.',
    }),
    target: z.string().nullable().meta({ description: 'The id acted on, when there is one.' }),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ description: 'Who did what to what, and when.' });

export const auditQuery = z.strictObject({
  actor: z.string().min(1).max(200).optional(),
  action: z.string().min(1).max(200).optional(),
  target: z.string().min(1).max(300).optional(),
  since: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: 'Only entries at or after this time (ms since the epoch).' }),
  after: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: 'Only entries with a greater `seq` (oldest first then).' }),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});

export const auditPage = z
  .strictObject({ entries: z.array(auditEntryView).meta({ description: 'Newest first; oldest first with `after`.' }) })
  .meta({ description: 'A page of the audit log.' });
