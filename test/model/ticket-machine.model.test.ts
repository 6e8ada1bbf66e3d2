import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { describe, expect, it } from 'vitest';
import { assign } from 'xstate';
import {
  ticketMachine,
  type TicketContext,
  type TicketEvent,
  type TicketInput,
} from '../../src/core/machines/ticket-machine.js';
import {
  check,
  checkEffectKinds,
  checkEqual,
  Coverage,
  only,
  runModel,
  sample,
  type ModelConfig,
  type SnapshotOf,
  type StepRecord,
  describeModelRuns,
} from './helpers.js';

type Snap = SnapshotOf<TicketContext>;

const plan = (name: string) => ({ name, gate: {}, maxRounds: 1 });

const input = (phases: string[]): TicketInput => ({
  id: 'T1',
  title: 'Add search',
  description: 'Full-text search over notes',
  phases: phases.map(plan),
  context: { repo: 'notes' },
  now: 1_000,
});

const outputFor = (phase: string, index: number) => ({
  results: { [`${phase}-task`]: { index } },
  artifacts: { [`${phase}.md`]: `# ${phase}` },
});

function events(snapshot: AnyMachineSnapshot): EventObject[] {
  const c = (snapshot as Snap).context;
  const now = c.createdAt + 10;
  const current = c.phases[c.index]?.name ?? 'none';
  const previous = c.index > 0 ? c.phases[c.index - 1]?.name : undefined;
  const list: TicketEvent[] = [
    sample('passed:current', { type: 'ticket.phase_passed', phase: current, output: outputFor(current, c.index), now }),
    sample('passed:unknown', {
      type: 'ticket.phase_passed',
      phase: 'elsewhere',
      output: outputFor('elsewhere', -1),
      now,
    }),
    sample('failed:current', {
      type: 'ticket.phase_failed',
      phase: current,
      reasons: ['1 of 2 tasks did not succeed', 'late'],
      now,
    }),
    sample('failed:unknown', { type: 'ticket.phase_failed', phase: 'elsewhere', reasons: ['nope'], now }),
    sample('set_shared', { type: 'ticket.set_shared', key: 'k', value: { index: c.index }, now }),
    sample('set_shared:other', { type: 'ticket.set_shared', key: 'owner', value: 'ana', now }),
    sample('cancel', { type: 'ticket.cancel', reason: 'no longer wanted', now }),
  ];
  // A late, repeated report of the phase that already passed must change nothing.
  if (previous !== undefined) {
    list.push(
      sample('passed:previous', { type: 'ticket.phase_passed', phase: previous, output: outputFor(previous, 0), now }),
    );
    list.push(sample('failed:previous', { type: 'ticket.phase_failed', phase: previous, reasons: ['late'], now }));
  }
  return list;
}

const key = (snapshot: AnyMachineSnapshot): string => {
  const c = (snapshot as Snap).context;
  return JSON.stringify([snapshot.value, c.index, Object.keys(c.shared).sort()]);
};

const FINAL = new Set(['completed', 'failed', 'cancelled']);

/** Invariants of any ticket snapshot. */
function invariants(s: Snap): void {
  const c = s.context;
  const value = s.value as string;
  check(['active', ...FINAL].includes(value), `unknown state ${value}`);
  checkEqual(s.status, FINAL.has(value) ? 'done' : 'active', 'status');
  check(c.index >= 0 && c.index < Math.max(1, c.phases.length), `index ${c.index} out of range`);
  // Cross-phase context: exactly the phases that passed have handed on their output.
  const passed = c.phases.slice(0, value === 'completed' ? c.index + 1 : c.index).map((p) => p.name);
  checkEqual(Object.keys(c.phaseOutputs).sort(), [...passed].sort(), 'phaseOutputs keys');
  for (const [i, name] of passed.entries()) checkEqual(c.phaseOutputs[name], outputFor(name, i), `output of ${name}`);
  checkEqual(c.reason === null, value === 'active' || value === 'completed', 'reason set iff failed or cancelled');
}

