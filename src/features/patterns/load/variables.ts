import type { PatternProblemCode } from '../problems/problems.js';
import { nearestName } from '../problems/suggest.js';

/**
 * `${var}` substitution, on the parsed tree (never on text), in one pass:
 *
 * - `${name}` or `${name.field.0}` reads an input (or loop variable) and, with a dotted path,
 *   a field or list index inside it.
 * - A string that is exactly one reference becomes the value itself, with its type: a number
 *   stays a number, a list a list.
 * - A reference inside a longer string is replaced by its text; only strings, numbers and
 *   booleans may be interpolated so (a list inside a sentence is an error, not "a,b").
 * - `$${` writes a literal `${`. A `$` not followed by `{` is plain text.
 * - An unknown name is an error, never left in place; an unclosed `${` is an error.
 * - Substituted text is never scanned again, and keys are never substituted, so no value can
 *   change the document's structure or smuggle in another reference.
 */

export const WHOLE_VARIABLE_RE = /^\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}$/;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$/;

type Part = { text: string } | { ref: string };

export interface VariableIssue {
  /** Path inside the substituted tree, relative to its root. */
  path: Array<string | number>;
  code: PatternProblemCode;
  message: string;
  suggestion?: string;
}

export interface VariableScope {
  /** Known names and their values. */
  values: ReadonlyMap<string, unknown>;
  /** Names that are valid here but substituted later (loop variables): left as written. */
  deferred?: ReadonlySet<string>;
}

/** Splits a string into text and references; returns an error message for bad syntax. */
export function parseTemplate(value: string): Part[] | { error: string } {
  const parts: Part[] = [];
  let text = '';
  let i = 0;
  while (i < value.length) {
    if (value.startsWith('$${', i)) {
      text += '${';
      i += 3;
      continue;
    }
    if (value.startsWith('${', i)) {
      const end = value.indexOf('}', i + 2);
      if (end < 0) return { error: `"\${" at character ${i + 1} is not closed with "}"` };
      const name = value.slice(i + 2, end).trim();
      if (!NAME_RE.test(name))
        return {
          error: `"\${${name}}" is not a valid reference (names are letters, digits and _, fields joined with .)`,
        };
      if (text) parts.push({ text });
      text = '';
      parts.push({ ref: name });
      i = end + 1;
      continue;
    }
    text += value[i];
    i += 1;
  }
  if (text || parts.length === 0) parts.push({ text });
  return parts;
}

/** True when the string holds at least one `${...}` (escapes excluded). */
export function hasReference(value: string): boolean {
  const parts = parseTemplate(value);
  return !Array.isArray(parts) || parts.some((p) => 'ref' in p);
}

type Lookup =
  { ok: true; value: unknown } | { ok: false; code: PatternProblemCode; message: string; suggestion?: string };

function lookup(ref: string, scope: VariableScope): Lookup | 'deferred' {
  const [root, ...fields] = ref.split('.') as [string, ...string[]];
  if (scope.deferred?.has(root)) return 'deferred';
  if (!scope.values.has(root)) {
    const known = [...scope.values.keys(), ...(scope.deferred ?? [])];
    const suggestion = nearestName(root, known);
    const list = known.length > 0 ? `; known here: ${known.join(', ')}` : '; the pattern declares no inputs';
    return {
      ok: false,
      code: 'E_UNKNOWN_VARIABLE',
      message: `\${${ref}} names no input${list}`,
      ...(suggestion ? { suggestion } : {}),
    };
  }
  let value = scope.values.get(root);
  for (const field of fields) {
    if (value !== null && typeof value === 'object' && Object.hasOwn(value, field)) {
      value = (value as Record<string, unknown>)[field];
      continue;
    }
    const keys = value !== null && typeof value === 'object' ? Object.keys(value) : [];
    const suggestion = nearestName(field, keys);
    return {
      ok: false,
      code: 'E_UNKNOWN_VARIABLE',
      message: `\${${ref}}: the value has no field "${field}"`,
      ...(suggestion ? { suggestion } : {}),
    };
  }
  return { ok: true, value };
}

