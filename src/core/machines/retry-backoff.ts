/**
 * Exponential backoff as a pure function. Randomness comes in as an argument (`rand` in [0, 1))
 * so that the same inputs always give the same delay: on replay, in tests and under traversal.
 */
export interface BackoffPolicy {
  /** Delay after the first failed attempt, in ms. */
  baseMs: number;
  /** Multiplier per further attempt. */
  factor: number;
  /** Upper bound on any delay, in ms. */
  capMs: number;
  /**
   * Share of the delay that is randomised, 0 to 1. With jitter j the delay is
   * `d * (1 - j * rand)`: 0 gives exact delays, 1 gives "full jitter" in (0, d].
   */
  jitter: number;
}

/**
 * How often a task is tried and how long it waits between attempts.
 *
 * @example
 * ```ts
 * await runtime.tasks.create({ type: 'call-api', retry: { maxAttempts: 5, backoff: { baseMs: 500, factor: 2, capMs: 30_000, jitter: 0.2 } } });
 * ```
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. 1 means no retry. */
  maxAttempts: number;
  backoff: BackoffPolicy;
}

/** The retry policy of a task that sets none: 3 attempts, backoff from 1 s doubling up to 5 min. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  backoff: { baseMs: 1_000, factor: 2, capMs: 5 * 60_000, jitter: 0 },
};

/**
 * Delay before the attempt after `failedAttempt` (1-based), in whole ms; `rand` in [0, 1) drives the jitter.
 *
 * @example
 * ```ts
 * backoffDelay({ baseMs: 1_000, factor: 2, capMs: 60_000, jitter: 0 }, 3, Math.random()); // 4000
 * ```
 */
export function backoffDelay(policy: BackoffPolicy, failedAttempt: number, rand: number): number {
  const exponent = Math.max(0, failedAttempt - 1);
  const raw = Math.min(policy.capMs, policy.baseMs * Math.pow(policy.factor, exponent));
  const jittered = raw * (1 - policy.jitter * Math.min(Math.max(rand, 0), 1));
  return Math.round(jittered);
}
