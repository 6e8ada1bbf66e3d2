/**
 * How an agent waits between reconnect attempts.
 *
 * @example
 * ```ts
 * const policy: ReconnectPolicy = { ...DEFAULT_RECONNECT, maxDelayMs: 60_000 };
 * ```
 */
export interface ReconnectPolicy {
  /** Delay before the first retry, in ms. Default 100. */
  initialDelayMs: number;
  /** Longest delay, in ms. Default 10,000. */
  maxDelayMs: number;
  /** Growth per failed attempt. Default 2. */
  factor: number;
  /** Fraction of the delay taken off at random, so that many agents do not retry in step. Default 0.5. */
  jitter: number;
}

/** 100 ms, doubling up to 10 s, up to half of each delay taken off at random. */
export const DEFAULT_RECONNECT: ReconnectPolicy = { initialDelayMs: 100, maxDelayMs: 10_000, factor: 2, jitter: 0.5 };

/**
 * The delay before retry number `attempt` (0 for the first retry).
 *
 * @example
 * ```ts
 * reconnectDelay(DEFAULT_RECONNECT, 3, () => 0); // 800
 * ```
 */
export function reconnectDelay(policy: ReconnectPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** attempt);
  return Math.round(base * (1 - policy.jitter * random()));
}
