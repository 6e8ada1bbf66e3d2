import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_RETRY_POLICY, type BackoffPolicy } from '../src/core/machines/retry-backoff.js';

const policy = (over: Partial<BackoffPolicy> = {}): BackoffPolicy => ({
  baseMs: 1_000,
  factor: 2,
  capMs: 60_000,
  jitter: 0,
  ...over,
});

describe('backoffDelay', () => {
  it('is base * factor^(n-1) after failed attempt n when there is no jitter', () => {
    const p = policy();
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(p, n, 0.9))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000,
    ]);
    expect([1, 2, 3].map((n) => backoffDelay(policy({ baseMs: 100, factor: 3 }), n, 0))).toEqual([100, 300, 900]);
  });

  it('never exceeds the cap', () => {
    const p = policy({ baseMs: 1_000, factor: 3, capMs: 5_000 });
    expect([1, 2, 3, 4].map((n) => backoffDelay(p, n, 0))).toEqual([1_000, 3_000, 5_000, 5_000]);
    // A cap below the base caps the very first delay.
    expect(backoffDelay(policy({ baseMs: 1_000, capMs: 400 }), 1, 0)).toBe(400);
  });

  it('stays finite and capped when the exponent overflows', () => {
    expect(backoffDelay(policy({ capMs: 300_000 }), 5_000, 0)).toBe(300_000);
  });

  it('treats attempt 0 and 1 alike: the first delay is the base', () => {
    expect(backoffDelay(policy(), 0, 0)).toBe(1_000);
    expect(backoffDelay(policy(), 1, 0)).toBe(1_000);
    expect(backoffDelay(policy(), -3, 0)).toBe(1_000);
  });

  it('is constant with factor 1', () => {
    expect([1, 2, 10].map((n) => backoffDelay(policy({ factor: 1, baseMs: 250 }), n, 0))).toEqual([250, 250, 250]);
  });

  it('removes the jittered share: d * (1 - jitter * rand)', () => {
    const p = policy({ jitter: 0.5 });
    expect(backoffDelay(p, 1, 0)).toBe(1_000);
    expect(backoffDelay(p, 1, 0.5)).toBe(750);
    expect(backoffDelay(p, 2, 0.75)).toBe(1_250);
    // Full jitter spans (0, d].
    expect(backoffDelay(policy({ jitter: 1 }), 1, 0)).toBe(1_000);
    expect(backoffDelay(policy({ jitter: 1 }), 1, 0.999)).toBe(1);
  });

  it('jitters the capped delay, not the raw one', () => {
    expect(backoffDelay(policy({ baseMs: 100, factor: 3, capMs: 250, jitter: 0.5 }), 3, 0.75)).toBe(
      Math.round(250 * 0.625),
    );
  });

  it('clamps rand into [0, 1]', () => {
    const p = policy({ jitter: 0.5 });
    expect(backoffDelay(p, 1, -2)).toBe(backoffDelay(p, 1, 0));
    expect(backoffDelay(p, 1, 7)).toBe(backoffDelay(p, 1, 1));
    expect(backoffDelay(p, 1, 1)).toBe(500);
  });

  it('rounds to whole milliseconds', () => {
    expect(backoffDelay(policy({ baseMs: 1_000, factor: 1.5 }), 3, 0)).toBe(2_250);
    expect(backoffDelay(policy({ baseMs: 10, factor: 1.15 }), 2, 0)).toBe(12); // 11.5 rounds up
    expect(backoffDelay(policy({ baseMs: 3, jitter: 0.5 }), 1, 0.5)).toBe(2); // 2.25
  });

  it('gives the documented defaults: 1 s, then 2 s, without jitter', () => {
    const p = DEFAULT_RETRY_POLICY.backoff;
    expect(DEFAULT_RETRY_POLICY.maxAttempts).toBe(3);
    expect([1, 2, 3].map((n) => backoffDelay(p, n, 0.42))).toEqual([1_000, 2_000, 4_000]);
  });

  const policies = fc.record({
    baseMs: fc.integer({ min: 1, max: 100_000 }),
    factor: fc.double({ min: 1, max: 10, noNaN: true }),
    capMs: fc.integer({ min: 1, max: 10_000_000 }),
    jitter: fc.double({ min: 0, max: 1, noNaN: true }),
  });

  it('property: a whole number within [round(d * (1 - jitter)), d], d the capped exponential delay', () => {
    fc.assert(
      fc.property(
        policies,
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (p, n, rand) => {
          const d = Math.min(p.capMs, p.baseMs * p.factor ** (n - 1));
          const delay = backoffDelay(p, n, rand);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeLessThanOrEqual(Math.round(d));
          expect(delay).toBeGreaterThanOrEqual(Math.round(d * (1 - p.jitter)));
          expect(delay).toBeLessThanOrEqual(p.capMs);
        },
      ),
    );
  });

  it('property: never shrinks from one attempt to the next for the same rand, and is deterministic', () => {
    fc.assert(
      fc.property(
        policies,
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (p, n, rand) => {
          expect(backoffDelay(p, n + 1, rand)).toBeGreaterThanOrEqual(backoffDelay(p, n, rand));
          expect(backoffDelay(p, n, rand)).toBe(backoffDelay({ ...p }, n, rand));
        },
      ),
    );
  });
});
