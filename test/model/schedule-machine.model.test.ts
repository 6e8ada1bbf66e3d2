import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { assign } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  scheduleMachine,
  scheduleRunIdOf,
  type ScheduleContext,
  type ScheduleEvent,
  type ScheduleInput,
} from '../../src/features/schedules/schedule-machine.js';
import {
  check,
  checkEffectKinds,
  checkEqual,
  only,
  runModel,
  sample,
  type ModelConfig,
  type SnapshotOf,
  type StepRecord,
  describeModelRuns,
} from './helpers.js';

/**
 * The schedule machine on an expression whose fire times are plain arithmetic (every 10 minutes,
 * UTC), so that the oracle needs no calendar of its own. Timers come on time, within the grace,
 * past it, and after a restart that missed several fire times (the durable timer fires at once on
 * start), early (ignored), or under another name. After every step of every path the oracle
 * checks: every fire time since the schedule was created is counted once, as launched or as
 * missed (none lost, none doubled); a launch is for a fire time later than every earlier one, with
 * the id made of the schedule and that fire time; the catch-up policy decides the restart (`once`:
 * one run, for the latest missed; `skip`: none, unless the latest is still within the grace); the
 * durable timer is armed for the next fire time and nothing else.
 */

type Snap = SnapshotOf<ScheduleContext>;

const EVERY = 10 * 60_000;
const GRACE = 60_000;
const CREATED = Date.UTC(2026, 0, 1, 0, 3, 20);

/** Fire times of `*\/10 * * * *` in UTC, worked out apart from croner. */
const firstAfter = (t: number): number => Math.floor(t / EVERY) * EVERY + EVERY;
const latestAtOrBefore = (t: number): number => Math.floor(t / EVERY) * EVERY;
/** Fire times in (from, to]. */
const firesIn = (from: number, to: number): number => Math.max(0, Math.floor(to / EVERY) - Math.floor(from / EVERY));

const timer = (label: string, name: string, now: number) => sample(label, { type: 'timer' as const, name, now });

function events(snapshot: AnyMachineSnapshot): EventObject[] {
  const c = (snapshot as Snap).context;
  const due = c.nextAt ?? CREATED;
  const list: ScheduleEvent[] = [
    timer('timer:on-time', 'fire', due),
    timer('timer:within-grace', 'fire', due + GRACE / 2),
    timer('timer:past-grace', 'fire', due + GRACE + 1),
    // A restart three fire times later: the timer fires at once on start.
    timer('timer:restart-3-later', 'fire', due + 3 * EVERY + 1_234),
    timer('timer:restart-3-later-past-grace', 'fire', due + 3 * EVERY + GRACE + 5_000),
    timer('timer:early', 'fire', due - 1),
    timer('timer:other-name', 'retry', due),
    sample('launched:unknown', { type: 'schedule.launched', runId: 'nightly@1999-01-01T00:00:00.000Z', now: due }),
    sample('remove', { type: 'schedule.remove', now: due }),
  ];
  const first = c.pending[0];
  if (first) {
    list.push(sample('launched:ok', { type: 'schedule.launched', runId: first.runId, now: due }));
    list.push(
      sample('launched:error', {
        type: 'schedule.launched',
        runId: first.runId,
        error: { code: 'E_INVALID_INPUT', message: 'no such pattern' },
        now: due,
      }),
    );
  }
  return list;
}

/** Abstract state: the state and how many launches wait for their acknowledgement (capped). */
const key = (snapshot: AnyMachineSnapshot): string => {
  const c = (snapshot as Snap).context;
  return JSON.stringify([snapshot.value, Math.min(c.pending.length, 2)]);
};

/** What holds after every step. */
function invariants(step: StepRecord<ScheduleContext>): void {
  const s = step.next as Snap;
  const c = s.context;
  if (s.value === 'removed') {
    checkEqual(step.timers.names(), [], 'no timer once removed');
    return;
  }
  check(c.nextAt !== null && c.nextAt % EVERY === 0, () => `next fire ${c.nextAt} is not a fire time`);
  checkEqual(step.timers.names(), ['fire'], 'one durable timer');
  checkEqual(step.timers.get('fire'), c.nextAt, 'the timer is armed for the next fire time');
  // Every fire time since creation, up to the last one handled, is counted once.
  const handled = c.lastFireAt === null ? 0 : firesIn(c.createdAt, c.lastFireAt);
  checkEqual(c.fired + c.missed, handled, 'fire times launched + missed = fire times passed');
  checkEqual(c.nextAt, firstAfter(c.lastFireAt ?? c.createdAt), 'the next fire time follows the last handled one');
  const ids = c.pending.map((p) => p.runId);
  checkEqual(new Set(ids).size, ids.length, 'each pending run once');
  for (const p of c.pending) {
    checkEqual(p.runId, scheduleRunIdOf(c.id, p.fireAt), 'run id of a fire time');
    check(p.fireAt % EVERY === 0 && p.fireAt <= (c.lastFireAt ?? 0), () => `pending run for ${p.fireAt}`);
  }
}