/** Substitutes one string; returns the new value or pushes issues (and returns the string as is). */
function substituteString(
  value: string,
  scope: VariableScope,
  path: Array<string | number>,
  issues: VariableIssue[],
): unknown {
  const parts = parseTemplate(value);
  if (!Array.isArray(parts)) {
    issues.push({ path, code: 'E_VARIABLE_SYNTAX', message: parts.error });
    return value;
  }
  if (parts.length === 1 && 'ref' in parts[0]!) {
    const found = lookup(parts[0].ref, scope);
    if (found === 'deferred') return value;
    if (!found.ok) {
      issues.push({
        path,
        code: found.code,
        message: found.message,
        ...(found.suggestion ? { suggestion: found.suggestion } : {}),
      });
      return value;
    }
    // Inside a part substituted again later, strings of the value must not read as references.
    return laterPass(scope) ? escapeDeep(found.value) : structuredClone(found.value);
  }
  let out = '';
  for (const part of parts) {
    if ('text' in part) {
      // Escapes were decoded into text; a deferred reference elsewhere keeps the string for later, so re-escape.
      out += part.text.replaceAll('${', () => '$${');
      continue;
    }
    const found = lookup(part.ref, scope);
    if (found === 'deferred') {
      out += `\${${part.ref}}`;
      continue;
    }
    if (!found.ok) {
      issues.push({
        path,
        code: found.code,
        message: found.message,
        ...(found.suggestion ? { suggestion: found.suggestion } : {}),
      });
      continue;
    }
    const v = found.value;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      out += String(v).replaceAll('${', () => '$${');
    } else {
      const kind = v === null ? 'null' : Array.isArray(v) ? 'a list' : 'a mapping';
      issues.push({
        path,
        code: 'E_VARIABLE_NOT_SCALAR',
        message: `\${${part.ref}} is ${kind} and cannot be part of a longer string; write it alone as the whole value`,
      });
    }
  }
  return unescape(out, scope);
}

/** True inside a part of the tree that a later pass substitutes again (a split's task template). */
const laterPass = (scope: VariableScope): boolean => scope.deferred !== undefined && scope.deferred.size > 0;

/** Escapes are kept for the later pass; otherwise they become plain `${` text for good. */
function unescape(value: string, scope: VariableScope): string {
  return laterPass(scope) ? value : value.replaceAll('$${', () => '${');
}

function escapeDeep(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('${', () => '$${');
  if (Array.isArray(value)) return value.map(escapeDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeDeep(v)]));
  }
  return value;
}

/**
 * Substitutes every string value of `tree` (keys stay as written). `deferredUnder` names
 * sub-paths where more names are valid but substituted later (a split's loop variables).
 *
 * @example
 * ```ts
 * const issues: VariableIssue[] = [];
 * substitute({ k: '${n}', d: 'n is ${n}' }, { values: new Map([['n', 3]]) }, issues);
 * // { k: 3, d: 'n is 3' }
 * ```
 */
export function substitute(
  tree: unknown,
  scope: VariableScope,
  issues: VariableIssue[],
  deferredUnder: (path: ReadonlyArray<string | number>) => ReadonlySet<string> | undefined = () => undefined,
  path: Array<string | number> = [],
): unknown {
  const extra = deferredUnder(path);
  const here = extra ? { values: scope.values, deferred: new Set([...(scope.deferred ?? []), ...extra]) } : scope;
  if (typeof tree === 'string') return substituteString(tree, here, path, issues);
  if (Array.isArray(tree)) return tree.map((item, i) => substitute(item, here, issues, deferredUnder, [...path, i]));
  if (tree !== null && typeof tree === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(tree))
      out[key] = substitute(value, here, issues, deferredUnder, [...path, key]);
    return out;
  }
  return tree;
}