function oracle(step: StepRecord<TicketContext>): void {
  const next = step.next as Snap;
  invariants(next);
  const c = next.context;
  if (step.prev === null) {
    checkEqual(next.value, 'active', 'initial state');
    checkEqual(c.index, 0, 'initial index');
    checkEffectKinds(step.effects, ['emit:ticket.created', 'openPhase']);
    checkEqual(only(step.effects, 'openPhase'), { ticketId: c.id, phase: c.phases[0]?.name ?? '' }, 'openPhase');
    return;
  }
  const prev = step.prev as Snap;
  const p = prev.context;
  const e = step.event as TicketEvent;
  const unchanged = () => {
    check(!step.changed, `${e.type} should have been ignored in ${String(prev.value)}`);
  };
  const current = p.phases[p.index]?.name;
  const last = p.index === p.phases.length - 1;
  switch (e.type) {
    case 'ticket.set_shared':
      checkEqual(next.value, prev.value, 'state after set_shared');
      checkEqual(c.shared, { ...p.shared, [e.key]: e.value }, 'shared');
      checkEqual({ ...c, shared: null }, { ...p, shared: null }, 'context apart from shared');
      checkEffectKinds(step.effects, []);
      return;
    case 'ticket.phase_passed':
      if (e.phase !== current) return unchanged();
      if (last) {
        checkEqual(next.value, 'completed', 'state after the last phase passed');
        checkEqual(c.index, p.index, 'index');
        checkEffectKinds(step.effects, ['emit:ticket.completed', 'ticketSettled']);
        checkEqual(only(step.effects, 'ticketSettled'), { ticketId: c.id, status: 'completed' }, 'ticketSettled');
      } else {
        checkEqual(next.value, 'active', 'state after a phase passed');
        checkEqual(c.index, p.index + 1, 'index advances');
        checkEffectKinds(step.effects, ['emit:ticket.phase_changed', 'openPhase']);
        checkEqual(
          only(step.effects, 'openPhase'),
          { ticketId: c.id, phase: p.phases[p.index + 1]?.name },
          'openPhase',
        );
      }
      checkEqual(c.phaseOutputs[e.phase], e.output, 'recorded output');
      return;
    case 'ticket.phase_failed':
      if (e.phase !== current) return unchanged();
      checkEqual(next.value, 'failed', 'state after the current phase failed');
      checkEqual(c.reason, `phase ${e.phase} failed: ${e.reasons.join('; ')}`, 'reason');
      checkEffectKinds(step.effects, ['emit:ticket.failed', 'ticketSettled']);
      checkEqual(only(step.effects, 'ticketSettled'), { ticketId: c.id, status: 'failed' }, 'ticketSettled');
      return;
    case 'ticket.cancel':
      checkEqual(next.value, 'cancelled', 'state after cancel');
      checkEqual(c.reason, e.reason, 'reason');
      checkEffectKinds(step.effects, ['cancelWork', 'emit:ticket.cancelled', 'ticketSettled']);
      checkEqual(only(step.effects, 'cancelWork'), { ticketId: c.id, reason: e.reason }, 'cancelWork');
      checkEqual(only(step.effects, 'ticketSettled'), { ticketId: c.id, status: 'cancelled' }, 'ticketSettled');
      return;
  }
}

const configs: ModelConfig[] = [
  { name: 'three phases', input: input(['requirements', 'implementation', 'testing']), events, key },
  { name: 'one phase', input: input(['only']), events, key },
];

describe('ticket machine, model-based', () => {
  describeModelRuns<TicketContext>('ticket', ticketMachine, configs, oracle);

  it('coverage names what the samples leave out', () => {
    const withoutFailures: ModelConfig = {
      ...configs[0]!,
      events: (s) => events(s).filter((e) => e.type !== 'ticket.phase_failed'),
      optional: ['ticket.phase_failed'],
    };
    const partial = new Coverage(ticketMachine);
    runModel<TicketContext>(ticketMachine, withoutFailures, oracle, partial);
    expect(partial.missingStates()).toEqual(['#ticket.failed']);
    expect(partial.missingTransitions()).toEqual([
      '#ticket.active on ticket.phase_failed[0] if currentPhase -> #ticket.failed',
    ]);
  });

  it("the oracle catches a machine that forgets a passed phase's output", () => {
    const broken = ticketMachine.provide({ actions: { recordOutput: assign(() => ({})) } });
    const r = runModel<TicketContext>(broken, configs[0]!, oracle, null, { stopAtFirstFailure: true });
    expect(r.failures.length).toBeGreaterThan(0);
  });
});
