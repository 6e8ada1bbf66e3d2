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
 * The value `encoded` was made from, built in `base`: a fresh copy of the template it was encoded
 * against (see `templateCopier`), changed in place. Values taken from `encoded` are copied.
 */
export function applyDelta(base: Json, encoded: Encoded): Json {
  if (encoded.length === 0) return base;
  const value = patchInto(base, encoded[0]);
  for (const path of encoded[1] ?? []) {
    let target = value as Record<string, unknown>;
    for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
    delete target[path[path.length - 1] as string];
  }
  return value;
}

/**
 * A function that returns a fresh deep copy of `template` (which must never change), for
 * decoding. It is the template's JSON text as an object literal: V8 copies a literal from its
 * boilerplate in native code, about three times as fast as a copy made in JS (and JSON.parse).
 * JSON is a subset of JavaScript expressions, so the text can hold nothing but data. A key named
 * `__proto__` means something else in a literal, and code generation can be switched off
 * (--disallow-code-generation-from-strings): the JS copy is used then.
 */
export function templateCopier(template: Json): () => Json {
  const text = JSON.stringify(template);
  if (text === undefined || text.includes('"__proto__"')) return () => copyJson(template);
  try {
    return new Function(`return ${text};`) as () => Json;
  } catch {
    return () => copyJson(template);
  }
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

/** Writes a delta into a copy of its template (a nested delta exactly where the encoder wrote one). */
function patchInto(target: Json, delta: Json): Json {
  if (!isJsonObject(delta) || !isJsonObject(target)) return copyJson(delta);
  for (const key of Object.keys(delta)) {
    setKey(target, key, Object.hasOwn(target, key) ? patchInto(target[key], delta[key]) : copyJson(delta[key]));
  }
  return target;
}

/** An own data property even for a key named `__proto__` (JSON allows it; assignment would not). */
function setKey(target: Record<string, Json>, key: string, value: Json): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
