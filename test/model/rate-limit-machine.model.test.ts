import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  rateLimitMachine,
  type RateLimitContext,
  type RateLimitEvent,
} from '../../src/core/controls/rate-limit-machine.js';
import type { RateBudgetState, RateLimitDefinition } from '../../src/core/controls/rate-budget.js';
import { ControlGates } from '../../src/engine/controls/control-gates.js';
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

/**
 * The rate-limit machine with the dispatcher's gate in front of it, as the runtime has them: the
 * gate (`ControlGates`) decides from its copy of the budget whether a task may start and when a
 * refused one may, and the units it admits at one instant reach the machine as one summed spend.
 * The oracle works the budget out on its own (refill, window, redefinition) and checks, after
 * every step of every path: the machine's budget, that every spend the gate admitted fitted the
 * budget (never exceeded), that the gate's copy equals the machine's to the bit after a batch of
 * admissions, and that every refusal names the first instant at which the units are back (no
 * earlier: exceeded; no later: the refill is lost).
 */

type Snap = SnapshotOf<RateLimitContext>;

const KEY = 'openai';

/** The latest instant the budget mentions: sample events move time forward from it. */
const clockOf = (c: RateLimitContext): number =>
  c.budget.kind === 'token-bucket' ? latest(1_000, c.budget.at) : latest(1_000, ...c.budget.spends.map(([at]) => at));

// ---------------------------------------------------------------------------------------------
// The budget, worked out apart from rate-budget.ts

/** Units available at `t` (negative while a reported overspend is paid back). */
function available(def: RateLimitDefinition, b: RateBudgetState, t: number): number {
  if (b.kind === 'token-bucket') {
    const elapsed = t > b.at ? t - b.at : 0;
    const refill = (elapsed * def.limit) / def.per;
    return b.tokens + refill > def.limit ? def.limit : b.tokens + refill;
  }
  let used = 0;
  for (const [at, units] of b.spends) if (t - at < def.per) used += units;
  return def.limit - used;
}

/** The budget after spending `units` at `t`. */
function spent(def: RateLimitDefinition, b: RateBudgetState, units: number, t: number): RateBudgetState {
  if (b.kind === 'token-bucket') return { kind: 'token-bucket', tokens: available(def, b, t) - units, at: t };
  const kept = b.spends.filter(([at]) => t - at < def.per);
  const last = kept.at(-1);
  return {
    kind: 'sliding-window',
    spends: last?.[0] === t ? [...kept.slice(0, -1), [t, last[1] + units]] : [...kept, [t, units]],
  };
}

/** The budget under a new definition: docs/controls.md, "Rate limits". */
function redefined(
  prev: RateLimitDefinition,
  def: RateLimitDefinition,
  b: RateBudgetState,
  t: number,
): RateBudgetState {
  if (b.kind !== def.kind)
    return def.kind === 'token-bucket'
      ? { kind: 'token-bucket', tokens: def.limit, at: t }
      : { kind: 'sliding-window', spends: [] };
  if (b.kind === 'sliding-window') return b;
  const held = available(prev, b, t) + Math.max(0, def.limit - prev.limit);
  return { kind: 'token-bucket', tokens: Math.min(def.limit, held), at: t };
}

/** The first whole ms at or after `t` when `units` (at most a whole limit) are available, by search. */
function firstFit(def: RateLimitDefinition, b: RateBudgetState, units: number, t: number): number {
  const need = Math.min(units, def.limit);
  // Within one `per` of the last spend, and of the overspend's payback, every budget is whole again.
  const debt = Math.max(0, -available(def, b, t));
  const horizon = t + def.per * (2 + Math.ceil(debt / def.limit));
  for (let at = t; at <= horizon; at++) if (available(def, b, at) >= need) return at;
  throw new Error(`no fit for ${units} before ${horizon}`);
}

// ---------------------------------------------------------------------------------------------
// The dispatcher's gate over a copy of the budget

const task = (units: number) => ({ controls: { rateLimits: [{ key: KEY, units }] }, type: 'call', requires: [] });

/** How the oracle's gates are made (the last test swaps in a broken one). */
let makeGates = (): ControlGates => new ControlGates();

function gateOver(c: RateLimitContext): ControlGates {
  const gates = makeGates();
  gates.setLimit(c.def, c.budget);
  return gates;
}

/** What the gate did to make a dispatcher spend: the copy it kept, for the oracle. */
const admitted = new WeakMap<EventObject, { tasks: number; copy: RateBudgetState }>();

