import { assign, setup } from 'xstate';
import { EFFECT_ACTIONS, hostEffect, type Stamped } from '../../core/machines/effects.js';
import { countFires, latestFireAtOrBefore, nextFireAfter } from './cron-times.js';

/**
 * What happens to fire times that passed while the process was down (or the timer came late by
 * more than `graceMs`): `once` launches one run, for the latest of them; `skip` launches none and
 * waits for the next fire time. Either way the missed ones are counted (`schedule.missed`).
 */
export type CatchUp = 'once' | 'skip';

/** What a schedule creates at each fire time: a task, a ticket, or a run of a pattern (JSON, as given). */
export type ScheduleTarget =
  | { task: Record<string, unknown> }
  | { ticket: Record<string, unknown> }
  | { pattern: string; inputs?: Record<string, unknown> };

/** A run the schedule decided on and has not yet heard was created (re-launched after a restart). */
export interface PendingLaunch {
  runId: string;
  fireAt: number;
}

/** What a schedule actor keeps: its definition, its next fire time (a durable timer), its runs. */
export interface ScheduleContext {
  id: string;
  cron: string;
  timezone: string;
  catchUp: CatchUp;
  graceMs: number;
  target: ScheduleTarget;
  createdAt: number;
  /** The fire time the durable timer `fire` is armed for; null when the expression has none left. */
  nextAt: number | null;
  lastFireAt: number | null;
  /** Runs launched. */
  fired: number;
  /** Fire times that passed without a run of their own (down, or late past `graceMs`). */
  missed: number;
  pending: PendingLaunch[];
  /** The decision of the last fire, for the effects that follow it. */
  last: {
    fireAt: number;
    runId: string | null;
    missedFrom: number | null;
    missedTo: number | null;
    missed: number;
  } | null;
}

/** What a schedule actor is spawned with: its definition and the time it was created. */
export type ScheduleInput = Pick<ScheduleContext, 'id' | 'cron' | 'timezone' | 'catchUp' | 'graceMs' | 'target'> & {
  now: number;
};

export type ScheduleEvent =
  | ({ type: 'timer'; name: string } & Stamped)
  | ({ type: 'schedule.launched'; runId: string; error?: { code: string; message: string } | null } & Stamped)
  | ({ type: 'schedule.remove'; reason?: string } & Stamped);

/** What the runtime is asked to create, after the fire has committed. */
export interface ScheduleLaunchParams {
  scheduleId: string;
  runId: string;
  fireAt: number;
  target: ScheduleTarget;
}

/**
 * The id of the run a schedule launches for a fire time: the same fire time always gives the
 * same id, so a launch repeated after a restart finds the run it made and creates no second one.
 */
export const scheduleRunIdOf = (scheduleId: string, fireAt: number): string =>
  `${scheduleId}@${new Date(fireAt).toISOString()}`;

/** The actor id of a schedule. */
export const scheduleIdOf = (id: string): string => `schedule:${id}`;

const spec = (c: ScheduleContext) => ({ cron: c.cron, timezone: c.timezone });

/** What a fire decides: which fire time gets a run (if any), how many were missed, the next one. */
interface FirePlan {
  fireAt: number;
  runId: string | null;
  missed: number;
  missedFrom: number | null;
  missedTo: number | null;
  nextAt: number | null;
}

/** The decision of a fire at `now` (pure: the same context and instant always decide the same). */
export function planFire(c: ScheduleContext, now: number): FirePlan {
  const due = c.nextAt ?? now;
  const latest = Math.max(due, latestFireAtOrBefore(spec(c), now) ?? due);
  const late = now - latest > c.graceMs;
  const launch = c.catchUp === 'once' || !late;
  // Every fire time from the one due up to the latest, less the one that gets a run.
  const passed = latest === due ? 1 : countFires(spec(c), due, latest);
  const missed = Math.max(0, passed - (launch ? 1 : 0));
  return {
    fireAt: latest,
    runId: launch ? scheduleRunIdOf(c.id, latest) : null,
    missed,
    missedFrom: missed > 0 ? due : null,
    missedTo: missed > 0 ? (launch ? latestFireAtOrBefore(spec(c), latest - 1) : latest) : null,
    nextAt: nextFireAfter(spec(c), Math.max(now, latest)),
  };
}

function applyPlan(c: ScheduleContext, p: FirePlan): Partial<ScheduleContext> {
  return {
    nextAt: p.nextAt,
    lastFireAt: p.fireAt,
    fired: c.fired + (p.runId !== null ? 1 : 0),
    missed: c.missed + p.missed,
    pending: p.runId === null ? c.pending : [...c.pending, { runId: p.runId, fireAt: p.fireAt }],
    last: { fireAt: p.fireAt, runId: p.runId, missed: p.missed, missedFrom: p.missedFrom, missedTo: p.missedTo },
  };
}

type Args = { context: ScheduleContext; event: ScheduleEvent };

