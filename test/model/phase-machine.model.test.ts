import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { describe, expect, it } from 'vitest';
import { gateFailures, type GateSpec, type PhaseCounts } from '../../src/core/machines/gate.js';
import {
  phaseMachine,
  VALIDATION_ABANDONED,
  type PhaseContext,
  type PhaseEvent,
  type PhaseInput,
} from '../../src/core/machines/phase-machine.js';
import type { TaskStatus } from '../../src/core/machines/task-types.js';
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

type Snap = SnapshotOf<PhaseContext>;
type Status = 'pending' | 'active' | 'validating' | 'reworking' | 'passed' | 'failed' | 'cancelled';

/** Tasks per phase in the model: enough for mixed outcomes, small enough to traverse. */
const MAX_TASKS = 2;

const input = (gate: GateSpec, maxRounds: number): PhaseInput => ({
  id: 'T1/build',
  ticketId: 'T1',
  name: 'build',
  index: 1,
  gate,
  maxRounds,
});

type Settled = Extract<TaskStatus, 'succeeded' | 'dead_lettered' | 'cancelled' | 'skipped'>;

const settledSamples: Array<[string, Settled, string[], number | null]> = [
  ['settled:succeeded:good', 'succeeded', ['spec'], 0.9],
  ['settled:succeeded:poor', 'succeeded', [], 0.2],
  ['settled:succeeded:unrated', 'succeeded', ['notes'], null],
  ['settled:dead_lettered', 'dead_lettered', [], null],
  ['settled:cancelled', 'cancelled', [], null],
  ['settled:skipped', 'skipped', [], null],
];

/** The validator the phase asked for last (an id of the model's own: the machine only compares them). */
const validatorId = (c: PhaseContext): string => `${c.id}/validator-${c.round}.${c.validations ?? 0}`;

/**
 * The events the model offers. A pending split multiplies the state space, so only one config
 * offers splits, with one task (announced at any point of the first round).
 */
const eventsFor =
  (options: { maxTasks: number; splits: boolean }) =>
  (snapshot: AnyMachineSnapshot): EventObject[] => {
    const c = (snapshot as Snap).context;
    const now = 100;
    // Before `validator_started` the phase knows no validator: a verdict then comes from none it asked.
    const current = validatorId(c);
    const list: PhaseEvent[] = [
      sample('open', { type: 'phase.open', now }),
      sample('cancel', { type: 'phase.cancel', reason: 'ticket cancelled', now }),
      sample('validator_started', { type: 'phase.validator_started', taskId: current, now }),
      sample('validator:approved', {
        type: 'phase.validator_settled',
        taskId: current,
        approved: true,
        feedback: null,
        now,
      }),
      sample('validator:rejected', {
        type: 'phase.validator_settled',
        taskId: current,
        approved: false,
        feedback: 'tests are missing',
        now,
      }),
      sample('validator:rejected:silent', {
        type: 'phase.validator_settled',
        taskId: current,
        approved: false,
        feedback: null,
        now,
      }),
      // A validator cancelled when the phase went back to work, reporting late.
      sample('validator:stale:approved', {
        type: 'phase.validator_settled',
        taskId: `${c.id}/validator-old`,
        approved: true,
        feedback: null,
        now,
      }),
      sample('validator:stale:rejected', {
        type: 'phase.validator_settled',
        taskId: `${c.id}/validator-old`,
        approved: false,
        feedback: 'late',
        now,
      }),
      sample('reopened:none', { type: 'phase.reopened', reopened: {}, now }),
    ];
    if (c.counts.total < options.maxTasks) {
      list.push(sample('task_added', { type: 'phase.task_added', taskId: `task-${c.counts.total + 1}`, now }));
    }
    // Only tasks the phase counts as open can settle (the host reports each task once).
    if (c.counts.open > 0) {
      for (const [label, status, artifacts, quality] of settledSamples) {
        list.push(sample(label, { type: 'phase.task_settled', taskId: 'task-x', status, artifacts, quality, now }));
      }
    }
    // What the host reopens on rework: every succeeded, dead-lettered and skipped task.
    const reopened: Partial<Record<TaskStatus, number>> = {};
    for (const s of ['succeeded', 'dead_lettered', 'skipped'] as const) if (c.counts[s] > 0) reopened[s] = c.counts[s];
    if (Object.keys(reopened).length > 0)
      list.push(sample('reopened:reworkable', { type: 'phase.reopened', reopened, now }));
    const pending = c.pendingSplits ?? [];
    // Each split sent back from validating asks for another validator: once is enough to see it.
    if (options.splits && pending.length === 0 && c.round === 1 && (c.validations ?? 0) <= 1)
      list.push(sample('split_pending', { type: 'phase.split_pending', splitId: 'split-1', now }));
    if (options.splits && pending.length > 0) {
      list.push(sample('split_settled', { type: 'phase.split_settled', splitId: 'split-1', now }));
      // A split stored before phases heard of splits announced nothing, yet reports settling.
      list.push(sample('split_settled:unannounced', { type: 'phase.split_settled', splitId: 'split-old', now }));
    }
    return list;
  };

