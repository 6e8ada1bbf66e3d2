import { afterEach, describe, expect, it } from 'vitest';
import { route, testRule, type RoutingRule } from '../src/core/coordination/routing-rules.js';
import { harness, type Harness } from './runtime/helpers.js';

const rule = (r: Partial<RoutingRule> & Pick<RoutingRule, 'key' | 'operator'>): RoutingRule => ({
  decision: 'continue',
  ...r,
});

describe('routing rules', () => {
  it('the quickstart rule: error_count > 0 retries with confidence 1 and says why', () => {
    const decision = route(
      [{ id: 'error_handling', key: 'error_count', operator: '>', value: 0, decision: 'retry', priority: 90 }],
      {
        error_count: 1,
        completed_tasks: ['parse_contract'],
      },
    );
    expect(decision).toEqual({
      decision: 'retry',
      target: 'retry',
      ruleId: 'error_handling',
      confidence: 1,
      reasoning: 'error_handling matched: error_count = 1 satisfies > 0',
    });
  });

  it('highest priority first; equal priorities in the order given', () => {
    const rules: RoutingRule[] = [
      { id: 'low', key: 'x', operator: '==', value: 1, decision: 'skip', priority: 1 },
      { id: 'tie-first', key: 'x', operator: '==', value: 1, decision: 'branch', priority: 5 },
      { id: 'tie-second', key: 'x', operator: '==', value: 1, decision: 'end', priority: 5 },
    ];
    expect(route(rules, { x: 1 }).ruleId).toBe('tie-first');
    expect(route([...rules].reverse(), { x: 1 }).ruleId).toBe('tie-second');
    expect(route(rules, { x: 2 })).toMatchObject({ decision: 'continue', ruleId: null, confidence: 0.5 });
  });

  it('a missing key never matches, whatever the operator, and the reasoning says so', () => {
    for (const operator of ['==', '!=', '>', '<', '>=', '<=', 'in', 'not_in', 'contains', 'not_contains'] as const) {
      const verdict = testRule(rule({ key: 'absent', operator, value: 1 }), { present: 1 });
      expect(verdict).toEqual({ matched: false, why: 'key "absent" is missing' });
    }
    const decision = route(
      [rule({ id: 'r', key: 'absent', operator: '!=', value: 1, decision: 'error' })],
      {},
      { fallback: 'end', fallbackConfidence: 0.2 },
    );
    expect(decision).toEqual({
      decision: 'end',
      target: 'end',
      ruleId: null,
      confidence: 0.2,
      reasoning: 'no rule matched (r: key "absent" is missing); default end',
    });
  });

  it('operators: equality by value, ordering of numbers and strings, membership and containment', () => {
    const state = { n: 3, s: 'beta', list: ['a', { k: 1 }], obj: { b: 2, a: 1 }, nested: { score: 0.9 } };
    const yes = (r: Omit<RoutingRule, 'decision'>) =>
      expect(testRule({ ...r, decision: 'continue' }, state).matched).toBe(true);
    const no = (r: Omit<RoutingRule, 'decision'>) =>
      expect(testRule({ ...r, decision: 'continue' }, state).matched).toBe(false);
    yes({ key: 'obj', operator: '==', value: { a: 1, b: 2 } });
    yes({ key: 'n', operator: '!=', value: '3' });
    yes({ key: 'n', operator: '>=', value: 3 });
    no({ key: 'n', operator: '<', value: 3 });
    yes({ key: 's', operator: '>', value: 'alpha' });
    no({ key: 's', operator: '>', value: 1 }); // a string and a number are not ordered
    yes({ key: 'n', operator: 'in', value: [1, 2, 3] });
    yes({ key: 's', operator: 'in', value: 'alphabetagamma' });
    no({ key: 'n', operator: 'in', value: 3 }); // `in` needs a list or a string
    no({ key: 'n', operator: 'not_in', value: 3 }); // ... and so does `not_in`
    yes({ key: 'n', operator: 'not_in', value: [4] });
    yes({ key: 'list', operator: 'contains', value: { k: 1 } });
    yes({ key: 's', operator: 'contains', value: 'et' });
    yes({ key: 'list', operator: 'not_contains', value: 'b' });
    no({ key: 'n', operator: 'contains', value: 3 });
    yes({ key: 'nested.score', operator: '>=', value: 0.8 });
    yes({ key: 'list.1.k', operator: '==', value: 1 });
  });

  it('a rule carries its own confidence and branch target', () => {
    const d = route([{ key: 'q', operator: '<', value: 0.5, decision: 'branch', target: 'rework', confidence: 0.7 }], {
      q: 0.2,
    });
    expect(d).toMatchObject({ decision: 'branch', target: 'rework', confidence: 0.7, ruleId: 'rule 0' });
  });
});

