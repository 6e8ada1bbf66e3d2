import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, jsonEqual } from '../src/core/canonical-json.js';
import {
  combine,
  intersection,
  majorityVote,
  runMerge,
  union,
  type MergeInput,
} from '../src/core/coordination/merge-strategies.js';

const inputs = (...results: unknown[]): MergeInput[] => results.map((result, i) => ({ sourceId: `t${i}`, result }));

describe('merge strategies', () => {
  it('combine: later sources in the GIVEN order win on overlapping keys', () => {
    expect(combine(inputs({ a: 1, b: 1 }, { b: 2, c: 2 }, { c: 3 }))).toEqual({ a: 1, b: 2, c: 3 });
    // The same results given in another order merge differently: order is the caller's, not completion's.
    expect(combine(inputs({ c: 3 }, { b: 2, c: 2 }, { a: 1, b: 1 }))).toEqual({ a: 1, b: 1, c: 2 });
  });

  it('combine, union and intersection of no inputs are {}', () => {
    expect(combine([])).toEqual({});
    expect(union([])).toEqual({});
    expect(intersection([])).toEqual({});
  });

  it('combine refuses a result that is not an object and names the source', () => {
    expect(() => combine(inputs({ a: 1 }, 'text'))).toThrow(/result of "t1" is a string/);
    expect(() => combine(inputs([1]))).toThrow(expect.objectContaining({ code: 'E_INVALID_INPUT' }));
  });

  it('union merges nested objects, unions arrays by value, and lets the later scalar win', () => {
    const merged = union(
      inputs({ tags: ['x', 'y'], meta: { a: 1 }, v: 1 }, { tags: ['y', 'z'], meta: { b: 2 }, v: 2 }),
    );
    expect(merged).toEqual({ tags: ['x', 'y', 'z'], meta: { a: 1, b: 2 }, v: 2 });
    expect(union(inputs([1, 2, 2], [{ k: 1 }, 2], [{ k: 1 }]))).toEqual([1, 2, { k: 1 }]);
    expect(() => union(inputs([1], { a: 1 }))).toThrow(/arrays/);
  });

  it('intersection keeps keys present in every result with the later value, or items in every array', () => {
    expect(intersection(inputs({ a: 1, b: 1 }, { b: 2, c: 2 }, { b: 3, a: 0 }))).toEqual({ b: 3 });
    expect(intersection(inputs(['a', 'b', 'b', 'c'], ['c', 'b'], ['b', 'c', 'd']))).toEqual(['b', 'c']);
    expect(intersection(inputs({ only: 1 }))).toEqual({ only: 1 });
  });

  it('majority: the most frequent value wins; a tie goes to the value first given', () => {
    expect(majorityVote(inputs('a', 'b', 'b')).value).toBe('b');
    const tie = majorityVote(inputs('b', 'a', 'a', 'b'));
    expect(tie).toMatchObject({ value: 'b', votes: 2, total: 4, tie: true, voters: ['t0', 't3'] });
    // Values are compared by canonical JSON: key order does not split a vote.
    expect(majorityVote(inputs({ x: 1, y: 2 }, { y: 2, x: 1 }, { x: 3 })).votes).toBe(2);
  });

  it('majority on a key: sources without it abstain; no votes at all is an error', () => {
    const vote = majorityVote(
      inputs({ decision: 'A', why: '1' }, { decision: 'B' }, { why: 'abstain' }, { decision: 'B', why: '2' }),
      'decision',
    );
    expect(vote).toMatchObject({ value: 'B', votes: 2, total: 3, tie: false });
    expect(() => majorityVote([])).toThrow(/no results/);
    expect(() => majorityVote(inputs({ a: 1 }), 'decision')).toThrow(/no result has "decision"/);
  });

  it('custom merges run by registered name; unknown names are refused', () => {
    const customs = new Map([['sum', (xs: readonly MergeInput[]) => xs.reduce((s, x) => s + (x.result as number), 0)]]);
    expect(runMerge({ strategy: 'custom', name: 'sum' }, inputs(1, 2, 3), customs).value).toBe(6);
    expect(() => runMerge({ strategy: 'custom', name: 'nope' }, inputs(1), customs)).toThrow(
      /no merge is registered under the name "nope"/,
    );
  });
});

