import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RoutingRule } from '../src/features/patterns/format/steps.js';
import { decideRoute, ruleMatches, sampleForRoute } from '../src/features/patterns/compile/route-decision.js';

const rule = (
  key: string,
  operator: RoutingRule['operator'],
  value: unknown,
  extra: Partial<RoutingRule> = {},
): RoutingRule => ({
  key,
  operator,
  value,
  decision: 'continue',
  ...extra,
});

describe('routing rules', () => {
  it.each([
    ['==', 5, 5, true],
    ['==', { a: [1] }, { a: [1] }, true],
    ['!=', 5, 6, true],
    ['>', 7, 8, true],
    ['>', 7, 7, false],
    ['<', 'b', 'a', true],
    ['>=', 7, 7, true],
    ['<=', 7, 8, false],
    ['in', ['x', 'y'], 'y', true],
    ['not_in', ['x', 'y'], 'z', true],
    ['contains', 'bug', 'a bug here', true],
    ['contains', 3, [1, 3], true],
    ['not_contains', 'bug', 'clean', true],
    ['>', 7, '8', false],
  ] as const)('%s %j against %j: %s', (op, value, actual, expected) => {
    expect(ruleMatches(rule('k', op, value), { k: actual })).toBe(expected);
  });

  it('never matches a missing key, whatever the operator', () => {
    for (const op of ['!=', 'not_in', 'not_contains'] as const)
      expect(ruleMatches(rule('k', op, ['x']), {})).toBe(false);
  });

  it('tries the highest priority first and keeps the written order for ties', () => {
    const rules = [rule('score', '>', 1), rule('score', '>', 5, { priority: 10 }), rule('score', '>', 2)];
    expect(decideRoute(rules, { score: 9 }).route).toBe('r1');
    expect(decideRoute(rules, { score: 4 }).route).toBe('r0');
    expect(decideRoute(rules, { score: 0 }).route).toBe('otherwise');
  });

  it('finds data for every reachable route, and none for a shadowed one', () => {
    const rules = [rule('x', '>', 5), rule('x', '>', 9), rule('y', '==', 'a', { priority: -1 })];
    expect(decideRoute(rules, sampleForRoute(rules, 'r0')).route).toBe('r0');
    expect(sampleForRoute(rules, 'r1')).toBeUndefined();
    expect(decideRoute(rules, sampleForRoute(rules, 'r2')).route).toBe('r2');
    expect(decideRoute(rules, sampleForRoute(rules, 'otherwise')).route).toBe('otherwise');
  });

  it('samples data that the rules route where asked (property)', () => {
    const op = fc.constantFrom<RoutingRule['operator']>(
      '==',
      '!=',
      '>',
      '<',
      '>=',
      '<=',
      'in',
      'not_in',
      'contains',
      'not_contains',
    );
    const ruleArb = fc.record({
      key: fc.constantFrom('a', 'b', 'a.c'),
      operator: op,
      value: fc.oneof(
        fc.integer({ min: -5, max: 5 }),
        fc.constantFrom('x', 'y'),
        fc.array(fc.constantFrom('x', 'y', 1), { maxLength: 2 }),
      ),
      decision: fc.constant('continue' as const),
      priority: fc.integer({ min: -2, max: 2 }),
    });
    fc.assert(
      fc.property(fc.array(ruleArb, { minLength: 1, maxLength: 4 }), (rules) => {
        for (let i = 0; i < rules.length; i++) {
          const data = sampleForRoute(rules, `r${i}`);
          if (data !== undefined) expect(decideRoute(rules, data).route).toBe(`r${i}`);
        }
      }),
    );
  });
});
