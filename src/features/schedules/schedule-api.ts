import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { TroupeError } from '../../core/errors.js';
import { taskCreateSchema } from '../../engine/api/task-input.js';
import { ticketCreateSchema } from '../../engine/api/ticket-api.js';
import type { RuntimeCore } from '../../engine/runtime-core.js';
import { assertStorablePayload, parseOrThrow } from '../../engine/validation.js';
import { checkCron } from './cron-times.js';
import { scheduleIdOf, type ScheduleContext } from './schedule-machine.js';

/** The actor kind schedules are stored under. */
export const SCHEDULE_KIND = 'schedule';

/** Default lateness past which a fire time counts as missed (the process was down, or stalled). */
export const DEFAULT_GRACE_MS = 60_000;

export const scheduleCreateSchema = z
  .object({
    /** Default `schedule-<uuid>`. Runs are `<id>@<fire time, ISO 8601>`. */
    id: z
      .string()
      .min(1)
      .max(150)
      .regex(/^[A-Za-z0-9._:-]+$/, 'schedule ids use letters, digits and . _ : - only')
      .optional(),
    /** Five fields (minute first) or six (seconds first); `@daily`-style nicknames too. */
    cron: z.string().min(1).max(200),
    /** An IANA time zone (`Europe/Berlin`); default `UTC`. */
    timezone: z.string().min(1).max(100).optional(),
    /** What fire times that passed while the process was down get: `once` (default) one run, `skip` none. */
    catchUp: z.enum(['once', 'skip']).optional(),
    /** A fire later than this (ms) counts as missed and follows `catchUp`. Default 60,000. */
    graceMs: z.number().int().min(0).optional(),
    target: z.union([
      z.object({ task: taskCreateSchema.omit({ id: true }) }).strict(),
      z.object({ ticket: ticketCreateSchema.omit({ id: true }) }).strict(),
      z.object({ pattern: z.string().min(1).max(200), inputs: z.record(z.string(), z.unknown()).optional() }).strict(),
    ]),
  })
  .strict();

/** A schedule as `schedules.create` takes it. */
export type ScheduleCreateInput = z.input<typeof scheduleCreateSchema>;

/** A schedule as the API shows it. */
export type ScheduleView = Omit<ScheduleContext, 'pending' | 'last'> & {
  status: 'active' | 'removed';
  /** Ids of the runs decided on and not yet confirmed created. */
  pending: string[];
};

/** Checks a pattern target against the runtime's patterns before a schedule is stored. */
export type PatternCheck = (pattern: string, inputs: Record<string, unknown>) => void;

function viewOf(value: unknown, c: ScheduleContext): ScheduleView {
  const { pending, last: _last, ...definition } = c;
  return { ...definition, status: value === 'removed' ? 'removed' : 'active', pending: pending.map((p) => p.runId) };
}

/**
 * Schedules: cron expressions in a time zone that create a task, a ticket or a pattern run at
 * each fire time, durable across restarts (docs/controls.md, "Schedules").
 *
 * @example
 * ```ts
 * await runtime.schedules.create({
 *   id: 'nightly-report',
 *   cron: '0 2 * * *',
 *   timezone: 'Europe/Berlin',
 *   catchUp: 'once',
 *   target: { task: { type: 'report', requires: ['writer'] } },
 * });
 * await runtime.schedules.list(); // [{ id: 'nightly-report', nextAt: ..., fired: 0, ... }]
 * await runtime.schedules.remove('nightly-report');
 * ```
 */
export class ScheduleApi {
  constructor(
    private readonly core: RuntimeCore,
    private readonly ready: () => Promise<void>,
    private readonly checkPattern: PatternCheck,
    private readonly maxPayloadBytes: number,
    private readonly launched: () => Promise<void>,
  ) {}

  /** @internal Resolves once every run launch under way has been made (`runtime.idle()` waits for it). */
  launches(): Promise<void> {
    return this.launched();
  }

  /** Creates a schedule; its first fire time is the first one after now. */
  async create(input: ScheduleCreateInput): Promise<ScheduleView> {
    await this.ready();
    const value = parseOrThrow(scheduleCreateSchema, input, 'schedule');
    // Bytes of UTF-8 JSON, as every other stored payload is measured.
    assertStorablePayload(value.target, 'schedule target', this.maxPayloadBytes);
    const timezone = value.timezone ?? 'UTC';
    checkCron({ cron: value.cron, timezone }, this.core.options.clock.now());
    if ('pattern' in value.target) this.checkPattern(value.target.pattern, value.target.inputs ?? {});
    const id = value.id ?? `schedule-${randomUUID()}`;
    const outcome = await this.core.host.spawn(
      SCHEDULE_KIND,
      scheduleIdOf(id),
      {
        id,
        cron: value.cron,
        timezone,
        catchUp: value.catchUp ?? 'once',
        graceMs: value.graceMs ?? DEFAULT_GRACE_MS,
        target: value.target,
      },
      null,
      // A removed schedule's id may be used again.
      { replaceSettled: true },
    );
    if (outcome.error) throw outcome.error;
    return this.get(id);
  }

  /** The schedule as it is now; `E_UNKNOWN_SCHEDULE` for an id never used (or swept by retention). */
  async get(id: string): Promise<ScheduleView> {
    await this.ready();
    const live = this.core.host.getLive(scheduleIdOf(id));
    if (live) return viewOf(live.snapshot.value, live.snapshot.context as ScheduleContext);
    const stored = await this.core.options.store.getActor(scheduleIdOf(id));
    if (!stored || stored.kind !== SCHEDULE_KIND)
      throw new TroupeError('E_UNKNOWN_SCHEDULE', `no schedule has id "${id}"`);
    return viewOf(stored.state, stored.context as ScheduleContext);
  }

  /** The active schedules, by id. */
  async list(): Promise<ScheduleView[]> {
    await this.ready();
    const views: ScheduleView[] = [];
    for (const actor of this.core.host.liveActors()) {
      if (actor.kind === SCHEDULE_KIND)
        views.push(viewOf(actor.snapshot.value, actor.snapshot.context as ScheduleContext));
    }
    return views.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Removes a schedule: no fire time after this gets a run (one already launched goes on). */
  async remove(id: string): Promise<ScheduleView> {
    await this.ready();
    const actorId = scheduleIdOf(id);
    if (!this.core.host.getLive(actorId)) return this.get(id);
    const outcome = await this.core.host.request(actorId, { type: 'schedule.remove' });
    if (outcome.error) throw outcome.error;
    return this.get(id);
  }
}