const events = eventsFor({ maxTasks: MAX_TASKS, splits: false });

/** Left out where they would not be realistic: see `events`. */
const optional = [
  'phase.task_added',
  'phase.task_settled',
  'phase.reopened',
  'phase.split_pending',
  'phase.split_settled',
];

const key = (snapshot: AnyMachineSnapshot): string => {
  const c = (snapshot as Snap).context;
  return JSON.stringify([
    snapshot.value,
    c.round,
    c.counts,
    c.artifacts.includes('spec'),
    c.minQuality === null ? null : c.minQuality >= 0.5,
    c.validator && [c.validator.taskId !== null, c.validator.approved],
    c.validations,
    (c.pendingSplits ?? []).length,
  ]);
};

// ---------------------------------------------------------------------------------------------
// The oracle: a reference model of the phase, written apart from the machine

/** Whether the gate's own criteria hold, decided here without `gateFailures`. */
function criteriaHold(c: PhaseContext): boolean {
  const g = c.gate;
  if (g.allTasksSucceeded !== false && c.counts.succeeded !== c.counts.total) return false;
  if ((g.requiredArtifacts ?? []).some((a) => !c.artifacts.includes(a))) return false;
  if (g.minQuality !== undefined && (c.minQuality === null || c.minQuality < g.minQuality)) return false;
  return true;
}

interface Expected {
  status: Status;
  context: PhaseContext;
  effects: string[];
}

const sumCounts = (k: PhaseCounts) => k.open + k.succeeded + k.dead_lettered + k.cancelled + k.skipped;

/** Every task settled and no split about to add more: the gate can be judged. */
const allIn = (c: PhaseContext): boolean =>
  c.counts.total > 0 && c.counts.open === 0 && (c.pendingSplits ?? []).length === 0;

function enterActive(x: Expected): void {
  x.status = 'active';
  x.effects.push('openTasks', 'emit:phase.opened');
  if (allIn(x.context)) evaluate(x);
}

function evaluate(x: Expected): void {
  const c = x.context;
  const holds = criteriaHold(c);
  // The reasons' wording comes from gateFailures (unit-tested apart); it must agree with the decision.
  c.reasons = gateFailures(c.gate, { counts: c.counts, artifacts: c.artifacts, minQuality: c.minQuality });
  check(
    holds === (c.reasons.length === 0),
    () => `gateFailures ${JSON.stringify(c.reasons)} disagrees with the criteria`,
  );
  if (holds && c.gate.validator !== undefined) {
    x.status = 'validating';
    c.validator = { taskId: null, approved: null, feedback: null };
    c.validations = (c.validations ?? 0) + 1;
    x.effects.push('spawnValidator');
  } else if (holds) {
    x.status = 'passed';
    x.effects.push('emit:phase.passed', 'phaseSettled');
  } else if (c.round < c.maxRounds) {
    x.status = 'reworking';
    c.feedback = c.reasons.join('; ');
    x.effects.push('emit:phase.rejected', 'reworkTasks');
  } else {
    x.status = 'failed';
    x.effects.push('emit:phase.failed', 'phaseSettled');
  }
}

