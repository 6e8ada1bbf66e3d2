import { z } from 'zod';
import { scheduleCreateSchema } from '../../../features/schedules/schedule-api.js';

/** Schedules over HTTP: the body of a new one (what `runtime.schedules.create` takes) and a schedule as answered. */

export const scheduleCreateBody = scheduleCreateSchema.meta({
  description:
    'A schedule: a cron expression (five fields, minute first, or six with seconds first; `@daily` and the like) in an IANA time zone, and what each fire time creates: `{"task":{...}}` (as `POST /v1/tasks` takes it, without `id`), `{"ticket":{...}}` (as `POST /v1/tickets`, without `id`) or `{"pattern":"<name>","inputs":{...}}`. Each run gets the id `<schedule id>@<fire time, ISO 8601>`.',
});

export const scheduleView = z
  .looseObject({
    id: z.string(),
    cron: z.string(),
    timezone: z.string(),
    catchUp: z
      .enum(['once', 'skip'])
      .meta({ description: 'Fire times missed while the server was down: `once` gets one run, `skip` none.' }),
    graceMs: z.int().meta({ description: 'A fire later than this counts as missed.' }),
    target: z.record(z.string(), z.unknown()).meta({ description: 'What each fire time creates, as given.' }),
    createdAt: z.number(),
    nextAt: z.number().nullable().meta({ description: 'The next fire time; null when the expression has none left.' }),
    lastFireAt: z.number().nullable(),
    fired: z.int().meta({ description: 'Runs launched.' }),
    missed: z.int().meta({ description: 'Fire times that passed without a run of their own.' }),
    status: z.enum(['active', 'removed']),
    pending: z.array(z.string()).meta({ description: 'Runs decided on and not yet confirmed created.' }),
  })
  .meta({ title: 'ScheduleView', description: 'A schedule and what it has done.' });

export const scheduleList = z.strictObject({
  items: z.array(scheduleView).meta({ description: 'Every active schedule, by id (not paged: schedules are few).' }),
});

/** A schedule id in a path. */
export const scheduleParams = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(150)
    .meta({ param: { name: 'id', in: 'path' }, description: 'The schedule id.', example: 'nightly-report' }),
});

export type ScheduleCreateBody = z.input<typeof scheduleCreateBody>;