function oracle(step: StepRecord<ScheduleContext>): void {
  invariants(step);
  const next = (step.next as Snap).context;
  if (step.prev === null) {
    checkEqual(next.nextAt, firstAfter(CREATED), 'first fire time');
    checkEqual([next.fired, next.missed, next.lastFireAt, next.pending], [0, 0, null, []], 'nothing fired yet');
    checkEffectKinds(step.effects, ['setTimer', 'emit:schedule.created']);
    return;
  }
  const p = (step.prev as Snap).context;
  const e = step.event as ScheduleEvent;
  const ignored = () => check(!step.changed, () => `${e.type} should have been ignored`);
  if (e.type === 'schedule.remove') {
    checkEqual(step.next.value, 'removed', 'removed');
    checkEqual(step.next.status, 'done', 'a removed schedule is done');
    checkEffectKinds(step.effects, ['clearTimer', 'emit:schedule.removed']);
    return;
  }
  if (e.type === 'schedule.launched') {
    checkEqual(
      next.pending,
      p.pending.filter((x) => x.runId !== e.runId),
      'the acknowledged launch leaves the pending list',
    );
    checkEqual(
      [next.fired, next.missed, next.nextAt],
      [p.fired, p.missed, p.nextAt],
      'an acknowledgement fires nothing',
    );
    checkEffectKinds(step.effects, e.error ? ['emit:schedule.launch_failed'] : []);
    return;
  }
  // A timer.
  if (e.name !== 'fire' || p.nextAt === null || e.now < p.nextAt) return ignored();
  const latest = latestAtOrBefore(e.now);
  const late = e.now - latest > GRACE;
  const launch = p.catchUp === 'once' || !late;
  const passed = firesIn(p.nextAt - 1, latest);
  const missed = passed - (launch ? 1 : 0);
  checkEqual(next.lastFireAt, latest, 'the latest fire time passed is handled');
  check(p.lastFireAt === null || latest > p.lastFireAt, 'a fire time is handled once');
  checkEqual([next.fired, next.missed], [p.fired + (launch ? 1 : 0), p.missed + missed], 'launched and missed');
  checkEqual(next.nextAt, firstAfter(e.now), 'the next fire time after now');
  const runId = scheduleRunIdOf(p.id, latest);
  checkEqual(
    next.pending,
    launch ? [...p.pending, { runId, fireAt: latest }] : p.pending,
    launch ? 'one launch, for the latest fire time' : 'no launch past the grace with skip',
  );
  checkEffectKinds(step.effects, [
    'setTimer',
    ...(launch ? ['scheduleLaunch', 'emit:schedule.fired'] : []),
    ...(missed > 0 ? ['emit:schedule.missed'] : []),
  ]);
  if (launch) {
    checkEqual(
      only(step.effects, 'scheduleLaunch'),
      { scheduleId: p.id, runId, fireAt: latest, target: p.target },
      'the launch',
    );
  }
  if (missed > 0) {
    const emit = step.effects.find((x) => x.type === 'emit' && x.params.type === 'schedule.missed')!;
    checkEqual(
      emit.params.data,
      {
        scheduleId: p.id,
        missed,
        from: p.nextAt,
        to: launch ? latest - EVERY : latest,
        catchUp: p.catchUp,
        nextAt: next.nextAt,
      },
      'schedule.missed',
    );
  }
}

const input = (over: Partial<ScheduleInput>): ScheduleInput => ({
  id: 'nightly',
  cron: '*/10 * * * *',
  timezone: 'UTC',
  catchUp: 'once',
  graceMs: GRACE,
  target: { task: { type: 'report' } },
  now: CREATED,
  ...over,
});

const configs: ModelConfig[] = [
  { name: "catch-up 'once'", input: input({}), events, key },
  { name: "catch-up 'skip'", input: input({ catchUp: 'skip', target: { pattern: 'sweep' } }), events, key },
];

describe('schedule machine, model-based', () => {
  describeModelRuns<ScheduleContext>('schedule', scheduleMachine, configs, oracle);

  it('the oracle catches a schedule that launches a fire time twice', () => {
    // Records the launch but leaves the timer on the same fire time.
    const broken = scheduleMachine.provide({
      actions: {
        fire: assign(({ context }) => {
          const fireAt = context.nextAt ?? 0;
          return {
            lastFireAt: fireAt,
            fired: context.fired + 1,
            pending: [...context.pending, { runId: scheduleRunIdOf(context.id, fireAt), fireAt }],
            last: { fireAt, runId: scheduleRunIdOf(context.id, fireAt), missed: 0, missedFrom: null, missedTo: null },
          };
        }),
      },
    });
    const r = runModel<ScheduleContext>(broken, configs[0]!, oracle, null, { stopAtFirstFailure: true });
    expect(r.failures.length).toBeGreaterThan(0);
  });
});