/** The expected outcome of `e` in `from`, or null when the phase must ignore it. */
function expect_(from: Status, prev: PhaseContext, e: PhaseEvent): Expected | null {
  const x: Expected = { status: from, context: structuredClone(prev), effects: [] };
  const c = x.context;
  if (e.type === 'phase.task_added') {
    c.counts = { ...c.counts, total: c.counts.total + 1, open: c.counts.open + 1 };
    // The validator's verdict would not cover the new task: back to work, the validator cancelled.
    if (from === 'validating') {
      c.validator = null;
      x.effects.push('emit:phase.validation_cancelled', 'cancelValidator');
      enterActive(x);
    }
    return x;
  }
  if (e.type === 'phase.split_pending') {
    const pending = c.pendingSplits ?? [];
    c.pendingSplits = pending.includes(e.splitId) ? pending : [...pending, e.splitId];
    // Work on its way makes a verdict premature, as a new task does.
    if (from === 'validating') {
      c.validator = null;
      x.effects.push('emit:phase.validation_cancelled', 'cancelValidator');
      enterActive(x);
    }
    return x;
  }
  if (e.type === 'phase.split_settled') {
    // Only a split the phase waits for is taken off; the gate is judged once the last one is.
    c.pendingSplits = (c.pendingSplits ?? []).filter((id) => id !== e.splitId);
    if (from === 'active' && allIn(c)) evaluate(x);
    return x;
  }
  if (e.type === 'phase.cancel') {
    x.status = 'cancelled';
    x.effects.push('emit:phase.cancelled');
    return x;
  }
  if (e.type === 'phase.task_settled') {
    // A settled task is counted whatever the phase is doing, or the phase never sees it settle.
    c.counts = { ...c.counts, open: c.counts.open - 1, [e.status]: c.counts[e.status as Settled] + 1 };
    for (const a of e.artifacts) if (!c.artifacts.includes(a)) c.artifacts.push(a);
    if (e.status === 'succeeded' && e.quality !== null) c.minQuality = Math.min(e.quality, c.minQuality ?? Infinity);
    if (from === 'active' && allIn(c)) evaluate(x);
    return x;
  }
  switch (from) {
    case 'pending':
      if (e.type !== 'phase.open') return null;
      enterActive(x);
      return x;
    case 'validating':
      if (e.type === 'phase.validator_started') {
        c.validator = { taskId: e.taskId, approved: null, feedback: null };
        return x;
      }
      if (e.type !== 'phase.validator_settled') return null;
      // Only the validator asked for last decides (the runtime may not have reported it started yet).
      if (prev.validator === null || e.taskId !== prev.validator.taskId) return null;
      if (e.approved) {
        x.status = 'passed';
        c.validator = { taskId: prev.validator?.taskId ?? null, approved: true, feedback: e.feedback };
        x.effects.push('emit:phase.passed', 'phaseSettled');
      } else if (c.round < c.maxRounds) {
        x.status = 'reworking';
        c.validator = { taskId: prev.validator?.taskId ?? null, approved: false, feedback: e.feedback };
        c.reasons = [`validator rejected: ${e.feedback ?? 'no feedback'}`];
        c.feedback = e.feedback ?? 'the validator rejected the work';
        x.effects.push('emit:phase.rejected', 'reworkTasks');
      } else {
        x.status = 'failed';
        c.reasons = [`validator rejected: ${e.feedback ?? 'no feedback'}`];
        x.effects.push('emit:phase.failed', 'phaseSettled');
      }
      return x;
    case 'reworking': {
      if (e.type !== 'phase.reopened') return null;
      const n = Object.values(e.reopened).reduce((a, b) => a + (b ?? 0), 0);
      if (n === 0) {
        x.status = 'failed';
        c.reasons = [...c.reasons, 'no task could be reworked'];
        x.effects.push('emit:phase.failed', 'phaseSettled');
        return x;
      }
      const counts = { ...c.counts };
      for (const [s, k] of Object.entries(e.reopened)) counts[s as Settled] -= k ?? 0;
      counts.open += n;
      Object.assign(c, {
        counts,
        round: c.round + 1,
        artifacts: [],
        minQuality: null,
        validator: null,
        validations: 0,
      });
      enterActive(x);
      return x;
    }
    default:
      return null;
  }
}

