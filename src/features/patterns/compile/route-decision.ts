import { testRule } from '../../../core/coordination/routing-rules.js';
import type { RoutingRule } from '../format/steps.js';
import { OTHERWISE, routeLabel } from './protocol.js';

/**
 * Routing rules as data, evaluated by a pure function: no `eval`, no code strings.
 *
 * - Rules are tried highest `priority` first (default 0); equal priorities keep their order.
 * - `key` is a dotted path into the examined result (`metrics.complexity`, `files.0`).
 * - A rule whose key is missing never matches, whatever its operator (absence is not evidence).
 * - `==`/`!=` compare as JSON values; `>`, `<`, `>=`, `<=` compare two numbers or two strings
 *   and otherwise do not match; `in`/`not_in` look for the value in a list (or a substring of a
 *   string); `contains` and `not_contains` look into a string (substring) or a list (an equal item).
 */

export interface RouteDecision {
  /** `r<i>` for rule i (in the order written), or `otherwise`. */
  route: string;
  rule: RoutingRule | null;
}

/**
 * Whether one rule matches the data: the coordination router's own test (`testRule`), so a
 * pattern's branch and `runtime.coordination` decide alike. Data that is not a mapping has no keys.
 */
export function ruleMatches(rule: RoutingRule, data: unknown): boolean {
  const state =
    data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
  return testRule(rule, state).matched;
}

/** Rule indexes in the order they are tried. */
export function ruleOrder(rules: readonly RoutingRule[]): number[] {
  return rules
    .map((rule, index) => ({ index, priority: rule.priority ?? 0 }))
    .sort((a, b) => b.priority - a.priority || a.index - b.index)
    .map((r) => r.index);
}

/**
 * The route the rules choose for `data`.
 *
 * @example
 * ```ts
 * decideRoute([{ key: 'complexity', operator: '>', value: 7, decision: 'branch', to: 'refactor' }], { complexity: 9 });
 * // { route: 'r0', rule: {...} }
 * ```
 */
export function decideRoute(rules: readonly RoutingRule[], data: unknown): RouteDecision {
  for (const index of ruleOrder(rules)) {
    const rule = rules[index] as RoutingRule;
    if (ruleMatches(rule, data)) return { route: routeLabel(index), rule };
  }
  return { route: OTHERWISE, rule: null };
}

function candidates(rule: RoutingRule): unknown[] {
  const v = rule.value;
  const near = (d: number): unknown[] =>
    typeof v === 'number' ? [v + d] : typeof v === 'string' ? [d > 0 ? `${v}~` : v.slice(0, -1)] : [];
  switch (rule.operator) {
    case '==':
      return [v];
    case '!=':
      return [...near(1), `not ${String(v)}`, 0, false, []];
    case '>':
      return near(1);
    case '<':
      return near(-1);
    case '>=':
      return [v, ...near(1)];
    case '<=':
      return [v, ...near(-1)];
    case 'in':
      return Array.isArray(v) ? v : [];
    case 'not_in':
      return ['(none of these)', Number.MAX_SAFE_INTEGER];
    case 'contains':
      return typeof v === 'string' ? [v, [v]] : [[v]];
    case 'not_contains':
      return ['', []];
  }
}

function withPath(key: string, value: unknown): Record<string, unknown> {
  const parts = key.split('.');
  let out: unknown = value;
  for (let i = parts.length - 1; i >= 0; i--) out = { [parts[i] as string]: out };
  return out as Record<string, unknown>;
}

/**
 * Data for which the rules choose `route`, or `undefined` if none of the tried values does
 * (then the route is probably unreachable). Used to script agents when replaying test paths.
 *
 * @example
 * ```ts
 * sampleForRoute([{ key: 'score', operator: '>', value: 7, decision: 'end' }], 'r0'); // { score: 8 }
 * ```
 */
export function sampleForRoute(rules: readonly RoutingRule[], route: string): Record<string, unknown> | undefined {
  if (route === OTHERWISE) {
    const empty = {};
    return decideRoute(rules, empty).route === OTHERWISE ? empty : undefined;
  }
  const rule = rules[Number(route.slice(1))];
  if (!rule) return undefined;
  for (const value of candidates(rule)) {
    const data = withPath(rule.key, value);
    if (decideRoute(rules, data).route === route) return data;
  }
  return undefined;
}