const isDue = ({ context, event }: Args): boolean =>
  event.type === 'timer' && event.name === 'fire' && context.nextAt !== null && event.now >= context.nextAt;

const firedEvent = {
  type: 'emit' as const,
  params: ({ context }: { context: ScheduleContext }) => ({
    type: 'schedule.fired',
    data: {
      scheduleId: context.id,
      fireAt: context.last?.fireAt ?? null,
      runId: context.last?.runId ?? null,
      nextAt: context.nextAt,
    },
  }),
};
const missedEvent = {
  type: 'emit' as const,
  params: ({ context }: { context: ScheduleContext }) => ({
    type: 'schedule.missed',
    data: {
      scheduleId: context.id,
      missed: context.last?.missed ?? 0,
      from: context.last?.missedFrom ?? null,
      to: context.last?.missedTo ?? null,
      catchUp: context.catchUp,
      nextAt: context.nextAt,
    },
  }),
};
const launchEffect = {
  type: 'scheduleLaunch' as const,
  params: ({ context }: { context: ScheduleContext }): ScheduleLaunchParams => ({
    scheduleId: context.id,
    runId: context.last?.runId ?? '',
    fireAt: context.last?.fireAt ?? 0,
    target: context.target,
  }),
};
/** The next fire time's timer, or none when the expression has no fire time left. */
const armNext = {
  type: 'timers' as const,
  params: ({ context }: { context: ScheduleContext }) =>
    context.nextAt === null ? { set: [], clear: ['fire'] } : { set: [{ name: 'fire', at: context.nextAt }], clear: [] },
};

/**
 * A schedule: a cron expression in a time zone whose next fire time is a durable timer (a row in
 * the store, re-armed by the runtime on start like every actor timer; one due while the process
 * was down fires at once on start). At each fire the schedule records the run it launches (the
 * id from the schedule id and the fire time) in the same commit that arms the next timer; the
 * run is created after that commit and acknowledged with `schedule.launched`. A launch not yet
 * acknowledged is made again after a restart, and finds its run if it was created: no run lost,
 * none doubled.
 */
export const scheduleMachine = setup({
  types: { context: {} as ScheduleContext, events: {} as ScheduleEvent, input: {} as ScheduleInput },
  actions: {
    ...EFFECT_ACTIONS,
    scheduleLaunch: hostEffect<ScheduleLaunchParams>(),
    fire: assign(({ context, event }) => applyPlan(context, planFire(context, event.now))),
  },
  guards: {
    dueLaunchOnTime: (a) => isDue(a) && ((p) => p.runId !== null && p.missed === 0)(planFire(a.context, a.event.now)),
    dueLaunchAfterMisses: (a) => isDue(a) && planFire(a.context, a.event.now).runId !== null,
    due: isDue,
    launched: ({ event }) => event.type === 'schedule.launched' && (event.error ?? null) === null,
  },
}).createMachine({
  id: 'schedule',
  context: ({ input }) => ({
    id: input.id,
    cron: input.cron,
    timezone: input.timezone,
    catchUp: input.catchUp,
    graceMs: input.graceMs,
    target: input.target,
    createdAt: input.now,
    nextAt: nextFireAfter({ cron: input.cron, timezone: input.timezone }, input.now),
    lastFireAt: null,
    fired: 0,
    missed: 0,
    pending: [],
    last: null,
  }),
  initial: 'active',
  states: {
    active: {
      entry: [
        armNext,
        {
          type: 'emit',
          params: ({ context }) => ({
            type: 'schedule.created',
            data: { scheduleId: context.id, cron: context.cron, timezone: context.timezone, nextAt: context.nextAt },
          }),
        },
      ],
      exit: { type: 'clearTimer', params: { name: 'fire' } },
      on: {
        timer: [
          { guard: 'dueLaunchOnTime', actions: ['fire', firedEvent, launchEffect, armNext] },
          { guard: 'dueLaunchAfterMisses', actions: ['fire', missedEvent, firedEvent, launchEffect, armNext] },
          // skip: the fire times passed while nothing could fire them get no run.
          { guard: 'due', actions: ['fire', missedEvent, armNext] },
        ],
        'schedule.launched': [
          {
            guard: 'launched',
            actions: assign({
              pending: ({ context, event }) => context.pending.filter((p) => p.runId !== event.runId),
            }),
          },
          {
            actions: [
              assign({ pending: ({ context, event }) => context.pending.filter((p) => p.runId !== event.runId) }),
              {
                type: 'emit',
                params: ({ context, event }) => ({
                  type: 'schedule.launch_failed',
                  data: { scheduleId: context.id, runId: event.runId, error: event.error ?? null },
                }),
              },
            ],
          },
        ],
        'schedule.remove': { target: 'removed' },
      },
    },
    removed: {
      type: 'final',
      entry: {
        type: 'emit',
        params: ({ context }) => ({ type: 'schedule.removed', data: { scheduleId: context.id } }),
      },
    },
  },
});
