import type {
  AnyMachineSnapshot,
  AnyStateMachine,
  AnyStateNode,
  AnyTransitionDefinition,
  EventObject,
  InspectionEvent,
} from 'xstate';
import { createTestModel, getStateNodes } from 'xstate/graph';
import { describe, expect, it } from 'vitest';
import { barrierMachine, type BarrierContext } from '../src/core/coordination/barrier-machine.js';
import { guardMachine, type GuardContext } from '../src/core/coordination/guard-machine.js';
import { decideJoin } from '../src/core/coordination/join-decision.js';
import { joinMachine, type JoinContext, type JoinInput } from '../src/core/coordination/join-machine.js';
import { qualityMachine, type QualityContext } from '../src/core/coordination/quality-machine.js';
import { resourceMachine, type ResourceContext } from '../src/core/coordination/resource-machine.js';
import { fits, nextDeadlines } from '../src/core/coordination/resource-rules.js';
import { routeMachine, type RouteContext } from '../src/core/coordination/route-machine.js';
import { sagaMachine, type SagaContext } from '../src/core/coordination/saga-machine.js';
import { splitMachine, type SplitContext } from '../src/core/coordination/split-machine.js';
import type { ResolvedTemplate } from '../src/core/coordination/coordination-types.js';
import { MachineStepper, type RequestedEffect } from '../src/core/stepper/machine-stepper.js';
import { TwinStepper } from './support/twin-stepper.js';

/**
 * Model-based tests of the coordinator machines. Paths come from each machine's own definition
 * with `xstate/graph` (`createTestModel(...).getShortestPaths()`); every path is replayed with the
 * runtime's `MachineStepper`, and after every step the snapshot and the effects asked for are
 * checked against an oracle written independently of the machine. A model state is an abstract
 * key of the snapshot extended with the edge that led to it, so shortest paths take every edge.
 * Together the configurations must reach every state node and take every transition.
 */

type Snap<C> = Omit<AnyMachineSnapshot, 'context'> & { context: C };
interface Step<C> {
  prev: Snap<C> | null;
  event: EventObject | null;
  next: Snap<C>;
  effects: RequestedEffect[];
}
interface Model<C> {
  machine: AnyStateMachine;
  inputs: unknown[];
  events: (s: Snap<C>) => EventObject[];
  key: (s: Snap<C>) => string;
  check: (step: Step<C>) => void;
}

const samples = new WeakSet<object>();
const sample = <E extends EventObject>(e: E): E => (samples.add(e), e);
const of = (effects: RequestedEffect[], type: string) => effects.filter((e) => e.type === type);
const emitted = (effects: RequestedEffect[]) => of(effects, 'emit').map((e) => e.params.type);
const top = (value: unknown) => (typeof value === 'string' ? value : Object.keys(value as object)[0]);
const entered = <C>(step: Step<C>, state: string) =>
  top(step.next.value) === state && (step.prev === null || top(step.prev.value) !== state);

/** The runtime's stepper, with the transitions each step took (from xstate's inspection events). */
function tracingStepper(machine: AnyStateMachine) {
  const stepper = new MachineStepper(machine);
  const taken: AnyTransitionDefinition[] = [];
  const nodes = new Set<string>();
  const system = (stepper as unknown as { scope: { system: { inspect(fn: (e: InspectionEvent) => void): void } } })
    .scope.system;
  system.inspect((e) => {
    if (e.type !== '@xstate.microstep') return;
    for (const t of e._transitions) {
      taken.push(t);
      // Transient states (left at once by an eventless transition) never rest in a snapshot.
      nodes.add(t.source.id);
      for (const target of t.target ?? []) nodes.add(target.id);
    }
    for (const n of (e.snapshot as AnyMachineSnapshot)._nodes) nodes.add(n.id);
  });
  const rest = (snapshot: AnyMachineSnapshot) => {
    for (const n of snapshot._nodes) nodes.add(n.id);
  };
  // The compiled stepper in lockstep: each step must agree with xstate's.
  const twin = new TwinStepper(machine);
  return { stepper, taken, nodes, rest, twin };
}