function invariants(s: Snap): void {
  const c = s.context;
  const k = c.counts;
  const status = s.value as Status;
  check(typeof s.value === 'string' && status !== ('evaluating' as Status), `rests in ${String(s.value)}`);
  checkEqual(sumCounts(k), k.total, 'open + succeeded + dead_lettered + cancelled + skipped');
  check(
    Object.values(k).every((n) => n >= 0),
    () => `negative count in ${JSON.stringify(k)}`,
  );
  checkEqual(s.status, ['passed', 'failed', 'cancelled'].includes(status) ? 'done' : 'active', 'snapshot status');
  check(c.round >= 1 && c.round <= c.maxRounds, `round ${c.round} of ${c.maxRounds}`);
  if (status === 'active') check(!allIn(c), 'active with every task settled and no split pending');
  if (status === 'validating' || status === 'passed')
    checkEqual(c.pendingSplits ?? [], [], `${status} with a split pending`);
  if (status === 'validating') {
    check(c.gate.validator !== undefined && criteriaHold(c), 'validating without a passing gate');
    check(k.open === 0, 'validating with an open task');
    check((c.validations ?? 0) >= 1, 'validating without a validator asked for');
  }
  // A validator belongs to one evaluation: none is remembered while the phase works.
  if (status === 'pending' || status === 'active') checkEqual(c.validator, null, 'validator while at work');
  if (status === 'passed') {
    checkEqual(k.open, 0, 'open tasks once passed');
    check(criteriaHold(c), 'passed while the gate criteria fail');
    if (c.gate.validator) checkEqual(c.validator?.approved, true, 'validator verdict once passed');
    checkEqual(c.reasons, [], 'reasons once passed');
  }
  if (status === 'failed') check(c.reasons.length > 0, 'failed without a reason');
  if (status === 'reworking') {
    check(c.round < c.maxRounds, 'reworking with no round left');
    check(typeof c.feedback === 'string' && c.feedback.length > 0, 'reworking without feedback');
  }
}

