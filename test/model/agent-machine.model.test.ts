import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  agentMachine,
  agentStatusOf,
  type AgentContext,
  type AgentEvent,
  type AgentInput,
} from '../../src/core/machines/agent-machine.js';
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

type Snap = SnapshotOf<AgentContext>;

const input = (capacity: number, transport: AgentInput['transport']): AgentInput => ({
  id: 'agent-1',
  capabilities: ['code', 'review'],
  capacity,
  transport,
  staleAfterMs: 1_000,
  now: 5_000,
});

function events(snapshot: AnyMachineSnapshot): EventObject[] {
  const c = (snapshot as Snap).context;
  const deadline = c.lastBeatAt + c.staleAfterMs;
  const list: AgentEvent[] = [
    sample('heartbeat', { type: 'agent.heartbeat', now: c.lastBeatAt + 100 }),
    sample('drain', { type: 'agent.drain', now: c.lastBeatAt + 1 }),
    sample('deregister', { type: 'agent.deregister', reason: 'shutting down', now: c.lastBeatAt + 1 }),
    sample('lost', { type: 'agent.lost', reason: 'socket closed', now: c.lastBeatAt + 1 }),
    sample('timer:stale:due', { type: 'timer', name: 'stale', now: deadline }),
    // A heartbeat moved the deadline after the timer was armed: the timer fires early.
    sample('timer:stale:early', { type: 'timer', name: 'stale', now: deadline - 1 }),
    sample('timer:unknown', { type: 'timer', name: 'bogus', now: deadline + 1 }),
  ];
  for (let load = 0; load <= c.capacity; load++) {
    list.push(sample(`load:${load}`, { type: 'agent.load', load, now: c.lastBeatAt + 1 }));
  }
  return list;
}

const key = (snapshot: AnyMachineSnapshot): string => {
  const c = (snapshot as Snap).context;
  return JSON.stringify([snapshot.value, c.load, c.reason, c.lastBeatAt > c.registeredAt, c.draining]);
};

const statusOf = (s: Snap) => agentStatusOf(s.value);

function invariants(step: StepRecord<AgentContext>): void {
  const s = step.next as Snap;
  const c = s.context;
  const status = statusOf(s);
  check(['idle', 'busy', 'draining', 'stale', 'gone'].includes(status), `rests in ${status}`);
  checkEqual(s.status, status === 'gone' ? 'done' : 'active', 'snapshot status');
  if (status === 'idle') checkEqual(c.load, 0, 'load while idle');
  if (status === 'busy') check(c.load > 0, `busy with load ${c.load}`);
  if (status === 'draining') check(c.load > 0, `draining with load ${c.load} should have gone`);
  if (status === 'stale' || status === 'gone') checkEqual(c.load, 0, `load once ${status}`);
  // The durable stale timer: armed while the agent may take or hold work, never after.
  const at = step.timers.get('stale');
  if (status === 'idle' || status === 'busy' || status === 'draining') {
    check(at !== undefined, `no stale timer armed while ${status}`);
    check(
      at <= c.lastBeatAt + c.staleAfterMs,
      `stale timer at ${at} is after the deadline ${c.lastBeatAt + c.staleAfterMs}`,
    );
  } else {
    checkEqual(step.timers.names(), [], `timers armed while ${status}`);
  }
}

const availability = (c: AgentContext) => ({
  agentId: c.id,
  capabilities: c.capabilities,
  capacity: c.capacity,
  transport: c.transport,
});