describe('route coordinator', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('branches after a task on its result: the chosen branch gets the source result and artifacts', async () => {
    h = await harness();
    const seen: Record<string, unknown> = {};
    await h.runtime.tasks.create({ id: 'review', type: 'review' });
    const view = await h.runtime.coordination.route({
      id: 'after-review',
      sourceTaskId: 'review',
      rules: [
        { id: 'good', key: 'result.score', operator: '>=', value: 0.8, decision: 'continue', priority: 10 },
        {
          id: 'poor',
          key: 'result.score',
          operator: '<',
          value: 0.8,
          decision: 'branch',
          target: 'rework',
          priority: 10,
        },
      ],
      branches: { continue: [{ type: 'ship' }], rework: [{ type: 'fix' }, { type: 'retest' }] },
    });
    expect(view.status).toBe('waiting');
    // The agent comes once the call has answered: until then the source cannot have run.
    await h.runtime.agents.register({
      id: 'w',
      handler: (task, ctx) => {
        if (task.type === 'review') {
          ctx.artifact('review.md', 'needs work');
          return { score: 0.4 };
        }
        seen[task.id] = { input: task.input, deps: Object.keys(ctx.dependencies), artifacts: ctx.artifacts };
        return task.type;
      },
    });
    const decided = await h.runtime.coordination.wait('after-review');
    expect(decided).toMatchObject({ status: 'decided', created: ['after-review.rework.0', 'after-review.rework.1'] });
    expect(decided.kind === 'route' && decided.decision?.ruleId).toBe('poor');
    await h.runtime.tasks.wait('after-review.rework.1');
    expect(seen['after-review.rework.0']).toEqual({
      input: {
        route: {
          id: 'after-review',
          source: 'review',
          decision: 'branch',
          reasoning: 'poor matched: result.score = 0.4 satisfies < 0.8',
        },
      },
      deps: ['review'],
      artifacts: { 'review.md': 'needs work' },
    });
    expect(h.of('coordination.route.decided')[0]?.data).toMatchObject({
      id: 'after-review',
      decision: 'branch',
      target: 'rework',
    });
  });

  it('a retry decision after a failed task creates the retry branch; error fails the route with the reasoning', async () => {
    h = await harness();
    await h.runtime.agents.register({
      id: 'w',
      handler: (task) => {
        if (task.type === 'flaky') throw new Error('boom');
        return 'ok';
      },
    });
    await h.runtime.tasks.create({ id: 'flaky', type: 'flaky', retry: { maxAttempts: 1 } });
    await h.runtime.tasks.create({ id: 'other', type: 'flaky', retry: { maxAttempts: 1 } });
    await h.runtime.coordination.route({
      id: 'r1',
      sourceTaskId: 'flaky',
      rules: [{ key: 'status', operator: '==', value: 'dead_lettered', decision: 'retry' }],
      branches: { retry: [{ type: 'steady' }] },
    });
    await h.runtime.coordination.route({
      id: 'r2',
      sourceTaskId: 'other',
      rules: [{ key: 'error.code', operator: '==', value: 'E_TASK_FAILED', decision: 'error' }],
    });
    const r1 = await h.runtime.coordination.wait('r1');
    expect(r1).toMatchObject({ status: 'decided', created: ['r1.retry.0'] });
    // The source failed, so the retry task does not depend on it (it would be skipped).
    expect((await h.runtime.tasks.wait('r1.retry.0')).status).toBe('succeeded');
    const r2 = await h.runtime.coordination.wait('r2');
    expect(r2).toMatchObject({
      status: 'failed',
      reason: 'rule 0 matched: error.code = "E_TASK_FAILED" satisfies == "E_TASK_FAILED"',
    });
  });
});
