import { TroupeError } from '../errors.js';
import { canonicalJson, readPath } from '../canonical-json.js';
import { isPlainObject } from '../json-value.js';

/**
 * Merging the results of several tasks into one value. Every function here is pure: the inputs
 * come in the order the sources were GIVEN (never completion order), so the same sources always
 * merge to the same value.
 */

/** One source's result, named so that errors can say which source was at fault. */
export interface MergeInput {
  sourceId: string;
  result: unknown;
}

/** A merge registered on the runtime by name (`runtime.coordination.registerMerge`). Must be pure. */
export type CustomMerge = (inputs: readonly MergeInput[]) => unknown;

/** How to merge: a built-in strategy, a majority vote on one field, or a registered merge by name. */
export type MergeSpec =
  | 'combine'
  | 'union'
  | 'intersection'
  | 'majority'
  | { strategy: 'majority'; key: string }
  | { strategy: 'custom'; name: string };

/** What a merge strategy produced: the merged value and details for observers. */
export interface MergeOutcome {
  value: unknown;
  /** What the strategy wants observers to know (vote counts for `majority`). */
  detail: Record<string, unknown>;
}

const notAllowed = (strategy: string, input: MergeInput, wanted: string): TroupeError =>
  new TroupeError(
    'E_INVALID_INPUT',
    `${strategy} merges ${wanted}; the result of "${input.sourceId}" is ${describe(input.result)}`,
  );

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return isPlainObject(value) ? 'an object' : `a ${typeof value}`;
}

/**
 * Shallow merge of object results; on an overlapping key the later source (in given order) wins.
 * No inputs merge to `{}`.
 *
 * @example
 * ```ts
 * combine([{ sourceId: 'a', result: { x: 1, y: 1 } }, { sourceId: 'b', result: { y: 2 } }]); // { x: 1, y: 2 }
 * ```
 */
export function combine(inputs: readonly MergeInput[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const input of inputs) {
    if (!isPlainObject(input.result)) throw notAllowed('combine', input, 'objects');
    Object.assign(out, input.result);
  }
  return out;
}

/** Deep union of two values: arrays become a set union, objects union their keys, else `b` wins. */
function unionPair(a: unknown, b: unknown): unknown {
  if (Array.isArray(a) && Array.isArray(b)) {
    const seen = new Set(a.map(canonicalJson));
    const out = [...dedupe(a)];
    for (const item of b) {
      const key = canonicalJson(item);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(item);
      }
    }
    return out;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? unionPair(out[k], v) : v;
    return out;
  }
  return b;
}