function runModel<C>(model: Model<C>): {
  paths: number;
  steps: number;
  missingStates: string[];
  missingTransitions: string[];
} {
  const all: AnyStateNode[] = [model.machine.root, ...getStateNodes(model.machine.root)];
  const transitions = new Map<AnyTransitionDefinition, string>();
  for (const node of all) {
    for (const [event, defs] of node.transitions)
      defs.forEach((t, i) => transitions.set(t, `#${node.id} on ${event}[${i}]`));
    (node.always ?? []).forEach((t, i) => transitions.set(t, `#${node.id} always[${i}]`));
  }
  const trace = tracingStepper(model.machine);
  let paths = 0;
  let steps = 0;
  for (const input of model.inputs) {
    const test = createTestModel(model.machine, {
      input,
      events: (s: AnyMachineSnapshot) => model.events(s as Snap<C>),
      // createTestModel adds a bare `{ type }` for handled types without samples: not ours.
      filterEvents: (_s: AnyMachineSnapshot, e: EventObject) => samples.has(e),
      serializeState: (s: AnyMachineSnapshot, e: EventObject | undefined, prev?: AnyMachineSnapshot) =>
        e && prev && e.type !== 'xstate.init'
          ? `${model.key(s as Snap<C>)} <= ${JSON.stringify(e)} <= ${model.key(prev as Snap<C>)}`
          : model.key(s as Snap<C>),
    } as never);
    for (const path of test.getShortestPaths()) {
      paths += 1;
      const first = trace.stepper.initial(input);
      trace.twin.initial(input, first);
      trace.rest(first.snapshot);
      let snapshot = first.snapshot as Snap<C>;
      model.check({ prev: null, event: null, next: snapshot, effects: first.effects });
      for (const s of path.steps) {
        if (s.event.type === 'xstate.init') continue;
        const result = trace.stepper.step(snapshot as AnyMachineSnapshot, s.event);
        trace.twin.step(snapshot as AnyMachineSnapshot, s.event, result);
        const next = (result?.snapshot ?? snapshot) as Snap<C>;
        trace.rest(next as AnyMachineSnapshot);
        expect(model.key(next), `replay of ${s.event.type} reaches the state the traversal found`).toBe(
          model.key(s.state as Snap<C>),
        );
        model.check({ prev: snapshot, event: s.event, next, effects: result?.effects ?? [] });
        snapshot = next;
        steps += 1;
      }
    }
  }
  const takenSet = new Set(trace.taken);
  // The runtime runs coordinators compiled: every replayed step was checked against xstate's.
  expect(trace.twin.active, 'the coordinator machine compiles').toBe(true);
  expect(trace.twin.compared).toBe(steps + paths);
  return {
    paths,
    steps,
    missingStates: all.map((n) => n.id).filter((id) => !trace.nodes.has(id)),
    missingTransitions: [...transitions].filter(([t]) => !takenSet.has(t)).map(([, d]) => d),
  };
}

function expectFullCoverage<C>(name: string, model: Model<C>): void {
  const run = runModel(model);
  expect(run.missingStates, `${name}: states never reached`).toEqual([]);
  expect(run.missingTransitions, `${name}: transitions never taken`).toEqual([]);
  expect(run.paths).toBeGreaterThan(1);
}

const template = (type: string, split: ResolvedTemplate['split'] = null): ResolvedTemplate => ({
  id: null,
  type,
  description: '',
  phase: null,
  priority: 50,
  requires: [],
  input: null,
  dependsOn: [],
  retry: { maxAttempts: 1, backoff: { baseMs: 1, factor: 2, capMs: 10, jitter: 0 } },
  timeouts: {},
  role: null,
  split,
});
const settled = (index: number, status: string, output: unknown = null) =>
  sample({
    type: 'coordination.task_settled',
    index,
    taskId: `t${index}`,
    status,
    output: output === null ? null : { result: output, quality: null },
    now: 10,
  });