/** As many tasks of `units` as the gate admits at `t` (at most `most`), sent as the one spend a match sends. */
function dispatch(label: string, c: RateLimitContext, units: number, most: number, t: number): RateLimitEvent[] {
  const gates = gateOver(c);
  let tasks = 0;
  while (tasks < most && gates.check(task(units), t, 100, 0) === null) {
    gates.admit(task(units), t);
    tasks++;
  }
  const spends = gates.takeSpends();
  if (spends.length === 0) return [];
  checkEqual(spends.length, 1, 'one spend per key per match');
  const s = spends[0]!;
  const event = sample(label, { type: 'ratelimit.spend', units: s.units, at: s.at, reported: false, now: t } as const);
  admitted.set(event, { tasks, copy: gates.limitOf(KEY)!.budget });
  return [event];
}

function events(snapshot: AnyMachineSnapshot): EventObject[] {
  const c = (snapshot as Snap).context;
  const now = clockOf(c) + 1;
  const { limit, per, kind } = c.def;
  const other = kind === 'token-bucket' ? 'sliding-window' : 'token-bucket';
  const list: RateLimitEvent[] = [
    ...dispatch('dispatch:one', c, 1, 1, now),
    ...dispatch('dispatch:burst', c, 1, 4, now),
    ...dispatch('dispatch:whole-limit', c, limit, 1, now),
    // At the very instant of the last spend: a window merges the two.
    ...dispatch('dispatch:same-instant', c, 1, 2, clockOf(c)),
    // At the instant the gate named for a whole limit's worth (the refill timer it arms).
    ...dispatch('dispatch:at-refill', c, limit, 1, gateOver(c).check(task(limit), now, 100, 0)?.until ?? now),
    ...dispatch('dispatch:a-window-later', c, 1, 1, now + per),
    sample('report:2', { type: 'ratelimit.spend', units: 2, at: now, reported: true, now }),
    // More than a whole limit, after the fact: the budget goes into debt.
    sample('report:over', { type: 'ratelimit.spend', units: limit + 2, at: now, reported: true, now }),
    sample('define:same', { type: 'ratelimit.define', def: c.def, now }),
    sample('define:3', { type: 'ratelimit.define', def: { ...c.def, limit: 3 }, now }),
    sample('define:5', { type: 'ratelimit.define', def: { ...c.def, limit: 5 }, now }),
    sample('define:other-kind', { type: 'ratelimit.define', def: { ...c.def, kind: other }, now }),
  ];
  return list;
}

/** Abstract state: kind, limit, and how full the budget is (never clock values). */
const key = (snapshot: AnyMachineSnapshot): string => {
  const c = (snapshot as Snap).context;
  const have = available(c.def, c.budget, clockOf(c));
  const level = have >= c.def.limit ? 'full' : have >= 1 ? 'some' : have >= 0 ? 'dry' : 'debt';
  const spends = c.budget.kind === 'sliding-window' ? Math.min(c.budget.spends.length, 3) : 0;
  return JSON.stringify([c.def.kind, c.def.limit, level, spends]);
};

// ---------------------------------------------------------------------------------------------
// The oracle

/** Facts of every reachable budget, and the gate's answers over it. */
function invariants(c: RateLimitContext): void {
  const b = c.budget;
  checkEqual(b.kind, c.def.kind, 'budget kind follows the definition');
  if (b.kind === 'token-bucket') check(b.tokens <= c.def.limit, () => `bucket holds ${b.tokens} > ${c.def.limit}`);
  else {
    const last = b.spends.at(-1)?.[0] ?? 0;
    check(
      b.spends.every(([at, units], i) => units > 0 && last - at < c.def.per && (i === 0 || at > b.spends[i - 1]![0])),
      () => `window keeps one entry per instant, in order, only within ${c.def.per} ms: ${JSON.stringify(b.spends)}`,
    );
  }
  // The gate: a yes exactly when the units fit now, and a no naming the first instant they do.
  const t = clockOf(c) + 1;
  for (const units of [1, 2, c.def.limit, c.def.limit + 5]) {
    const refusal = gateOver(c).check(task(units), t, 100, 0);
    const fit = firstFit(c.def, c.budget, units, t);
    if (fit === t) checkEqual(refusal, null, `gate for ${units} unit(s) that fit`);
    else {
      check(refusal !== null, () => `gate let ${units} unit(s) through with ${available(c.def, c.budget, t)} left`);
      checkEqual([refusal.gate, refusal.until], [`ratelimit:${KEY}`, fit], `refusal of ${units} unit(s)`);
    }
  }
}