const key = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const scalar = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('x', 'y'), fc.boolean(), fc.constant(null));
const record = fc.dictionary(key, scalar, { maxKeys: 5 });
const records = fc.array(record, { maxLength: 6 });

describe('merge strategies (properties)', () => {
  it('combine: each key takes the value of the LAST result (in given order) that has it', () => {
    fc.assert(
      fc.property(records, (rs) => {
        const merged = combine(inputs(...rs));
        for (const k of new Set(rs.flatMap((r) => Object.keys(r)))) {
          const last = [...rs].reverse().find((r) => k in r);
          expect(merged[k]).toEqual(last?.[k]);
        }
        expect(Object.keys(merged).sort()).toEqual([...new Set(rs.flatMap((r) => Object.keys(r)))].sort());
      }),
    );
  });

  it('combine is idempotent on repeats and associative over splits of the input', () => {
    fc.assert(
      fc.property(records, fc.nat(6), (rs, cut) => {
        const at = Math.min(cut, rs.length);
        const whole = combine(inputs(...rs));
        const halves = combine(inputs(combine(inputs(...rs.slice(0, at))), combine(inputs(...rs.slice(at)))));
        expect(halves).toEqual(whole);
        expect(combine(inputs(...rs, ...rs))).toEqual(whole);
      }),
    );
  });

  it('union of flat records has the same keys as combine; intersection keys are in every record', () => {
    fc.assert(
      fc.property(records, (rs) => {
        const u = union(inputs(...rs)) as Record<string, unknown>;
        expect(Object.keys(u).sort()).toEqual(Object.keys(combine(inputs(...rs))).sort());
        const i = intersection(inputs(...rs)) as Record<string, unknown>;
        for (const k of Object.keys(i)) for (const r of rs) expect(k in r).toBe(true);
        if (rs.length > 0)
          for (const k of Object.keys(rs[0] ?? {})) if (rs.every((r) => k in r)) expect(k in i).toBe(true);
      }),
    );
  });

  it('array union contains every item once; array intersection items are in every array', () => {
    const arrays = fc.array(fc.array(scalar, { maxLength: 6 }), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(arrays, (as) => {
        const u = union(inputs(...as)) as unknown[];
        const texts = u.map(canonicalJson);
        expect(new Set(texts).size).toBe(texts.length);
        for (const a of as) for (const item of a) expect(texts).toContain(canonicalJson(item));
        const i = intersection(inputs(...as)) as unknown[];
        for (const item of i) for (const a of as) expect(a.some((x) => jsonEqual(x, item))).toBe(true);
      }),
    );
  });

  it('majority: the winner has at least as many votes as any value; ties go to the first given', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('A', 'B', 'C'), { minLength: 1, maxLength: 12 }), (votes) => {
        const result = majorityVote(inputs(...votes));
        const counts = new Map<string, number>();
        for (const v of votes) counts.set(v, (counts.get(v) ?? 0) + 1);
        const max = Math.max(...counts.values());
        expect(result.votes).toBe(max);
        const leaders = [...counts].filter(([, n]) => n === max).map(([v]) => v);
        expect(result.value).toBe(votes.find((v) => leaders.includes(v)));
        expect(result.tie).toBe(leaders.length > 1);
      }),
    );
  });

  it('majority with a strict majority does not depend on the order of the sources', () => {
    const votesAndPermutation = fc
      .array(fc.constantFrom('A', 'B', 'C'), { minLength: 1, maxLength: 12 })
      .chain((votes) =>
        fc.tuple(fc.constant(votes), fc.shuffledSubarray(votes, { minLength: votes.length, maxLength: votes.length })),
      );
    fc.assert(
      fc.property(votesAndPermutation, ([votes, shuffled]) => {
        const counts = new Map<string, number>();
        for (const v of votes) counts.set(v, (counts.get(v) ?? 0) + 1);
        const strict = [...counts].find(([, n]) => n * 2 > votes.length);
        fc.pre(strict !== undefined);
        expect(majorityVote(inputs(...shuffled)).value).toBe(strict?.[0]);
      }),
    );
  });
});