function dedupe(items: readonly unknown[]): unknown[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = canonicalJson(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function sameShape(strategy: string, inputs: readonly MergeInput[]): 'objects' | 'arrays' | 'empty' {
  const first = inputs[0];
  if (!first) return 'empty';
  const arrays = Array.isArray(first.result);
  for (const input of inputs) {
    if (arrays ? !Array.isArray(input.result) : !isPlainObject(input.result)) {
      throw notAllowed(
        strategy,
        input,
        arrays ? 'arrays (the first result is an array)' : 'objects or arrays, all of one kind',
      );
    }
  }
  return arrays ? 'arrays' : 'objects';
}

/**
 * Deep union. Object results keep every key of every result, and values under the same key are
 * unioned again (nested objects merge, arrays become a set union by value in order of first
 * appearance, anything else takes the later source's value). Array results become one set union.
 * No inputs merge to `{}`.
 *
 * @example
 * ```ts
 * union([{ sourceId: 'a', result: { tags: ['x'] } }, { sourceId: 'b', result: { tags: ['y', 'x'] } }]);
 * // { tags: ['x', 'y'] }
 * ```
 */
export function union(inputs: readonly MergeInput[]): unknown {
  const shape = sameShape('union', inputs);
  if (shape === 'empty') return {};
  return inputs.map((i) => i.result).reduce((acc, next) => unionPair(acc, next), shape === 'arrays' ? [] : {});
}

/**
 * Object results keep only the keys present in every result, with the later source's value
 * (as in `combine`). Array results keep the items (compared by value) present in every array, in
 * the first array's order, without repeats. No inputs merge to `{}`.
 *
 * @example
 * ```ts
 * intersection([{ sourceId: 'a', result: { x: 1, y: 1 } }, { sourceId: 'b', result: { y: 2 } }]); // { y: 2 }
 * ```
 */
export function intersection(inputs: readonly MergeInput[]): unknown {
  const shape = sameShape('intersection', inputs);
  if (shape === 'empty') return {};
  if (shape === 'arrays') {
    const [first, ...rest] = inputs.map((i) => i.result as unknown[]);
    const others = rest.map((r) => new Set(r.map(canonicalJson)));
    return dedupe(first ?? []).filter((item) => others.every((set) => set.has(canonicalJson(item))));
  }
  const objects = inputs.map((i) => i.result as Record<string, unknown>);
  const last = objects[objects.length - 1] as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(objects[0] as Record<string, unknown>)) {
    if (objects.every((o) => Object.prototype.hasOwnProperty.call(o, key))) out[key] = last[key];
  }
  return out;
}

/** The outcome of a majority vote: the winning value and how many voted for it. */
export interface Vote {
  /** The winning value. */
  value: unknown;
  votes: number;
  /** Votes cast (sources without the voted key abstain and are not counted). */
  total: number;
  /** True when another value had as many votes and the tie rule decided. */
  tie: boolean;
  /** The sources that voted for the winner, in given order. */
  voters: string[];
}

/**
 * Plurality vote: the value (compared by canonical JSON) that most sources returned. Tie rule:
 * among values with the most votes, the one first returned in the GIVEN source order wins. With
 * `key`, each source votes with the value at that dotted path of its result; sources without it
 * abstain. No votes at all is an error (`E_INVALID_INPUT`): there is nothing to elect.
 *
 * @example
 * ```ts
 * majorityVote([{ sourceId: 'a', result: 'x' }, { sourceId: 'b', result: 'y' }, { sourceId: 'c', result: 'y' }]).value; // 'y'
 * ```
 */
export function majorityVote(inputs: readonly MergeInput[], key?: string): Vote {
  const tally = new Map<string, { value: unknown; voters: string[] }>();
  let total = 0;
  for (const input of inputs) {
    const ballot = key === undefined ? { found: true as const, value: input.result } : readPath(input.result, key);
    if (!ballot.found) continue;
    total += 1;
    const text = canonicalJson(ballot.value);
    const entry = tally.get(text);
    if (entry) entry.voters.push(input.sourceId);
    else tally.set(text, { value: ballot.value, voters: [input.sourceId] });
  }
  // Map iteration follows insertion order, i.e. first appearance in the given order.
  let best: { value: unknown; voters: string[] } | undefined;
  let tie = false;
  for (const entry of tally.values()) {
    if (!best || entry.voters.length > best.voters.length) {
      best = entry;
      tie = false;
    } else if (entry.voters.length === best.voters.length) tie = true;
  }
  if (!best) {
    throw new TroupeError(
      'E_INVALID_INPUT',
      key === undefined ? 'majority vote over no results' : `majority vote: no result has "${key}"`,
    );
  }
  return { value: best.value, votes: best.voters.length, total, tie, voters: best.voters };
}

/**
 * Runs a merge spec. Custom merges are looked up by name in `customs`; an unknown name is an
 * `E_INVALID_INPUT` error, and a custom merge that throws has its error passed on.
 *
 * @example
 * ```ts
 * runMerge({ strategy: 'majority', key: 'decision' }, inputs, new Map()).value;
 * ```
 */
export function runMerge(
  spec: MergeSpec,
  inputs: readonly MergeInput[],
  customs: ReadonlyMap<string, CustomMerge>,
): MergeOutcome {
  if (spec === 'combine') return { value: combine(inputs), detail: { sources: inputs.length } };
  if (spec === 'union') return { value: union(inputs), detail: { sources: inputs.length } };
  if (spec === 'intersection') return { value: intersection(inputs), detail: { sources: inputs.length } };
  if (spec === 'majority' || spec.strategy === 'majority') {
    const vote = majorityVote(inputs, spec === 'majority' ? undefined : spec.key);
    return {
      value: vote.value,
      detail: { sources: inputs.length, votes: vote.votes, total: vote.total, tie: vote.tie, voters: vote.voters },
    };
  }
  const custom = customs.get(spec.name);
  if (!custom) throw new TroupeError('E_INVALID_INPUT', `no merge is registered under the name "${spec.name}"`);
  return { value: custom(inputs), detail: { sources: inputs.length, custom: spec.name } };
}

/** A short name for a merge spec, for events and messages. */
export function mergeName(spec: MergeSpec): string {
  if (typeof spec === 'string') return spec;
  return spec.strategy === 'custom' ? `custom:${spec.name}` : `majority:${spec.key}`;
}
