/**
 * When a join (or sync point) is met, and when it can no longer be met. Pure, so the join
 * machine, the API's up-front checks and the property tests share one definition.
 *
 * Every strategy reduces to two numbers: `k`, the successes needed, and `maxFailures`, the
 * failures tolerated. A join is ready as soon as `k` sources succeeded; it fails as soon as more
 * than `maxFailures` failed or too few are left to reach `k`; otherwise it waits.
 */

/** How many of the sources must succeed. */
export type JoinStrategy = 'all' | 'any' | 'majority' | { strategy: 'k-of-n'; k: number; maxFailures?: number };

/** What a join strategy needs over its sources: how many in all, how many must succeed. */
export interface JoinNeed {
  /** Sources in all. */
  n: number;
  /** Successes needed. */
  k: number;
  /** Failures tolerated (more fail the join even if `k` were still reachable). */
  maxFailures: number;
}

/** How many of a join's sources have succeeded and failed so far. */
export interface JoinTally {
  succeeded: number;
  failed: number;
}

/** Whether a join is still waiting, ready, or failed (and why). */
export type JoinDecision = { kind: 'pending' } | { kind: 'ready' } | { kind: 'failed'; reason: string };

/**
 * The need of a strategy over `n` sources.
 * `all`: k = n (no sources: ready at once). `any`: k = 1. `majority`: more than half,
 * k = floor(n / 2) + 1. `k-of-n`: as given, with `maxFailures` defaulting to n - k.
 * Failures beyond n - k make k unreachable anyway, so `maxFailures` is capped there.
 *
 * @example
 * ```ts
 * joinNeed('majority', 4); // { n: 4, k: 3, maxFailures: 1 }
 * ```
 */
export function joinNeed(strategy: JoinStrategy, n: number): JoinNeed {
  const k =
    strategy === 'all' ? n : strategy === 'any' ? 1 : strategy === 'majority' ? Math.floor(n / 2) + 1 : strategy.k;
  const room = Math.max(0, n - k);
  const asked = typeof strategy === 'object' && strategy.maxFailures !== undefined ? strategy.maxFailures : room;
  return { n, k, maxFailures: Math.min(asked, room) };
}

/** A strategy's name for events and messages: `all`, `any`, `majority`, `2-of-5`. */
export function strategyName(strategy: JoinStrategy, n: number | null): string {
  if (typeof strategy === 'string') return strategy;
  return `${strategy.k}-of-${n ?? 'n'}`;
}

/**
 * Decides a join from its tally. Ready wins when `k` successes are in; otherwise the first
 * reason it can no longer be met, in this order: `k` exceeds the sources, too many failures,
 * too few sources left.
 *
 * @example
 * ```ts
 * decideJoin({ n: 5, k: 3, maxFailures: 1 }, { succeeded: 1, failed: 2 });
 * // { kind: 'failed', reason: '2 of 5 sources failed; at most 1 may fail' }
 * ```
 */
export function decideJoin(need: JoinNeed, tally: JoinTally): JoinDecision {
  const { n, k, maxFailures } = need;
  if (tally.succeeded >= k) return { kind: 'ready' };
  if (k > n) {
    return {
      kind: 'failed',
      reason: n === 0 ? `needs ${k} success(es) but has no sources` : `needs ${k} successes but has only ${n} sources`,
    };
  }
  if (tally.failed > maxFailures) {
    return { kind: 'failed', reason: `${tally.failed} of ${n} sources failed; at most ${maxFailures} may fail` };
  }
  const open = n - tally.succeeded - tally.failed;
  if (tally.succeeded + open < k) {
    return { kind: 'failed', reason: `only ${tally.succeeded + open} of ${n} sources can still succeed; ${k} needed` };
  }
  return { kind: 'pending' };
}
