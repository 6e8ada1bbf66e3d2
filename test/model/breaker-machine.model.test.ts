import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  breakerMachine,
  type BreakerContext,
  type BreakerEvent,
  type BreakerStatus,
} from '../../src/core/controls/breaker-machine.js';
import type { BreakerPolicy } from '../../src/core/controls/breaker-window.js';
import {
  check,
  checkEffectKinds,
  checkEqual,
  latest,
  only,
  runModel,
  sample,
  type ModelConfig,
  type SnapshotOf,
  type StepRecord,
  describeModelRuns,
} from './helpers.js';

type Snap = SnapshotOf<BreakerContext>;

const statusOf = (s: { value: unknown }): BreakerStatus => s.value as BreakerStatus;
const clockOf = (c: BreakerContext): number => latest(1_000, c.openedAt, ...c.window.map(([at]) => at));

function events(snapshot: AnyMachineSnapshot): EventObject[] {
  const c = (snapshot as Snap).context;
  const now = clockOf(c) + 1;
  const list: BreakerEvent[] = [
    sample('outcome:ok', { type: 'breaker.outcome', ok: true, taskId: 't', now }),
    sample('outcome:fail', { type: 'breaker.outcome', ok: false, taskId: 't', now }),
    // Long after the window: every earlier outcome has left it.
    sample('outcome:fail:late', { type: 'breaker.outcome', ok: false, taskId: 't', now: now + c.policy.windowMs }),
    sample('configure', { type: 'breaker.configure', policy: c.policy, now }),
    sample('reset', { type: 'breaker.reset', now }),
    sample('timer:unknown', { type: 'timer', name: 'bogus', now }),
  ];
  if (c.openedAt !== null) {
    const due = c.openedAt + c.policy.cooldownMs;
    list.push(sample('timer:cooldown:due', { type: 'timer', name: 'cooldown', now: Math.max(due, now) }));
    if (due - 1 >= now) list.push(sample('timer:cooldown:early', { type: 'timer', name: 'cooldown', now: due - 1 }));
  }
  return list;
}

const key = (snapshot: AnyMachineSnapshot): string => {
  const c = (snapshot as Snap).context;
  const failures = c.window.filter(([, ok]) => !ok).length;
  return JSON.stringify([
    snapshot.value,
    Math.min(failures, c.policy.minRequests + 1),
    Math.min(c.window.length, c.policy.minRequests + 1),
    c.probeSuccesses,
    c.openedAt !== null,
  ]);
};

/** Whether the failures of a window trip the policy: worked out here, apart from shouldTrip. */
function trips(p: BreakerPolicy, window: Array<[number, boolean]>): boolean {
  const failures = window.filter(([, ok]) => !ok).length;
  if (failures >= p.failureThreshold) return true;
  return p.failureRate !== undefined && window.length >= p.minRequests && failures / window.length >= p.failureRate;
}

function invariants(step: StepRecord<BreakerContext>): void {
  const s = step.next as Snap;
  const c = s.context;
  const status = statusOf(s);
  if (status === 'open') {
    check(c.openedAt !== null, 'open without openedAt');
    checkEqual(step.timers.get('cooldown'), (c.openedAt ?? 0) + c.policy.cooldownMs, 'cooldown timer while open');
  } else checkEqual(step.timers.names(), [], `timers while ${status}`);
  if (status === 'closed') checkEqual([c.probeSuccesses, c.openedAt], [0, null], 'closed resets the probes');
  if (status !== 'half_open') checkEqual(c.probeSuccesses, 0, 'probe successes outside half-open');
  // The window counts only while closed (entering closed empties it).
  if (status === 'closed')
    check(
      c.window.every(([at]) => at > clockOf(c) - c.policy.windowMs),
      'window holds only outcomes within windowMs',
    );
}

function entered(step: StepRecord<BreakerContext>, status: BreakerStatus, trips: number): void {
  const c = (step.next as Snap).context;
  checkEqual(only(step.effects, 'breakerState'), { key: c.key, status, probes: c.policy.probes }, 'breakerState');
  const emit = only(step.effects, 'emit');
  checkEqual(
    [emit.type, (emit.data as { trips: number }).trips],
    [`breaker.${status === 'half_open' ? 'half_open' : status === 'open' ? 'opened' : 'closed'}`, trips],
    'emit',
  );
}

