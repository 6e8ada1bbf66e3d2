import { canonicalJson, jsonEqual, readPath } from '../canonical-json.js';

/**
 * The conditional router: rules over a state object decide what happens next. Pure; used by the
 * route coordinator (branching after a task) and directly through `runtime.coordination.decide`.
 */

export const ROUTING_OPERATORS = [
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
] as const;
/** A comparison a routing rule applies to the value at its path. */
export type RoutingOperator = (typeof ROUTING_OPERATORS)[number];

/** Every decision a routing rule may take. */
export const ROUTING_DECISIONS = ['continue', 'retry', 'skip', 'branch', 'parallel', 'end', 'error'] as const;
/** One of `ROUTING_DECISIONS`. */
export type RoutingDecisionKind = (typeof ROUTING_DECISIONS)[number];

/** One routing rule: a condition on a path of the state, and the decision taken when it holds. */
export interface RoutingRule {
  /** Names the rule in the reasoning; defaults to `rule <index>`. */
  id?: string;
  /** A dotted path into the state, e.g. `error_count` or `result.review.score`. */
  key: string;
  operator: RoutingOperator;
  value?: unknown;
  decision: RoutingDecisionKind;
  /** Higher first; rules of equal priority are tried in the order given. Default 0. */
  priority?: number;
  /** Confidence carried by the decision when this rule matches. Default 1. */
  confidence?: number;
  /** The branch to take (for the route coordinator); defaults to the decision's name. */
  target?: string;
}

/** What routing decided: the decision, its target, the rule that chose it, and the reasoning. */
export interface RoutingDecision {
  decision: RoutingDecisionKind;
  /** The branch the route coordinator takes: the matched rule's `target`, else the decision. */
  target: string;
  /** Id of the matched rule, or null when no rule matched. */
  ruleId: string | null;
  confidence: number;
  reasoning: string;
}

/** How routing decides when no rule matches. */
export interface RouteOptions {
  /** Decision when no rule matches. Default `continue`. */
  fallback?: RoutingDecisionKind;
  /** Confidence of the fallback decision. Default 0.5: nothing positively chose it. */
  fallbackConfidence?: number;
}

type Verdict = { matched: boolean; why: string };

function order(a: unknown, b: unknown): number | null {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return null;
}

/** Array membership by value, or substring; null when `container` is neither kind. */
function contains(container: unknown, item: unknown): boolean | null {
  if (typeof container === 'string' && typeof item === 'string') return container.includes(item);
  if (Array.isArray(container)) return container.some((c) => jsonEqual(c, item));
  return null;
}

/**
 * Tests one rule. A missing key never matches, whatever the operator (`!=` and `not_in`
 * included): "unknown" is not evidence. Comparing values of kinds an operator does not order
 * (a string `>` a number, `in` a non-array) does not match either; the reason says so.
 *
 * @example
 * ```ts
 * testRule({ key: 'tags', operator: 'contains', value: 'urgent', decision: 'branch' }, { tags: ['urgent'] }).matched; // true
 * ```
 */
export function testRule(rule: RoutingRule, state: Record<string, unknown>): Verdict {
  const read = readPath(state, rule.key);
  if (!read.found) return { matched: false, why: `key "${rule.key}" is missing` };
  const actual = read.value;
  const shown = `${rule.key} = ${canonicalJson(actual)}`;
  const expected = rule.value;
  let result: boolean | null;
  switch (rule.operator) {
    case '==':
      result = jsonEqual(actual, expected);
      break;
    case '!=':
      result = !jsonEqual(actual, expected);
      break;
    case '>':
    case '<':
    case '>=':
    case '<=': {
      const d = order(actual, expected);
      result =
        d === null
          ? null
          : rule.operator === '>'
            ? d > 0
            : rule.operator === '<'
              ? d < 0
              : rule.operator === '>='
                ? d >= 0
                : d <= 0;
      break;
    }
    case 'in':
    case 'not_in': {
      // `in` is `contains` turned around: membership of an array, or a substring of a string.
      const found = contains(expected, actual);
      result = found === null ? null : rule.operator === 'in' ? found : !found;
      break;
    }
    case 'contains':
    case 'not_contains': {
      const found = contains(actual, expected);
      result = found === null ? null : rule.operator === 'contains' ? found : !found;
      break;
    }
  }
  if (result === null)
    return { matched: false, why: `${shown} cannot be compared with ${rule.operator} ${canonicalJson(expected)}` };
  return {
    matched: result,
    why: `${shown} ${result ? 'satisfies' : 'does not satisfy'} ${rule.operator} ${canonicalJson(expected)}`,
  };
}

/**
 * Picks the first matching rule, highest `priority` first and, among equal priorities, in the
 * order given. With no match the fallback decision is taken (default `continue`, confidence 0.5).
 *
 * @example
 * ```ts
 * route([{ key: 'error_count', operator: '>', value: 0, decision: 'retry', priority: 90 }], { error_count: 1 });
 * // { decision: 'retry', target: 'retry', ruleId: 'rule 0', confidence: 1, reasoning: 'rule 0 matched: error_count = 1 satisfies > 0' }
 * ```
 */
export function route(
  rules: readonly RoutingRule[],
  state: Record<string, unknown>,
  options: RouteOptions = {},
): RoutingDecision {
  const ranked = rules
    .map((rule, index) => ({ rule, index, id: rule.id ?? `rule ${index}` }))
    .sort((a, b) => (b.rule.priority ?? 0) - (a.rule.priority ?? 0) || a.index - b.index);
  const passed: string[] = [];
  for (const { rule, id } of ranked) {
    const verdict = testRule(rule, state);
    if (verdict.matched) {
      return {
        decision: rule.decision,
        target: rule.target ?? rule.decision,
        ruleId: id,
        confidence: rule.confidence ?? 1,
        reasoning: `${id} matched: ${verdict.why}`,
      };
    }
    passed.push(`${id}: ${verdict.why}`);
  }
  const fallback = options.fallback ?? 'continue';
  return {
    decision: fallback,
    target: fallback,
    ruleId: null,
    confidence: options.fallbackConfidence ?? 0.5,
    reasoning:
      passed.length === 0
        ? `no rules; default ${fallback}`
        : `no rule matched (${passed.join('; ')}); default ${fallback}`,
  };
}
