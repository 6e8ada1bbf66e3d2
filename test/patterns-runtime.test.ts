import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { NonRetryableError } from '../src/core/errors.js';
import type { TaskHandler } from '../src/engine/api/task-handler.js';
import { PatternValidationError } from '../src/features/patterns/problems/problems.js';
import { SimulatedClock } from '../src/engine/clock.js';
import { createRuntime, type Runtime } from '../src/runtime.js';

/**
 * Built-in patterns run end to end with in-process agents (plain handlers, not scripts),
 * including their failure paths: a reviewer rejecting, a vote tie, a branch not taken, a
 * compensation running, a deadline passing.
 */
let runtime: Runtime;
let clock: SimulatedClock;

function start(
  handler: TaskHandler,
  capabilities = [
    'code',
    'review',
    'testing',
    'python',
    'react',
    'architecture',
    'refactoring',
    'formatting',
    'ci',
    'research',
    'analysis',
    'writing',
    'data',
  ],
) {
  clock = new SimulatedClock(0);
  runtime = createRuntime({
    clock,
    logger: pino({ level: 'silent' }),
    heartbeatIntervalMs: 3_600_000,
    staleAfterMs: 1_000 * 3_600_000,
  });
  return runtime.agents.register({ id: 'agent', capabilities, capacity: 100, handler });
}

afterEach(async () => {
  await runtime?.stop();
});

const ran: string[] = [];
const record = (type: string) => ran.push(type);