describe('coordinator machines, model-based (xstate/graph)', () => {
  it('join and sync point', () => {
    const base = {
      id: 'j',
      ticketId: null,
      merge: 'combine',
      cancelRemaining: true,
      held: [{ kind: 'task', id: 'j.c', input: {}, ticketId: null }],
      now: 0,
    };
    const inputs: Array<Omit<JoinInput, 'now'> & { now: number }> = [
      {
        ...base,
        flavor: 'join',
        sources: ['a', 'b', 'c'],
        fromSplit: null,
        strategy: 'all',
        timeoutMs: 100,
        onTimeout: 'fail',
      } as JoinInput,
      {
        ...base,
        flavor: 'sync',
        sources: ['a', 'b', 'c'],
        fromSplit: null,
        strategy: 'any',
        timeoutMs: 100,
        onTimeout: 'continue',
      } as JoinInput,
      {
        ...base,
        flavor: 'join',
        sources: null,
        fromSplit: 's',
        strategy: { strategy: 'k-of-n', k: 2 },
        timeoutMs: 100,
        onTimeout: 'continue',
      } as JoinInput,
      {
        ...base,
        flavor: 'join',
        sources: null,
        fromSplit: 's',
        strategy: 'majority',
        timeoutMs: 100,
        onTimeout: 'fail',
      } as JoinInput,
    ];
    expectFullCoverage<JoinContext>('join', {
      machine: joinMachine,
      inputs,
      key: (s) =>
        JSON.stringify([
          s.value,
          s.context.marks,
          s.context.outcome?.status ?? null,
          s.context.outcome?.timedOut ?? null,
        ]),
      events: (s) => {
        const c = s.context;
        const timers = [
          sample({ type: 'timer', name: 'timeout', now: 99 }),
          sample({ type: 'timer', name: 'timeout', now: 100 }),
        ];
        switch (s.value) {
          case 'resolving':
            return [
              sample({ type: 'join.sources', sources: ['a', 'b'], now: 5 }),
              sample({ type: 'join.sources_failed', reason: 'split failed', now: 5 }),
              sample({ type: 'join.cancel', reason: 'r', now: 5 }),
              ...timers,
            ];
          case 'watching':
            return [
              ...c.sources.flatMap((_, i) =>
                c.marks[i] === '.' ? [settled(i, 'succeeded'), settled(i, 'dead_lettered')] : [settled(i, 'cancelled')],
              ),
              sample({ type: 'join.cancel', reason: 'r', now: 5 }),
              ...timers,
            ];
          case 'collecting':
            return [
              sample({
                type: 'join.collected',
                results: {},
                artifacts: {},
                merged: {},
                mergeDetail: { sources: 0 },
                now: 20,
              }),
              sample({ type: 'join.collect_failed', reason: 'merge failed: no', now: 20 }),
            ];
          default:
            return [];
        }
      },
      check: (step) => {
        const c = step.next.context;
        const succeeded = [...c.marks].filter((m) => m === 's').length;
        expect(c.marks.length).toBe(c.sources.length);
        expect(c.tally).toEqual({ succeeded, failed: [...c.marks].filter((m) => m !== 's' && m !== '.').length });
        if (step.prev === null)
          expect(of(step.effects, 'setTimer')).toEqual([{ type: 'setTimer', params: { name: 'timeout', at: 100 } }]);
        if (step.next.value === 'watching' && c.need) expect(decideJoin(c.need, c.tally).kind).toBe('pending');
        const open = c.sources.filter((_, i) => c.marks[i] === '.');
        if (entered(step, 'collecting')) {
          expect(of(step.effects, 'collectResults')[0]?.params.sources).toEqual(
            c.sources.filter((_, i) => c.marks[i] === 's'),
          );
          expect(of(step.effects, 'cancelTasks')[0]?.params.taskIds ?? []).toEqual(open);
          expect(c.outcome?.timedOut || (c.need !== null && succeeded >= c.need.k)).toBe(true);
        }
        if (entered(step, 'ready')) {
          expect(c.output).not.toBeNull();
          expect(of(step.effects, 'releaseHeld')).toEqual([
            { type: 'releaseHeld', params: { taskIds: ['j.c'], by: 'j' } },
          ]);
          expect(emitted(step.effects)).toContain(`coordination.${c.spec.flavor}.ready`);
        }
        if (entered(step, 'failed')) {
          expect(c.outcome?.reason).toBeTruthy();
          expect(of(step.effects, 'skipHeld')[0]?.params).toEqual({ taskIds: ['j.c'], reason: c.outcome?.reason });
          expect(of(step.effects, 'releaseHeld')).toEqual([]);
        }
      },
    });
  });

  it('split', () => {
    const base = { id: 's', ticketId: null, sourceTaskId: 'src', sourceSucceeded: false, now: 0 };
    expectFullCoverage<SplitContext>('split', {
      machine: splitMachine,
      inputs: [
        {
          ...base,
          plan: {
            targets: [
              template('a', { targets: null, map: { path: '', task: template('leaf'), maxItems: 5 } }),
              template('b'),
            ],
            map: null,
          },
        },
        { ...base, plan: { targets: null, map: { path: 'items', task: template('item'), maxItems: 2 } } },
      ],
      key: (s) =>
        JSON.stringify([
          s.value,
          s.context.children.length,
          s.context.subscribers.length,
          s.context.outcome?.status ?? null,
        ]),
      events: (s) =>
        s.value !== 'awaitingSource'
          ? []
          : [
              settled(0, 'succeeded', { items: ['x', 'y'] }),
              settled(0, 'succeeded', { items: ['x', 'y', 'z'] }),
              settled(0, 'succeeded', { items: 'x' }),
              settled(0, 'succeeded', { other: 1 }),
              settled(0, 'dead_lettered'),
              ...(s.context.subscribers.length < 1 ? [sample({ type: 'split.subscribe', joinId: 'j1', now: 1 })] : []),
              sample({ type: 'split.cancel', reason: 'r', now: 1 }),
            ],
      check: (step) => {
        const c = step.next.context;
        if (entered(step, 'created')) {
          expect(c.children).toEqual(c.children.map((_, i) => `s.${i}`));
          const spawned = of(step.effects, 'spawnActors')[0]?.params.actors as Array<{
            kind: string;
            id: string;
            input: { dependsOn?: string[]; type?: string };
          }>;
          expect(spawned.filter((a) => a.kind === 'task').map((a) => a.id)).toEqual(c.children);
          for (const a of spawned) if (a.kind === 'task') expect(a.input.dependsOn).toEqual(['src']);
          const nested = spawned.filter((a) => a.kind !== 'task').map((a) => a.id);
          // Of both plans only the fixed target `a` nests a split.
          expect(nested).toEqual(spawned[0]?.input.type === 'a' ? ['s.0.split'] : []);
          expect(c.plan.targets).toBeNull();
          expect(of(step.effects, 'tell').map((t) => (t.params.event as { type: string }).type)).toEqual(
            c.subscribers.map(() => 'join.sources'),
          );
        }
        if (entered(step, 'failed')) {
          expect(c.outcome?.reason).toMatch(/^split s/);
          expect(of(step.effects, 'spawnActors')).toEqual([]);
          expect(of(step.effects, 'tell').map((t) => (t.params.event as { type: string }).type)).toEqual(
            c.subscribers.map(() => 'join.sources_failed'),
          );
        }
      },
    });
  });

  it('dependency guard', () => {
    const deps = [
      { kind: 'task', taskId: 't0', requireSuccess: true, timeoutMs: null },
      { kind: 'task', taskId: 't1', requireSuccess: false, timeoutMs: null },
      { kind: 'quality', gate: 'coverage', threshold: 0.8, timeoutMs: 50 },
      { kind: 'resource', resource: 'db', mode: null, timeoutMs: null },
    ];
    const reply = (granted: boolean) =>
      sample({
        type: 'guard.resource',
        reply: {
          replyTo: { actorId: 'g', index: 3, waiter: null },
          resource: 'db',
          owner: 'held',
          grant: granted
            ? { resource: 'db', owner: 'held', mode: 'exclusive', token: 1, grantedAt: 1, expiresAt: null }
            : null,
          error: granted ? null : { code: 'E_DEPENDENCY_CYCLE', message: 'cycle' },
        },
        now: 5,
      });
    expectFullCoverage<GuardContext>('guard', {
      machine: guardMachine,
      inputs: [
        {
          id: 'g',
          ticketId: null,
          heldTaskId: 'held',
          held: [{ kind: 'task', id: 'held', input: {}, ticketId: null }],
          dependencies: deps,
          now: 0,
        },
      ],
      key: (s) => JSON.stringify([s.value, s.context.marks]),
      events: (s) => {
        if (s.value !== 'waiting') return [];
        const m = s.context.marks;
        return [
          ...(m[0] === '.' ? [settled(0, 'succeeded'), settled(0, 'dead_lettered')] : []),
          ...(m[1] === '.' ? [settled(1, 'dead_lettered')] : []),
          ...(m[2] === '.'
            ? [
                sample({ type: 'guard.quality', gate: 'coverage', score: 0.5, now: 5 }),
                sample({ type: 'guard.quality', gate: 'coverage', score: 0.9, now: 5 }),
              ]
            : []),
          ...(m[3] === '.' ? [reply(true), reply(false)] : []),
          settled(4, 'cancelled'),
          sample({ type: 'timer', name: 'dependency:2', now: 49 }),
          sample({ type: 'timer', name: 'dependency:2', now: 50 }),
          sample({ type: 'guard.cancel', reason: 'r', now: 5 }),
        ];
      },
      check: (step) => {
        const c = step.next.context;
        if (step.prev === null) {
          expect(of(step.effects, 'watchTasks')[0]?.params).toEqual({
            coordinatorId: 'g',
            taskIds: ['t0', 't1', 'held'],
            indexes: [0, 1, 4],
            withOutput: false,
          });
          expect(of(step.effects, 'requestResource')[0]?.params).toMatchObject({ resource: 'db', owner: 'held' });
          expect(of(step.effects, 'setTimer')).toEqual([
            { type: 'setTimer', params: { name: 'dependency:2', at: 50 } },
          ]);
        }
        if (entered(step, 'resolved')) {
          expect(c.marks).toBe('yyyy');
          expect(of(step.effects, 'releaseHeld')).toEqual([
            { type: 'releaseHeld', params: { taskIds: ['held'], by: 'g' } },
          ]);
        }
        if (entered(step, 'failed'))
          expect(of(step.effects, 'skipHeld')[0]?.params).toEqual({ taskIds: ['held'], reason: c.outcome?.reason });
        if (step.next.value !== 'waiting')
          expect(of(step.effects, 'clearTimer')).toEqual([{ type: 'clearTimer', params: { name: 'dependency:2' } }]);
      },
    });
  });

  it('saga: compensations only of completed steps, strictly in reverse order', () => {
    const steps = [
      { taskId: 'st0', compensation: template('undo0') },
      { taskId: 'st1', compensation: null },
      { taskId: 'st2', compensation: template('undo2') },
      { taskId: 'st3', compensation: template('undo3') },
    ];
    expectFullCoverage<SagaContext>('saga', {
      machine: sagaMachine,
      inputs: [{ id: 'sg', ticketId: null, steps, spawns: [], now: 0 }],
      key: (s) =>
        JSON.stringify([
          s.value,
          s.context.marks,
          s.context.compensating,
          s.context.compensated,
          s.context.compensationFailures.length,
        ]),
      events: (s) => {
        const c = s.context;
        const open = c.steps.flatMap((_, i) => (c.marks[i] === '.' ? [i] : []));
        if (s.value === 'running')
          return open.slice(0, 1).flatMap((i) => [settled(i, 'succeeded'), settled(i, 'dead_lettered')]);
        if (top(s.value) !== 'compensating' || c.compensating === null) return [];
        const j = c.steps.length + c.compensating;
        return [
          settled(j, 'succeeded'),
          settled(j, 'dead_lettered'),
          ...open.slice(0, 1).map((i) => settled(i, 'skipped')),
        ];
      },
      check: (step) => {
        const c = step.next.context;
        const compensations = of(step.effects, 'spawnActors').filter((e) =>
          (e.params.actors as Array<{ id: string }>)[0]?.id.includes('.compensate.'),
        );
        for (const spawn of compensations) {
          const id = (spawn.params.actors as Array<{ id: string }>)[0]?.id ?? '';
          const j = Number(id.split('.').pop());
          expect(c.marks[j]).toBe('s');
          expect(c.steps[j]?.compensation).not.toBeNull();
          expect(j).toBeLessThan(step.prev?.context.compensating ?? c.failedStep ?? Infinity);
          // No completed step with a compensation is skipped over.
          for (let k = j + 1; k < (step.prev?.context.compensating ?? c.failedStep ?? 0); k++)
            expect(c.marks[k] === 's' && c.steps[k]?.compensation).toBeFalsy();
        }
        if (entered(step, 'completed')) expect(c.marks).toBe('ssss');
        if (entered(step, 'compensated')) expect(c.compensationFailures).toEqual([]);
        if (entered(step, 'compensation_failed')) expect(c.outcome?.reason).toBe(c.compensationFailures.join('; '));
      },
    });
  });

  it('route', () => {
    const rules = [
      { id: 'low', key: 'result.score', operator: '<', value: 0.5, decision: 'branch', target: 'rework', priority: 5 },
      { id: 'dead', key: 'status', operator: '==', value: 'dead_lettered', decision: 'error', priority: 9 },
    ];
    expectFullCoverage<RouteContext>('route', {
      machine: routeMachine,
      inputs: [
        {
          id: 'r',
          ticketId: null,
          sourceTaskId: 'src',
          rules,
          options: {},
          branches: { rework: [template('fix')] },
          now: 0,
        },
      ],
      key: (s) => JSON.stringify([s.value, s.context.decision?.ruleId ?? null]),
      events: (s) =>
        s.value === 'waiting'
          ? [
              settled(0, 'succeeded', { score: 0.3 }),
              settled(0, 'succeeded', { score: 0.9 }),
              settled(0, 'dead_lettered'),
              sample({ type: 'route.cancel', reason: 'r', now: 1 }),
            ]
          : [],
      check: (step) => {
        const c = step.next.context;
        if (entered(step, 'decided')) {
          const spawned = of(step.effects, 'spawnActors').flatMap((e) =>
            (e.params.actors as Array<{ id: string }>).map((a) => a.id),
          );
          expect(spawned).toEqual(c.created);
          expect(c.created).toEqual(c.decision?.target === 'rework' ? ['r.rework.0'] : []);
        }
        if (entered(step, 'failed')) expect(c.created).toEqual([]);
      },
    });
  });

  it('resource: never more holders than the rules allow, tokens only grow, timers follow the deadlines', () => {
    const owners = ['A', 'B', 'C'];
    const inputs = [
      { id: 'resource:l', name: 'l', kind: 'lock', permits: null, now: 0 },
      { id: 'resource:s', name: 's', kind: 'semaphore', permits: 2, now: 0 },
    ];
    const replyTo = { actorId: null, index: 0, waiter: 'w' };
    expectFullCoverage<ResourceContext>('resource', {
      machine: resourceMachine,
      inputs,
      key: (s) =>
        JSON.stringify([
          s.context.holders.map((h) => [h.owner, h.mode, h.expiresAt !== null]),
          s.context.waiters.map((w) => [w.owner, w.mode]),
        ]),
      events: (s) => [
        ...owners.flatMap((o) => [
          sample({
            type: 'resource.acquire',
            owner: o,
            mode: 'exclusive',
            leaseMs: o === 'A' ? 10 : null,
            waitMs: o === 'C' ? 5 : null,
            replyTo,
            now: 1,
          }),
          // C only ever asks for everything: enough to queue behind shared holders, fewer states.
          ...(o === 'C'
            ? []
            : [
                sample({
                  type: 'resource.acquire',
                  owner: o,
                  mode: 'shared',
                  leaseMs: null,
                  waitMs: null,
                  replyTo,
                  now: 1,
                }),
              ]),
          sample({ type: 'resource.release', owner: o, reason: 'done', now: 1 }),
        ]),
        ...(s.context.waiters.length > 0
          ? [
              sample({
                type: 'resource.refuse',
                owner: s.context.waiters[0]?.owner ?? '',
                message: 'cycle',
                cycle: [],
                now: 1,
              }),
            ]
          : []),
        sample({ type: 'timer', name: 'lease', now: 20 }),
        sample({ type: 'timer', name: 'wait', now: 20 }),
      ],
      check: (step) => {
        const c = step.next.context;
        const holders = c.holders.filter(
          (h) => h.expiresAt === null || h.expiresAt > ((step.event as { now?: number } | null)?.now ?? 0),
        );
        for (let i = 0; i < holders.length; i++)
          expect(fits(c, (holders[i] as { mode: 'exclusive' | 'shared' }).mode, holders.slice(0, i))).toBe(true);
        expect(new Set(c.holders.map((h) => h.owner)).size).toBe(c.holders.length);
        for (const w of c.waiters) expect(c.holders.some((h) => h.owner === w.owner)).toBe(false);
        expect(c.fence).toBeGreaterThanOrEqual(step.prev?.context.fence ?? 0);
        for (const h of c.holders) expect(h.token).toBeLessThanOrEqual(c.fence);
        const grants = of(step.effects, 'resourceReply').filter((r) => (r.params as { grant: unknown }).grant !== null);
        expect(grants.length).toBeGreaterThanOrEqual(c.fence - (step.prev?.context.fence ?? 0));
        const armed = Object.fromEntries(of(step.effects, 'setTimer').map((t) => [t.params.name, t.params.at]));
        const due = nextDeadlines(c);
        for (const name of ['lease', 'wait'] as const) if (name in armed) expect(armed[name]).toBe(due[name]);
      },
    });
  });

  it('barrier and quality gate', () => {
    expectFullCoverage<BarrierContext>('barrier', {
      machine: barrierMachine,
      inputs: [{ id: 'b', ticketId: null, parties: 2, timeoutMs: 100, now: 0 }],
      key: (s) => JSON.stringify([s.value, s.context.arrived]),
      events: (s) =>
        s.value !== 'waiting'
          ? []
          : [
              sample({ type: 'barrier.arrive', party: 'p1', now: 1 }),
              sample({ type: 'barrier.arrive', party: 'p2', now: 1 }),
              sample({ type: 'barrier.break', reason: 'r', now: 1 }),
              sample({ type: 'timer', name: 'timeout', now: 99 }),
              sample({ type: 'timer', name: 'timeout', now: 100 }),
            ],
      check: (step) => {
        const c = step.next.context;
        expect(new Set(c.arrived).size).toBe(c.arrived.length);
        if (entered(step, 'released')) expect(c.arrived.length).toBe(2);
        if (entered(step, 'broken')) expect(c.arrived.length).toBeLessThan(2);
        if (step.next.value !== 'waiting' && step.prev?.value === 'waiting')
          expect(of(step.effects, 'coordinatorSettled')).toHaveLength(1);
      },
    });
    expectFullCoverage<QualityContext>('quality', {
      machine: qualityMachine,
      inputs: [{ id: 'quality:q', gate: 'q', now: 0 }],
      key: (s) => JSON.stringify([s.context.score, Math.min(s.context.updates, 2)]),
      events: () => [
        sample({ type: 'quality.set', score: 0.5, now: 1 }),
        sample({ type: 'quality.set', score: 0.9, now: 2 }),
      ],
      check: (step) => {
        if (step.event)
          expect(of(step.effects, 'qualityChanged')).toEqual([
            { type: 'qualityChanged', params: { gate: 'q', score: step.next.context.score } },
          ]);
      },
    });
  });
});