function oracle(step: StepRecord<RateLimitContext>): void {
  const next = (step.next as Snap).context;
  invariants(next);
  if (step.prev === null) {
    const input = step.input as { def: RateLimitDefinition; now: number };
    checkEqual(next.def, input.def, 'initial definition');
    checkEqual(next.budget, redefined(input.def, input.def, { kind: 'sliding-window', spends: [] }, input.now), 'full');
    checkEffectKinds(step.effects, ['rateLimitState', 'emit:ratelimit.defined']);
    checkEqual(only(step.effects, 'rateLimitState'), { def: next.def, budget: next.budget }, 'copy for the gate');
    return;
  }
  const p = (step.prev as Snap).context;
  const e = step.event as RateLimitEvent;
  check(step.changed, () => `${e.type} is always taken`);
  if (e.type === 'ratelimit.define') {
    checkEqual(next.def, e.def, 'definition');
    checkEqual(next.budget, redefined(p.def, e.def, p.budget, e.now), 'budget under the new definition');
    checkEffectKinds(step.effects, ['rateLimitState', 'emit:ratelimit.defined']);
    checkEqual(only(step.effects, 'rateLimitState'), { def: next.def, budget: next.budget }, 'copy for the gate');
    return;
  }
  checkEqual(next.def, p.def, 'a spend keeps the definition');
  checkEqual(next.budget, spent(p.def, p.budget, e.units, e.at), 'budget after the spend');
  if (e.reported) {
    checkEffectKinds(step.effects, ['rateLimitState', 'emit:ratelimit.reported']);
    checkEqual(only(step.effects, 'rateLimitState'), { def: next.def, budget: next.budget }, 'copy for the gate');
    return;
  }
  // A spend the dispatcher made: no effect (its copy spent it already), and it fitted.
  checkEffectKinds(step.effects, []);
  const made = admitted.get(e);
  check(made !== undefined, 'a dispatcher spend comes from the gate');
  // Each task of the batch found its units (at most a whole limit) left by those before it.
  const units = e.units / made.tasks;
  const need = Math.min(units, p.def.limit);
  const before = available(p.def, p.budget, e.at);
  check(
    before - (e.units - units) >= need,
    () => `${made.tasks} task(s) of ${units} unit(s) admitted with ${before} available: exceeded`,
  );
  checkEqual(made.copy, next.budget, "the gate's copy after the batch equals the durable budget");
}

const def = (over: Partial<RateLimitDefinition>): RateLimitDefinition => ({
  key: KEY,
  limit: 5,
  per: 1_000,
  kind: 'token-bucket',
  ...over,
});

const configs: ModelConfig[] = [
  { name: 'token bucket, 5 per second', input: { def: def({}), now: 1_000 }, events, key },
  {
    name: 'sliding window, 3 per second',
    input: { def: def({ kind: 'sliding-window', limit: 3 }), now: 1_000 },
    events,
    key,
  },
  {
    name: 'token bucket, 3 per 7 s (refills in thirds of a unit)',
    input: { def: def({ limit: 3, per: 7_000 }), now: 1_000 },
    events,
    key,
  },
];

describe('rate-limit machine and its gate, model-based', () => {
  describeModelRuns<RateLimitContext>('rate limit', rateLimitMachine, configs, oracle);

  it('the oracle catches a gate that forgets what it admitted earlier in the same match', () => {
    /** Checks every task against the budget as it was before the match: a burst overspends. */
    class Forgetful extends ControlGates {
      private before: ControlGates | null = null;
      override setLimit(def: RateLimitDefinition, budget: RateBudgetState): void {
        super.setLimit(def, budget);
        this.before = new ControlGates();
        this.before.setLimit(def, budget);
      }
      override check(...args: Parameters<ControlGates['check']>): ReturnType<ControlGates['check']> {
        return this.before!.check(...args);
      }
    }
    makeGates = () => new Forgetful();
    try {
      const r = runModel<RateLimitContext>(rateLimitMachine, configs[1]!, oracle, null, { stopAtFirstFailure: true });
      expect(r.failures.join('\n')).toMatch(/exceeded/);
    } finally {
      makeGates = () => new ControlGates();
    }
  });
});
