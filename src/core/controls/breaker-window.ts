/**
 * When a circuit breaker trips: outcomes of a sliding window of time, counted; pure, on plain
 * JSON (the breaker machine keeps the window in its context).
 */

/**
 * A breaker's policy. It opens when, within `windowMs`, failures reach `failureThreshold`, or (with
 * `failureRate`) when at least `minRequests` outcomes were seen and the share that failed reaches
 * the rate. After `cooldownMs` open it lets `probes` tasks through (half-open); their successes
 * close it, a failure opens it again.
 */
export interface BreakerPolicy {
  key: string;
  failureThreshold: number;
  failureRate?: number;
  minRequests: number;
  windowMs: number;
  cooldownMs: number;
  probes: number;
}

/** Defaults for what a declaration leaves out. */
export const BREAKER_DEFAULTS = {
  failureThreshold: 5,
  minRequests: 10,
  windowMs: 60_000,
  cooldownMs: 30_000,
  probes: 1,
} as const;

/** Outcomes in the window: `[at, ok]`. */
export type BreakerWindow = Array<[at: number, ok: boolean]>;

/** The window with one more outcome, older ones dropped. */
export function recordOutcome(
  policy: BreakerPolicy,
  window: readonly [number, boolean][],
  at: number,
  ok: boolean,
): BreakerWindow {
  const kept = window.filter(([t]) => t > at - policy.windowMs);
  kept.push([at, ok]);
  return kept;
}

/** Whether the window's failures trip the breaker. */
export function shouldTrip(policy: BreakerPolicy, window: readonly [number, boolean][]): boolean {
  let failures = 0;
  for (const [, ok] of window) if (!ok) failures += 1;
  if (failures >= policy.failureThreshold) return true;
  if (policy.failureRate === undefined || window.length < policy.minRequests) return false;
  return failures / window.length >= policy.failureRate;
}