function oracle(step: StepRecord<BreakerContext>): void {
  invariants(step);
  const next = step.next as Snap;
  const c = next.context;
  if (step.prev === null) {
    checkEqual(statusOf(next), 'closed', 'initial status');
    checkEffectKinds(step.effects, ['breakerState', 'emit:breaker.closed']);
    return;
  }
  const prev = step.prev as Snap;
  const p = prev.context;
  const from = statusOf(prev);
  const e = step.event as BreakerEvent;
  const to = statusOf(next);
  const ignored = () => check(!step.changed, () => `${e.type} should have been ignored while ${from}`);
  if (e.type === 'breaker.reset') {
    checkEqual(to, 'closed', 'status after reset');
    if (from !== 'closed') {
      checkEffectKinds(step.effects, [
        ...(from === 'open' ? ['clearTimer'] : []),
        'breakerState',
        'emit:breaker.closed',
      ]);
      checkEqual(c.window, [], 'reset clears the window');
    }
    return;
  }
  if (e.type === 'breaker.configure') {
    checkEqual([to, c.policy], [from, e.policy], 'configured');
    return;
  }
  if (e.type === 'timer') {
    const due =
      e.name === 'cooldown' && from === 'open' && p.openedAt !== null && e.now >= p.openedAt + p.policy.cooldownMs;
    if (!due) return ignored();
    checkEqual(to, 'half_open', 'status after the cooldown');
    checkEffectKinds(step.effects, ['clearTimer', 'breakerState', 'emit:breaker.half_open']);
    entered(step, 'half_open', p.trips);
    return;
  }
  // An outcome.
  if (from === 'open') return ignored();
  if (from === 'closed') {
    const window = [...p.window.filter(([at]) => at > e.now - p.policy.windowMs), [e.now, e.ok] as [number, boolean]];
    if (!e.ok && trips(p.policy, window)) {
      checkEqual([to, c.trips, c.openedAt], ['open', p.trips + 1, e.now], 'tripped');
      checkEffectKinds(step.effects, ['setTimer', 'breakerState', 'emit:breaker.opened']);
      checkEqual(
        only(step.effects, 'setTimer'),
        { name: 'cooldown', at: e.now + p.policy.cooldownMs },
        'cooldown armed',
      );
      entered(step, 'open', p.trips + 1);
    } else {
      checkEqual([to, c.window], ['closed', window], 'counted in the window');
      checkEffectKinds(step.effects, []);
    }
    return;
  }
  // Half-open: probes decide.
  if (!e.ok) {
    checkEqual([to, c.trips], ['open', p.trips + 1], 'a failed probe opens it again');
    entered(step, 'open', p.trips + 1);
  } else if (p.probeSuccesses + 1 >= p.policy.probes) {
    checkEqual(to, 'closed', 'the probes succeeded');
    entered(step, 'closed', p.trips);
  } else {
    checkEqual([to, c.probeSuccesses], ['half_open', p.probeSuccesses + 1], 'a probe succeeded');
  }
}

const policy = (over: Partial<BreakerPolicy>): BreakerPolicy => ({
  key: 'openai',
  failureThreshold: 2,
  minRequests: 3,
  windowMs: 10_000,
  cooldownMs: 5_000,
  probes: 1,
  ...over,
});

const configs: ModelConfig[] = [
  { name: 'two failures trip it, one probe', input: { key: 'openai', policy: policy({}), now: 1_000 }, events, key },
  {
    name: 'three failures trip it, two probes',
    input: { key: 'openai', policy: policy({ failureThreshold: 3, probes: 2 }), now: 1_000 },
    events,
    key,
  },
  {
    name: 'half the outcomes failing over at least 3 trip it',
    input: { key: 'openai', policy: policy({ failureThreshold: 100, failureRate: 0.5, minRequests: 3 }), now: 1_000 },
    events,
    key,
  },
];

describe('circuit breaker machine, model-based', () => {
  describeModelRuns<BreakerContext>('breaker', breakerMachine, configs, oracle);

  it('the oracle catches a breaker that never trips', () => {
    const broken = breakerMachine.provide({ guards: { trips: () => false } });
    const r = runModel<BreakerContext>(broken, configs[0]!, oracle, null, { stopAtFirstFailure: true });
    expect(r.failures.length).toBeGreaterThan(0);
  });
});
