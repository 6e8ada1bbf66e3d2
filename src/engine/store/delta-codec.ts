/**
 * Delta encoding of JSON values against a template: what differs from the template is kept, what
 * equals it is left out. Settled records of one kind share most of their content (machine, state,
 * the default parts of a spec, empty fields), so the memory store keeps each one as its delta
 * against the first settled record of its kind: only what differs (for a no-op task, a third).
 *
 * The delta of a plain object against a plain object is a plain object of the changed keys, each
 * holding the nested delta (both sides plain objects again) or the new value (anything else);
 * keys the value lacks are listed apart. Decoding reads a nested delta exactly where encoding
 * wrote one (the template's value is a plain object and so is the delta's), so no value can be
 * mistaken for a delta.
 */

import { copyJson, isJsonObject } from '../../core/json-value.js';

type Json = unknown;
type Path = string[];

/** A value encoded against a template: `[delta]`, or `[delta, removed paths]`; `[]` when equal. */
export type Encoded = [] | [Json] | [Json, Path[]];

const SAME = Symbol('same');

export function encodeDelta(value: Json, template: Json): Encoded {
  const removed: Path[] = [];
  const delta = diff(value, template, [], removed);
  if (removed.length > 0) return [delta === SAME ? {} : delta, removed];
  return delta === SAME ? [] : [delta];
}

/**
 * The value `encoded` was made from, as a fresh value that shares nothing with `template` or
 * `encoded` (the caller owns it): the template and the delta copied together in one pass, then the
 * removed keys deleted. No code is generated at run time (an object literal compiled from the
 * template's JSON text was the fastest copy, but code made from stored data is what a security
 * review flags first, issue 12); objects are copied by spread instead, which V8 does natively,
 * keeping the source's layout (a copy made key by key takes ~14% more heap).
 */
export function decodeDelta(encoded: Encoded, template: Json): Json {
  if (encoded.length === 0) return clone(template);
  const value = merge(template, encoded[0]);
  for (const path of encoded[1] ?? []) {
    let target = value as Record<string, unknown>;
    for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
    delete target[path[path.length - 1] as string];
  }
  return value;
}

/** `path` is the keys down to `value`, a stack shared by the whole walk (copied only for removals). */
function diff(value: Json, template: Json, path: Path, removed: Path[]): Json | typeof SAME {
  if (value === template) return SAME;
  if (isJsonObject(value) && isJsonObject(template)) {
    let delta: Record<string, Json> | undefined;
    // Keys of the template the value has too: fewer than the template's means some were removed.
    let kept = 0;
    for (const key in value) {
      const v = value[key];
      if (v === undefined) continue; // JSON has no undefined: the key is absent
      const t = template[key];
      // A JSON value is never a function and never the prototype: only then is hasOwn needed.
      if (t !== undefined && ((typeof t !== 'function' && key !== '__proto__') || Object.hasOwn(template, key))) kept += 1;
      if (v === t) continue;
      path.push(key);
      const d = diff(v, t, path, removed);
      path.pop();
      if (d !== SAME) setKey((delta ??= {}), key, d);
    }
    // Removals are applied after decoding, wherever they are: this level's delta need not show them.
    if (kept < keyCount(template)) {
      for (const key in template) {
        if (!Object.hasOwn(value, key) || value[key] === undefined) removed.push([...path, key]);
      }
    }
    return delta ?? SAME;
  }
  if (Array.isArray(value) && Array.isArray(template) && sameJson(value, template)) return SAME;
  return value;
}

/** Templates never change: their key counts are computed once. */
const keyCounts = new WeakMap<object, number>();

function keyCount(template: Record<string, Json>): number {
  let count = keyCounts.get(template);
  if (count === undefined) keyCounts.set(template, (count = Object.keys(template).length));
  return count;
}

/** Deep equality of two JSON values (cheaper than node's general isDeepStrictEqual for these). */
function sameJson(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, Json>;
  const bo = b as Record<string, Json>;
  let count = 0;
  for (const key in ao) {
    const v = ao[key];
    if (v === undefined) continue;
    if (!Object.hasOwn(bo, key) || !sameJson(v, bo[key])) return false;
    count += 1;
  }
  let other = 0;
  for (const key in bo) if (bo[key] !== undefined) other += 1;
  return count === other;
}

/**
 * A copy of `template` with `delta` written in: a nested delta exactly where the encoder wrote one
 * (both plain objects), the delta's value otherwise. Keys keep the template's order, new ones last.
 */
function merge(template: Json, delta: Json): Json {
  if (!isJsonObject(delta) || !isJsonObject(template)) return clone(delta);
  const out: Record<string, Json> = { ...template };
  let absent: string[] | undefined;
  for (const key in out) {
    const t = out[key];
    if (Object.hasOwn(delta, key)) setKey(out, key, merge(t, delta[key]));
    else if (t === undefined) (absent ??= []).push(key); // JSON has no undefined: the key is absent
    else if (typeof t === 'object' && t !== null) setKey(out, key, clone(t));
  }
  for (const key in delta) if (!Object.hasOwn(template, key)) setKey(out, key, clone(delta[key]));
  for (const key of absent ?? []) delete out[key];
  return out;
}

/** A deep copy of a JSON value: objects by spread (their layout kept), then their nested values. */
function clone(value: Json): Json {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v: Json) => (v === undefined ? null : clone(v)));
  const out: Record<string, Json> = { ...(value as Record<string, Json>) };
  for (const key in out) {
    const v = out[key];
    // JSON has no undefined: such an object (rare) is copied key by key, leaving the key out.
    if (v === undefined) return copyJson(value);
    if (typeof v === 'object' && v !== null) setKey(out, key, clone(v));
  }
  return out;
}

/** An own data property even for a key named `__proto__` (JSON allows it; assignment would not). */
function setKey(target: Record<string, Json>, key: string, value: Json): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
