import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideJoin, joinNeed, type JoinNeed, type JoinStrategy } from '../src/core/coordination/join-decision.js';

describe('join decision', () => {
  it('reduces each strategy to successes needed and failures tolerated', () => {
    expect(joinNeed('all', 3)).toEqual({ n: 3, k: 3, maxFailures: 0 });
    expect(joinNeed('any', 3)).toEqual({ n: 3, k: 1, maxFailures: 2 });
    expect(joinNeed('majority', 4)).toEqual({ n: 4, k: 3, maxFailures: 1 });
    expect(joinNeed('majority', 5)).toEqual({ n: 5, k: 3, maxFailures: 2 });
    expect(joinNeed({ strategy: 'k-of-n', k: 2, maxFailures: 1 }, 5)).toEqual({ n: 5, k: 2, maxFailures: 1 });
    // A tolerance beyond n - k could never matter: k would be out of reach first.
    expect(joinNeed({ strategy: 'k-of-n', k: 4, maxFailures: 3 }, 5)).toEqual({ n: 5, k: 4, maxFailures: 1 });
  });

  it('empty joins: all is met at once, any and majority can never be', () => {
    expect(decideJoin(joinNeed('all', 0), { succeeded: 0, failed: 0 })).toEqual({ kind: 'ready' });
    expect(decideJoin(joinNeed('any', 0), { succeeded: 0, failed: 0 })).toEqual({
      kind: 'failed',
      reason: 'needs 1 success(es) but has no sources',
    });
    expect(decideJoin(joinNeed('majority', 0), { succeeded: 0, failed: 0 }).kind).toBe('failed');
    expect(decideJoin(joinNeed({ strategy: 'k-of-n', k: 0 }, 0), { succeeded: 0, failed: 0 })).toEqual({
      kind: 'ready',
    });
  });

  it('single-source joins follow their one source', () => {
    for (const s of ['all', 'any', 'majority'] as const) {
      expect(decideJoin(joinNeed(s, 1), { succeeded: 0, failed: 0 }).kind).toBe('pending');
      expect(decideJoin(joinNeed(s, 1), { succeeded: 1, failed: 0 }).kind).toBe('ready');
      expect(decideJoin(joinNeed(s, 1), { succeeded: 0, failed: 1 }).kind).toBe('failed');
    }
  });

  it('a k-of-n join fails as soon as k is out of reach, and says why', () => {
    const need = joinNeed({ strategy: 'k-of-n', k: 3 }, 5);
    expect(decideJoin(need, { succeeded: 1, failed: 2 }).kind).toBe('pending');
    expect(decideJoin(need, { succeeded: 1, failed: 3 })).toEqual({
      kind: 'failed',
      reason: '3 of 5 sources failed; at most 2 may fail',
    });
    const tolerant = joinNeed({ strategy: 'k-of-n', k: 2, maxFailures: 1 }, 5);
    expect(decideJoin(tolerant, { succeeded: 1, failed: 2 })).toEqual({
      kind: 'failed',
      reason: '2 of 5 sources failed; at most 1 may fail',
    });
    expect(decideJoin(joinNeed({ strategy: 'k-of-n', k: 6 }, 5), { succeeded: 0, failed: 0 })).toEqual({
      kind: 'failed',
      reason: 'needs 6 successes but has only 5 sources',
    });
  });
});

const strategy: fc.Arbitrary<JoinStrategy> = fc.oneof(
  fc.constantFrom<JoinStrategy>('all', 'any', 'majority'),
  fc
    .record({
      strategy: fc.constant('k-of-n' as const),
      k: fc.nat(8),
      maxFailures: fc.option(fc.nat(8), { nil: undefined }),
    })
    .map((s) => (s.maxFailures === undefined ? { strategy: s.strategy, k: s.k } : s)),
);
/** A join over n sources and a possible tally of it. */
const scenario = fc
  .tuple(strategy, fc.nat(8))
  .chain(([s, n]) =>
    fc
      .nat(n)
      .chain((settled) =>
        fc
          .nat(settled)
          .map((succeeded) => ({ need: joinNeed(s, n), tally: { succeeded, failed: settled - succeeded } })),
      ),
  );

/** Whether some way for the open sources to settle would meet the join, never failing on the way. */
function reachable(need: JoinNeed, tally: { succeeded: number; failed: number }): boolean {
  const open = need.n - tally.succeeded - tally.failed;
  return tally.failed <= need.maxFailures && tally.succeeded + open >= need.k;
}

describe('join decision (properties)', () => {
  it('ready exactly when k successes are in', () => {
    fc.assert(
      fc.property(scenario, ({ need, tally }) => {
        expect(decideJoin(need, tally).kind === 'ready').toBe(tally.succeeded >= need.k);
      }),
    );
  });

  it('fails as soon as it can no longer be met, and only then', () => {
    fc.assert(
      fc.property(scenario, ({ need, tally }) => {
        const d = decideJoin(need, tally);
        if (tally.succeeded >= need.k) return;
        expect(d.kind === 'failed').toBe(!reachable(need, tally));
        if (d.kind === 'failed') expect(d.reason.length).toBeGreaterThan(0);
      }),
    );
  });

  it('is never pending once every source has settled', () => {
    fc.assert(
      fc.property(strategy, fc.nat(8), fc.nat(8), (s, n, raw) => {
        const succeeded = Math.min(raw, n);
        expect(decideJoin(joinNeed(s, n), { succeeded, failed: n - succeeded }).kind).not.toBe('pending');
      }),
    );
  });

  it('is monotone: one more success never turns ready into anything else, one more failure never un-fails', () => {
    fc.assert(
      fc.property(scenario, ({ need, tally }) => {
        const open = need.n - tally.succeeded - tally.failed;
        fc.pre(open > 0);
        const now = decideJoin(need, tally).kind;
        if (now === 'ready') expect(decideJoin(need, { ...tally, succeeded: tally.succeeded + 1 }).kind).toBe('ready');
        if (now === 'failed') expect(decideJoin(need, { ...tally, failed: tally.failed + 1 }).kind).toBe('failed');
      }),
    );
  });

  it('all ≡ every source succeeded; any ≡ at least one succeeded', () => {
    fc.assert(
      fc.property(fc.nat(8), fc.nat(8), (n, raw) => {
        const succeeded = Math.min(raw, n);
        const all = decideJoin(joinNeed('all', n), { succeeded, failed: n - succeeded });
        expect(all.kind === 'ready').toBe(succeeded === n);
        const any = decideJoin(joinNeed('any', n), { succeeded, failed: n - succeeded });
        expect(any.kind === 'ready').toBe(succeeded >= 1);
      }),
    );
  });
});