function oracle(step: StepRecord<PhaseContext>): void {
  const next = step.next as Snap;
  invariants(next);
  const c = next.context;
  if (step.prev === null) {
    checkEqual(next.value, 'pending', 'initial state');
    checkEffectKinds(step.effects, []);
    return;
  }
  const prev = step.prev as Snap;
  const e = step.event as PhaseEvent;
  const x = expect_(prev.value as Status, prev.context, e);
  if (x === null) {
    check(!step.changed, `${e.type} should have been ignored while ${String(prev.value)}`);
    return;
  }
  checkEqual(next.value, x.status, `state after ${e.type} in ${String(prev.value)}`);
  checkEqual(c, x.context, `context after ${e.type} in ${String(prev.value)}`);
  checkEffectKinds(step.effects, x.effects);
  const base = { ticketId: c.ticketId, phase: c.name };
  if (x.effects.includes('openTasks')) checkEqual(only(step.effects, 'openTasks'), base, 'openTasks');
  if (x.effects.includes('spawnValidator')) {
    const spawn = {
      phaseId: c.id,
      ...base,
      round: c.round,
      attempt: c.validations,
      validator: c.gate.validator,
      feedback: c.round > 1 ? c.feedback : null,
    };
    checkEqual(only(step.effects, 'spawnValidator'), spawn, 'spawnValidator');
  }
  if (x.effects.includes('cancelValidator')) {
    // The one asked for last, named as it was asked for (round and attempt), known started or not.
    const cancel = {
      phaseId: c.id,
      round: prev.context.round,
      attempt: prev.context.validations,
      reason: VALIDATION_ABANDONED,
    };
    checkEqual(only(step.effects, 'cancelValidator'), cancel, 'cancelValidator');
    const emitted = step.effects.find((f) => f.type === 'emit' && f.params.type === 'phase.validation_cancelled');
    const data = {
      round: c.round,
      addedTaskId: e.type === 'phase.task_added' ? e.taskId : null,
      ...(e.type === 'phase.split_pending' ? { splitId: e.splitId } : {}),
      validatorTaskId: prev.context.validator?.taskId ?? null,
      reason: VALIDATION_ABANDONED,
    };
    checkEqual(emitted?.params, { type: 'phase.validation_cancelled', ...base, data }, 'phase.validation_cancelled');
  }
  if (x.effects.includes('reworkTasks')) {
    checkEqual(
      only(step.effects, 'reworkTasks'),
      { phaseId: c.id, ...base, round: c.round + 1, feedback: c.feedback },
      'reworkTasks',
    );
  }
  if (x.effects.includes('phaseSettled')) {
    const passed = x.status === 'passed';
    checkEqual(
      only(step.effects, 'phaseSettled'),
      { ...base, passed, reasons: passed ? [] : c.reasons },
      'phaseSettled',
    );
  }
}

const configs: ModelConfig[] = [
  { name: 'default gate, 2 rounds', input: input({}, 2), events, key, optional },
  {
    name: 'artifacts + quality + validator, 2 rounds',
    input: input(
      { requiredArtifacts: ['spec'], minQuality: 0.5, validator: { type: 'review', requires: ['review'] } },
      2,
    ),
    events,
    key,
    optional,
  },
  { name: 'failures allowed, 1 round', input: input({ allTasksSucceeded: false }, 1), events, key, optional },
  {
    name: 'a split pending, validator, 2 rounds',
    input: input({ validator: { type: 'review' } }, 2),
    events: eventsFor({ maxTasks: 1, splits: true }),
    key,
    optional,
  },
];

describe('phase machine, model-based', () => {
  describeModelRuns<PhaseContext>('phase', phaseMachine, configs, oracle);

  it('the oracle catches a machine that evaluates its gate before any task was added', () => {
    const broken = phaseMachine.provide({ guards: { allSettled: ({ context }) => context.counts.open === 0 } });
    const r = runModel<PhaseContext>(broken, configs[0]!, oracle, null, { stopAtFirstFailure: true });
    expect(r.failures.length).toBeGreaterThan(0);
  });

  it('the oracle catches a machine that judges its gate while a split is pending', () => {
    const broken = phaseMachine.provide({
      guards: { allSettled: ({ context }) => context.counts.total > 0 && context.counts.open === 0 },
    });
    const r = runModel<PhaseContext>(broken, configs[3]!, oracle, null, { stopAtFirstFailure: true });
    expect(r.failures.join('\n')).toContain('split_pending');
  });

  it('the oracle catches a machine that takes the verdict of a validator it no longer waits for', () => {
    const broken = phaseMachine.provide({
      guards: { approved: ({ event }) => event.type === 'phase.validator_settled' && event.approved },
    });
    const r = runModel<PhaseContext>(broken, configs[1]!, oracle, null, { stopAtFirstFailure: true });
    expect(r.failures.join('\n')).toContain('validator:stale:approved');
  });
});
