import { readdirSync, readFileSync } from 'node:fs';
import { createActor, type AnyStateNode } from 'xstate';
import { describe, expect, it } from 'vitest';
import { checkPatternText, type PatternReport } from '../src/features/patterns/check-pattern.js';
import type { CompiledPattern } from '../src/features/patterns/compile/compile.js';
import type { StepMeta } from '../src/features/patterns/compile/state-kit.js';
import { PatternLibrary } from '../src/features/patterns/load/library.js';

const BUILT_IN = readdirSync('patterns')
  .filter((f) => f.endsWith('.yaml'))
  .sort();

function builtIn(file: string): PatternReport {
  return checkPatternText(readFileSync(`patterns/${file}`, 'utf8'), `patterns/${file}`, { requireInputs: true });
}

function nodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap(nodes)];
}

const input = { runId: 'r1', pattern: 'p', ticketId: null, phase: null, now: 1_000 };

function compile(yaml: string, values: Record<string, unknown> = {}): PatternReport {
  return checkPatternText(yaml, 'inline.yaml', { values, library: PatternLibrary.builtIn() });
}

describe('built-in patterns', () => {
  it('are the fourteen of the issue', () => {
    expect(BUILT_IN.map((f) => f.replace('.yaml', ''))).toEqual([
      'conditional_branching',
      'fan_out_fan_in',
      'fork_join',
      'incremental_with_validation',
      'majority_vote',
      'map_reduce',
      'parallel_implementation',
      'parallel_independent',
      'parallel_with_sync_points',
      'pipeline',
      'primary_with_reviewers',
      'review_feedback_loop',
      'scatter_gather',
      'sequential_handoff',
    ]);
  });

  it.each(BUILT_IN)('%s validates, passes the static checks and compiles to a pure statechart', (file) => {
    const report = builtIn(file);
    expect(report.problems).toEqual([]);
    const compiled = report.compiled as CompiledPattern;
    const all = nodes(compiled.machine.root);
    // Pure: timers are data and nothing is invoked, so the chart can be restored and traversed.
    expect(all.flatMap((n) => [...n.after, ...n.invoke])).toEqual([]);
    for (const step of compiled.pattern.steps) expect(compiled.machine.root.states[step.id]).toBeDefined();
    // Every state that asks for work has a failure branch; every deadline has a timeout branch.
    for (const n of all) {
      const meta = n.meta as StepMeta | undefined;
      // Waits and instant answers (a split of known tasks, a branch's rules) have no work that can fail.
      if (!meta || n.type !== 'atomic' || meta.kind === 'wait' || meta.instant) continue;
      const events = [...n.transitions.keys(), ...(n.parent?.transitions.keys() ?? [])];
      expect(events, n.id).toContain('step.failed');
    }
    for (const [step] of compiled.works) {
      const node = compiled.machine.getStateNodeById(step);
      expect(node).toBeDefined();
    }
    const header = readFileSync(`patterns/${file}`, 'utf8').split('\n').slice(0, 20).join('\n');
    expect(header).toMatch(/# Inputs:/);
    expect(header).toMatch(/# Produces:/);
    expect(header).toMatch(/# Emits:/);
  });
});

describe('the compiled statechart', () => {
  it('has one state per step, failure and timeout branches, and finals for each outcome', () => {
    const report = builtIn('parallel_implementation.yaml');
    const root = report.compiled!.machine.root;
    expect(Object.keys(root.states)).toEqual([
      'pending',
      'implement',
      'integrate',
      'completed',
      'failed',
      'timed_out',
      'escalated',
      'cancelled',
    ]);
    expect([...root.states.integrate!.transitions.keys()].sort()).toEqual(['step.done', 'step.failed', 'timer']);
  });

  it('runs as an actor: effects are asked for, timers armed as data, outcomes recorded', () => {
    const compiled = builtIn('parallel_implementation.yaml').compiled!;
    const asked: Array<{ type: string; params: unknown }> = [];
    const machine = compiled.machine.provide({
      actions: Object.fromEntries(
        ['patternRunStep', 'setTimer', 'clearTimer', 'patternCancelStep', 'patternSettled', 'emit'].map((t) => [
          t,
          (_: unknown, params: unknown) => asked.push({ type: t, params }),
        ]),
      ),
    });
    const actor = createActor(machine, { input }).start();
    expect(asked).toEqual([]);
    actor.send({ type: 'pattern.start', now: 1_500 });
    expect(asked.find((a) => a.type === 'patternRunStep')?.params).toMatchObject({
      runId: 'r1',
      step: 'implement',
      round: 1,
    });
    actor.send({ type: 'step.done', step: 'implement', now: 2_000 });
    expect(asked.find((a) => a.type === 'setTimer')?.params).toEqual({
      name: 'integrate.timeout',
      at: 2_000 + 2 * 3_600_000,
    });
    actor.send({ type: 'timer', name: 'integrate.timeout', now: 9_000_000 });
    const snapshot = actor.getSnapshot();
    expect(snapshot.value).toBe('timed_out');
    expect(snapshot.context).toMatchObject({
      outcome: 'timed_out',
      failure: { step: 'integrate', kind: 'timed_out' },
      startedAt: 1_500,
      settledAt: 9_000_000,
    });
    expect(asked.filter((a) => a.type === 'patternSettled')).toHaveLength(1);
  });

  it('ignores events for other steps and stale timers', () => {
    const compiled = builtIn('parallel_implementation.yaml').compiled!;
    const actor = createActor(compiled.machine, { input }).start();
    actor.send({ type: 'pattern.start' });
    actor.send({ type: 'step.done', step: 'integrate' });
    actor.send({ type: 'timer', name: 'integrate.timeout' });
    expect(actor.getSnapshot().value).toBe('implement');
  });

  it('inlines a used pattern as a compound state with its own steps', () => {
    const compiled = builtIn('incremental_with_validation.yaml').compiled!;
    expect(compiled.works.has('first_increment/reviewed_work/work')).toBe(true);
    const actor = createActor(compiled.machine, { input }).start();
    actor.send({ type: 'pattern.start' });
    expect(actor.getSnapshot().value).toEqual({ first_increment: { reviewed_work: 'work' } });
    actor.send({ type: 'step.done', step: 'first_increment/reviewed_work/work' });
    actor.send({ type: 'review.approved', step: 'first_increment/reviewed_work' });
    expect(actor.getSnapshot().value).toEqual({ second_increment: { reviewed_work: 'work' } });
  });

  it('goes round a review loop with the feedback, then escalates when rounds run out', () => {
    const compiled = builtIn('primary_with_reviewers.yaml').compiled!;
    const actor = createActor(compiled.machine, { input }).start();
    actor.send({ type: 'pattern.start' });
    actor.send({ type: 'step.done', step: 'reviewed_work/work' });
    actor.send({ type: 'review.rejected', step: 'reviewed_work', feedback: 'add tests' });
    expect(actor.getSnapshot().context).toMatchObject({
      rounds: { reviewed_work: 2 },
      feedback: { reviewed_work: 'add tests' },
    });
    actor.send({ type: 'step.done', step: 'reviewed_work/work' });
    actor.send({ type: 'review.rejected', step: 'reviewed_work', feedback: 'still no tests' });
    expect(actor.getSnapshot().value).toBe('escalated');
    expect(actor.getSnapshot().context.failure).toMatchObject({ step: 'reviewed_work', kind: 'exhausted' });
  });

  it('runs the compensations of completed saga steps in reverse order after a failure', () => {
    const compiled = builtIn('sequential_handoff.yaml').compiled!;
    const actor = createActor(compiled.machine, { input }).start();
    actor.send({ type: 'pattern.start' });
    actor.send({ type: 'step.done', step: 'rollout/migration' });
    actor.send({ type: 'step.done', step: 'rollout/api' });
    actor.send({ type: 'step.failed', step: 'rollout/frontend', reason: 'build broke' });
    expect(actor.getSnapshot().value).toEqual({ rollout: 'undo_api' });
    actor.send({ type: 'step.done', step: 'rollout/undo_api' });
    expect(actor.getSnapshot().value).toEqual({ rollout: 'undo_migration' });
    actor.send({ type: 'step.failed', step: 'rollout/undo_migration', reason: 'could not roll back' });
    expect(actor.getSnapshot().value).toBe('failed');
    expect(actor.getSnapshot().context.failure).toMatchObject({ step: 'rollout', reason: 'build broke' });
  });

  it('takes the route the rules chose, with the otherwise route for no match', () => {
    const compiled = builtIn('conditional_branching.yaml').compiled!;
    const actor = createActor(compiled.machine, { input }).start();
    actor.send({ type: 'pattern.start' });
    actor.send({ type: 'step.done', step: 'analyze' });
    actor.send({ type: 'route.chosen', step: 'route', route: 'otherwise' });
    expect(actor.getSnapshot().value).toBe('cleanup');
  });

  it('reports a reference that runs only on some paths', () => {
    const report = compile(`
name: some_paths
steps:
  - id: analyze
    task: { type: analyze }
  - id: route
    branch:
      rules: [{ key: big, operator: "==", value: true, decision: branch, to: wide }]
  - id: narrow
    next: together
    task: { type: narrow }
  - id: wide
    split: { count: 3, task: { type: part } }
  - id: together
    join: { from: wide }
`);
    expect(report.problems.map((p) => [p.code, p.path, p.message])).toEqual([
      [
        'E_REF_NOT_BEFORE',
        'steps[4].join.from',
        'step "together" uses step "wide", but it does not run on every path to this step',
      ],
    ]);
  });

  it('judges a quorum that depends on an input only once the input has a value', () => {
    const yaml = `
name: sized
inputs: { items: { type: list } }
steps:
  - id: work
    split: { over: "\${items}", task: { type: t } }
  - id: enough
    join: { from: work, strategy: k_of_n, k: 3 }
`;
    expect(compile(yaml).ok).toBe(true);
    expect(compile(yaml, { items: ['a', 'b'] }).problems.map((p) => p.code)).toEqual(['E_JOIN_IMPOSSIBLE']);
    expect(compile(yaml, { items: ['a', 'b', 'c'] }).ok).toBe(true);
  });

  it('expands a split over a list into one task per item with the loop variables substituted', () => {
    const compiled = builtIn('fan_out_fan_in.yaml').compiled!;
    const split = compiled.works.get('fan_out');
    expect(split?.kind === 'split' && split.tasks?.map((t) => [t.description, t.input, t.requires])).toEqual([
      ['update authentication in api_gateway', { service: 'api_gateway' }, ['python']],
      ['update authentication in user_service', { service: 'user_service' }, ['python']],
      ['update authentication in task_service', { service: 'task_service' }, ['python']],
    ]);
  });

  it('warns about capabilities no registered agent offers', () => {
    const report = checkPatternText(readFileSync('patterns/parallel_independent.yaml', 'utf8'), 'p.yaml', {
      agents: [['python']],
    });
    expect(report.ok).toBe(true);
    expect(report.problems.map((p) => [p.code, p.message])).toEqual([
      ['W_CAPABILITY_UNOFFERED', 'step "work" requires react; no agent offers react'],
    ]);
  });
});