function oracle(step: StepRecord<AgentContext>): void {
  invariants(step);
  const next = step.next as Snap;
  const c = next.context;
  const arming = () =>
    checkEqual(only(step.effects, 'setTimer'), { name: 'stale', at: c.lastBeatAt + c.staleAfterMs }, 'setTimer');
  if (step.prev === null) {
    checkEqual(statusOf(next), 'idle', 'initial status');
    checkEffectKinds(step.effects, [
      'emit:agent.registered',
      'setTimer',
      'available',
      'emit:agent.initialized',
      'emit:agent.idle',
    ]);
    arming();
    checkEqual(only(step.effects, 'available'), availability(c), 'available');
    return;
  }
  const prev = step.prev as Snap;
  const p = prev.context;
  const from = statusOf(prev);
  const e = step.event as AgentEvent;
  const unchanged = () => check(!step.changed, `${e.type} should have been ignored while ${from}`);
  const leftFor = (reason: string, kinds: string[]) => {
    checkEqual(statusOf(next), 'gone', 'status');
    checkEqual(c.reason, reason, 'reason');
    checkEffectKinds(step.effects, ['clearTimer', 'emit:agent.gone', ...kinds]);
    if (kinds.includes('agentLost'))
      checkEqual(only(step.effects, 'agentLost'), { agentId: c.id, reason }, 'agentLost');
    checkEqual(only(step.effects, 'clearTimer'), { name: 'stale' }, 'clearTimer');
  };

  if (e.type === 'agent.deregister' || e.type === 'agent.lost') return leftFor(e.reason, ['unavailable', 'agentLost']);

  if (from === 'stale') {
    if (e.type !== 'agent.heartbeat') return unchanged();
    // A draining agent that went stale holds nothing any more: beating again, it is done.
    if (p.draining) return leftFor('drained', ['unavailable', 'emit:agent.draining']);
    checkEqual(statusOf(next), 'idle', 'status after a stale agent beats again');
    checkEqual(c.lastBeatAt, e.now, 'lastBeatAt');
    checkEffectKinds(step.effects, [
      'emit:agent.recovered',
      'setTimer',
      'available',
      'emit:agent.initialized',
      'emit:agent.idle',
    ]);
    arming();
    checkEqual(only(step.effects, 'available'), availability(c), 'available');
    return;
  }

  // active (idle, busy) or draining
  switch (e.type) {
    case 'agent.heartbeat':
      checkEqual(next.value, prev.value, 'state after a heartbeat');
      checkEqual(c, { ...p, lastBeatAt: e.now }, 'context after a heartbeat');
      checkEffectKinds(step.effects, []);
      return;
    case 'agent.load': {
      checkEqual(c.load, e.load, 'load');
      if (from === 'draining') {
        if (e.load === 0) return leftFor('drained', []);
        checkEqual(statusOf(next), 'draining', 'status');
        checkEffectKinds(step.effects, []);
        return;
      }
      const to = e.load > 0 ? 'busy' : 'idle';
      checkEqual(statusOf(next), to, 'status after a load change');
      checkEffectKinds(step.effects, to === from ? [] : [`emit:agent.${to}`]);
      return;
    }
    case 'agent.drain':
      if (from === 'draining') return unchanged();
      if (p.load === 0) return leftFor('drained', ['unavailable', 'emit:agent.draining']);
      checkEqual(statusOf(next), 'draining', 'status after drain');
      checkEqual(c.draining, true, 'draining flag');
      checkEffectKinds(step.effects, ['unavailable', 'emit:agent.draining']);
      checkEqual(only(step.effects, 'unavailable'), { agentId: c.id }, 'unavailable');
      return;
    case 'timer': {
      if (e.name !== 'stale') return unchanged();
      if (e.now >= p.lastBeatAt + p.staleAfterMs) {
        checkEqual(statusOf(next), 'stale', 'status once the deadline passed');
        checkEqual(c.reason, 'heartbeat missed', 'reason');
        checkEffectKinds(step.effects, ['unavailable', 'agentLost', 'emit:agent.stale']);
        checkEqual(only(step.effects, 'agentLost'), { agentId: c.id, reason: 'stale' }, 'agentLost');
        return;
      }
      checkEqual(next.value, prev.value, 'state after an early stale timer');
      checkEffectKinds(step.effects, ['setTimer']);
      arming();
      return;
    }
  }
}

const configs: ModelConfig[] = [
  { name: 'capacity 2, in-process', input: input(2, 'in-process'), events, key },
  { name: 'capacity 1, websocket', input: input(1, 'websocket'), events, key },
];

describe('agent machine, model-based', () => {
  describeModelRuns<AgentContext>('agent', agentMachine, configs, oracle);

  it('the oracle catches a machine that goes stale when any stale timer fires', () => {
    const broken = agentMachine.provide({
      guards: { staleDue: ({ event }) => event.type === 'timer' && event.name === 'stale' },
    });
    const r = runModel<AgentContext>(broken, configs[0]!, oracle, null, { stopAtFirstFailure: true });
    expect(r.failures.length).toBeGreaterThan(0);
  });
});