describe('running patterns on the runtime', () => {
  it('parallel_implementation: one task per module, then the integration receives every module result', async () => {
    let integrationSaw: unknown;
    await start((task, ctx) => {
      if (task.type === 'integrate_modules') integrationSaw = ctx.dependencies['pi/integrate/join']?.result;
      return { built: (task.input as { module?: string } | null)?.module ?? task.type };
    });
    const run = await runtime.patterns.apply({
      pattern: 'parallel_implementation',
      inputs: { modules: ['auth', 'billing'] },
      runId: 'pi',
    });
    const done = await runtime.patterns.wait(run.id);
    expect(done.status).toBe('completed');
    // The join is a coordination join: the continuation it holds receives the joined results.
    expect(integrationSaw).toMatchObject({
      succeeded: ['pi/implement/0', 'pi/implement/1'],
      results: { 'pi/implement/0': { built: 'auth' } },
    });
    expect(await runtime.coordination.get('pi/integrate/join')).toMatchObject({
      kind: 'join',
      status: 'ready',
      held: ['pi/integrate/then'],
    });
    expect((await runtime.tasks.get('pi/implement/1')).input).toEqual({ module: 'billing' });
  });

  it('primary_with_reviewers: a reviewer rejects, the work goes round again with the feedback, then it is approved', async () => {
    const workInputs: unknown[] = [];
    await start((task) => {
      if (task.type === 'implement') workInputs.push(task.input);
      if (task.type === 'test_review')
        return (task.input as { round: number }).round === 1
          ? { approved: false, feedback: 'no tests for refunds' }
          : { approved: true };
      return task.type.endsWith('review') ? { approved: true } : { ok: true };
    });
    const run = await runtime.patterns.apply({ pattern: 'primary_with_reviewers', runId: 'pr' });
    const done = await runtime.patterns.wait(run.id);
    expect(done).toMatchObject({ status: 'completed', rounds: { reviewed_work: 2 } });
    expect(workInputs).toEqual([
      { round: 1, feedback: null },
      { round: 2, feedback: 'no tests for refunds' },
    ]);
    const events = runtime.events
      .history({ types: ['pattern.review.*'] })
      .map((e) => e.type)
      .reverse();
    expect(events).toEqual(['pattern.review.rejected', 'pattern.review.approved']);
  });

  it('primary_with_reviewers: rejected in every round, it escalates', async () => {
    await start((task) => (task.type.endsWith('review') ? { approved: false, feedback: 'no' } : { ok: true }));
    const done = await runtime.patterns.wait((await runtime.patterns.apply({ pattern: 'primary_with_reviewers' })).id);
    expect(done).toMatchObject({ status: 'escalated', failure: { step: 'reviewed_work', kind: 'exhausted' } });
  });

  it('majority_vote: the majority wins and is handed on; a tie escalates', async () => {
    await start((task) =>
      task.type === 'evaluate_option'
        ? { choice: (task.input as { voter: number }).voter === 2 ? 'sql' : 'graph' }
        : { ok: true },
    );
    const won = await runtime.patterns.wait(
      (await runtime.patterns.apply({ pattern: 'majority_vote', runId: 'mv' })).id,
    );
    expect(won).toMatchObject({ status: 'completed', results: { vote: 'graph' } });
    expect((await runtime.tasks.get('mv/record')).input).toEqual({ results: { vote: 'graph' } });
    await runtime.stop();
    await start((task) => ({ choice: `option ${(task.input as { voter: number }).voter}` }));
    const tied = await runtime.patterns.wait(
      (await runtime.patterns.apply({ pattern: 'majority_vote', inputs: { voters: 2 } })).id,
    );
    expect(tied).toMatchObject({ status: 'escalated', failure: { step: 'vote', kind: 'tied' } });
  });

  it('conditional_branching: the rules route on the analysis; the branch not taken makes no task', async () => {
    ran.length = 0;
    await start((task) => {
      record(task.type);
      return task.type === 'analyze_codebase' ? { complexity: 3 } : { ok: true };
    });
    const low = await runtime.patterns.wait(
      (await runtime.patterns.apply({ pattern: 'conditional_branching', runId: 'low' })).id,
    );
    expect(low.status).toBe('completed');
    expect(ran).toEqual(['analyze_codebase', 'cleanup']);
    const high = await runtime.patterns.wait(
      (await runtime.patterns.apply({ pattern: 'conditional_branching', runId: 'high', inputs: { threshold: 2 } })).id,
    );
    expect(high.status).toBe('completed');
    expect(ran.slice(2)).toEqual(['analyze_codebase', 'refactor']);
    expect(runtime.events.history({ types: ['pattern.route.chosen'] }).map((e) => e.data.route)).toEqual([
      'r0',
      'otherwise',
    ]);
  });

  it('sequential_handoff: a failing step has the completed ones compensated, in reverse order', async () => {
    ran.length = 0;
    const compensated: unknown[] = [];
    let apiSaw: string[] = [];
    await start((task, ctx) => {
      record(task.type);
      if (task.type === 'api_update') apiSaw = Object.keys(ctx.dependencies);
      if (task.type.startsWith('rollback') || task.type.startsWith('revert')) compensated.push(task.input);
      if (task.type === 'frontend_update') throw new NonRetryableError('the build broke');
      return { ok: true };
    });
    const done = await runtime.patterns.wait(
      (await runtime.patterns.apply({ pattern: 'sequential_handoff', runId: 'sh' })).id,
    );
    expect(done).toMatchObject({ status: 'failed', failure: { step: 'rollout', reason: 'the build broke' } });
    expect(ran).toEqual(['database_migration', 'api_update', 'frontend_update', 'revert_api', 'rollback_migration']);
    expect(compensated).toEqual([{ compensates: 'sh/rollout/api' }, { compensates: 'sh/rollout/migration' }]);
    expect(apiSaw).toEqual(['sh/rollout/migration']);
  });

  it('fork_join: the sync point continues with what arrived when its deadline passes, and the k-of-n join goes on', async () => {
    await start(async (task, ctx) => {
      if ((task.input as { check?: string } | null)?.check !== 'type_check') return { passed: true };
      // The slowest check outlives the sync point's deadline but finishes in the end.
      await new Promise<void>((resolve) => clock.schedule(45 * 60_000, resolve));
      return ctx.signal.aborted ? null : { passed: true };
    });
    const run = await runtime.patterns.apply({ pattern: 'fork_join', runId: 'fj' });
    await runtime.idle();
    expect((await runtime.patterns.get(run.id)).state).toBe('checkpoint');
    await clock.advance(30 * 60_000);
    expect((await runtime.patterns.get(run.id)).state).toBe('completed');
    expect(runtime.events.history({ types: ['pattern.step.timed_out'] }).map((e) => e.data.step)).toEqual([
      'checkpoint',
    ]);
    expect((await runtime.tasks.get('fj/fork/2')).status).toBe('running');
  });

  it('parallel_implementation: the integration deadline passes, the run times out and its work is cancelled', async () => {
    await start(async (task, ctx) => {
      if (task.type !== 'integrate_modules') return { ok: true };
      await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped'))));
    });
    const run = await runtime.patterns.apply({
      pattern: 'parallel_implementation',
      runId: 'slow',
      inputs: { integration_timeout: '1h' },
    });
    await runtime.idle();
    await clock.advance(3_600_000);
    expect(await runtime.patterns.get(run.id)).toMatchObject({
      status: 'timed_out',
      failure: { step: 'integrate', kind: 'timed_out' },
    });
    expect((await runtime.tasks.get('slow/integrate/then')).status).toBe('cancelled');
  });

  it('scatter_gather and map_reduce: joins take what they need, merges combine results in the order given', async () => {
    await start(async (task, ctx) => {
      if (task.type === 'map_item') return { [String(task.input)]: true };
      // The third source is slow: the gather is met without it, and it is cancelled.
      if (task.id === 'sg/scatter/2')
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('cancelled'))));
      return { source: task.id, found: [task.id] };
    });
    const mapped = await runtime.patterns.wait(
      (await runtime.patterns.apply({ pattern: 'map_reduce', inputs: { items: ['a', 'b'] } })).id,
    );
    expect(mapped).toMatchObject({ status: 'completed', results: { reduce: { a: true, b: true } } });
    const gathered = await runtime.patterns.wait(
      (await runtime.patterns.apply({ pattern: 'scatter_gather', runId: 'sg' })).id,
    );
    expect(gathered.status).toBe('completed');
    expect(gathered.results.combine).toEqual({ source: 'sg/scatter/1', found: ['sg/scatter/0', 'sg/scatter/1'] });
    expect((await runtime.tasks.get('sg/scatter/2')).status).toBe('cancelled');
  });

  it('pipeline: each stage gets the artifacts handed off before it; a missing handoff fails the pipeline', async () => {
    const seen: Record<string, string[]> = {};
    await start((task, ctx) => {
      seen[task.type] = Object.keys(ctx.artifacts);
      const names: Record<string, string> = { extract: 'raw_data', transform: 'clean_data', load: 'load_report' };
      if (task.type !== 'load' || task.description.includes('customer'))
        ctx.artifact(names[task.type]!, `${task.type} output`);
      return { ok: true };
    });
    const done = await runtime.patterns.wait((await runtime.patterns.apply({ pattern: 'pipeline' })).id);
    expect(done.status).toBe('completed');
    expect(seen).toEqual({ extract: [], transform: ['raw_data'], load: ['clean_data'] });
    const broken = await runtime.patterns.wait(
      (await runtime.patterns.apply({ pattern: 'pipeline', inputs: { dataset: 'orders' } })).id,
    );
    expect(broken).toMatchObject({
      status: 'failed',
      failure: { step: 'etl', reason: 'stage etl/load did not hand off load_report' },
    });
  });

  it('splits over a list found in an earlier result, substituting the loop variables per child', async () => {
    await start((task) =>
      task.type === 'plan' ? { plan: { modules: ['auth', 'billing', 'search'] } } : { built: task.input },
    );
    const report = runtime.patterns.add(
      [
        'name: planned',
        'steps:',
        '  - id: design',
        '    task: { type: plan, requires: [code] }',
        '  - id: build',
        '    split:',
        '      over: { from: design, path: plan.modules }',
        '      as: module',
        '      task: { type: implement, description: "Implement ${module} (${index})", input: { module: "${module}" }, requires: [code] }',
        '  - id: done',
        '    join: { from: build }',
      ].join('\n'),
      'planned.yaml',
    );
    expect(report.problems).toEqual([]);
    const run = await runtime.patterns.wait((await runtime.patterns.apply({ pattern: 'planned', runId: 'pl' })).id);
    expect(run).toMatchObject({ status: 'completed', results: { build: { children: 3 } } });
    expect((await runtime.tasks.get('pl/build/2')).description).toBe('Implement search (2)');
    expect((await runtime.tasks.get('pl/build/1')).input).toEqual({ module: 'billing' });
  });

  it('refuses a pattern with invalid inputs, reporting every problem', async () => {
    await start(() => null);
    const attempt = runtime.patterns.apply({ pattern: 'fork_join', inputs: { required: 9, tolerance: 'x' } });
    await expect(attempt).rejects.toBeInstanceOf(PatternValidationError);
    const error = (await attempt.catch((e: unknown) => e)) as PatternValidationError;
    expect(error.problems.map((p) => p.code).sort()).toEqual(['E_INPUT_TYPE']);
    const impossible = (await runtime.patterns
      .apply({ pattern: 'fork_join', inputs: { required: 9 } })
      .catch((e: unknown) => e)) as PatternValidationError;
    expect(impossible.problems.map((p) => p.code)).toEqual(['E_JOIN_IMPOSSIBLE']);
    await expect(runtime.patterns.apply({ pattern: 'fork_join', inputs: { branches: [new Date(0)] } })).rejects.toThrow(
      /not plain JSON|JSON/,
    );
    await expect(runtime.patterns.apply({ pattern: 'no_such_pattern' })).rejects.toThrow(
      /no pattern is named "no_such_pattern"/,
    );
  });
});
