import { parse as parseYaml } from 'yaml';
import type { InputDecl, InputType } from '../format/pattern.js';
import { nearestName } from '../problems/suggest.js';

/** Why a value does not fit a declared input, or null when it fits. */
export function inputTypeError(decl: InputDecl, value: unknown): string | null {
  const typeError = typeMismatch(decl.type, value);
  if (typeError) return typeError;
  if (decl.type === 'list' && decl.items !== undefined) {
    const list = value as unknown[];
    for (let i = 0; i < list.length; i++) {
      const itemError = typeMismatch(decl.items, list[i]);
      if (itemError) return `item ${i}: ${itemError}`;
    }
  }
  const size =
    typeof value === 'number' ? value : typeof value === 'string' || Array.isArray(value) ? value.length : null;
  const what = typeof value === 'number' ? 'the value' : 'the length';
  if (size !== null && decl.min !== undefined && size < decl.min)
    return `${what} ${size} is below the least allowed, ${decl.min}`;
  if (size !== null && decl.max !== undefined && size > decl.max)
    return `${what} ${size} is above the most allowed, ${decl.max}`;
  return null;
}

function typeMismatch(type: InputType | NonNullable<InputDecl['items']>, value: unknown): string | null {
  const ok =
    type === 'string'
      ? typeof value === 'string'
      : type === 'number'
        ? typeof value === 'number' && Number.isFinite(value)
        : type === 'integer'
          ? Number.isInteger(value)
          : type === 'boolean'
            ? typeof value === 'boolean'
            : type === 'list'
              ? Array.isArray(value)
              : value !== null && typeof value === 'object' && !Array.isArray(value);
  return ok ? null : `expected ${article(type)}, got ${describeValue(value)}`;
}

const article = (type: string): string =>
  type === 'integer' ? 'an integer' : type === 'object' ? 'a mapping' : `a ${type}`;

/** A short description of a value for messages: `the string "majorty"`, `a list of 3`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${String(value)}`;
}

/** A stand-in used to check a pattern whose required inputs have no value yet. */
export function placeholderFor(name: string, decl: InputDecl): unknown {
  switch (decl.type) {
    case 'string':
      return `<${name}>`;
    case 'number':
    case 'integer':
      return Math.max(1, decl.min ?? 1);
    case 'boolean':
      return false;
    case 'list':
      return [];
    case 'object':
      return {};
  }
}

export interface InputResolution {
  values: Map<string, unknown>;
  /** Inputs that got a placeholder because no value was given (checking only). */
  placeholders: Set<string>;
  issues: Array<{
    name: string;
    code: 'E_INPUT_TYPE' | 'E_INPUT_UNKNOWN' | 'E_INPUT_MISSING';
    message: string;
    suggestion?: string;
  }>;
}

/**
 * The value of every declared input: the given one, else the default, else (with
 * `placeholders`) a stand-in of the declared type, else a missing-input issue.
 */
export function resolveInputs(
  decls: Record<string, InputDecl>,
  given: Record<string, unknown>,
  options: { placeholders?: boolean } = {},
): InputResolution {
  const out: InputResolution = { values: new Map(), placeholders: new Set(), issues: [] };
  for (const name of Object.keys(given)) {
    if (Object.hasOwn(decls, name)) continue;
    const suggestion = nearestName(name, Object.keys(decls));
    out.issues.push({
      name,
      code: 'E_INPUT_UNKNOWN',
      message: `the pattern has no input "${name}"; its inputs are ${Object.keys(decls).join(', ') || 'none'}`,
      ...(suggestion ? { suggestion } : {}),
    });
  }
  for (const [name, decl] of Object.entries(decls)) {
    if (Object.hasOwn(given, name)) {
      const error = inputTypeError(decl, given[name]);
      if (error) out.issues.push({ name, code: 'E_INPUT_TYPE', message: `input ${name}: ${error}` });
      // A bad value is reported once, here; the pattern is checked on with a good one in its place.
      out.values.set(name, error ? (decl.default ?? placeholderFor(name, decl)) : given[name]);
    } else if (decl.default !== undefined) {
      out.values.set(name, decl.default);
    } else if (options.placeholders) {
      out.values.set(name, placeholderFor(name, decl));
      out.placeholders.add(name);
    } else {
      out.issues.push({
        name,
        code: 'E_INPUT_MISSING',
        message: `input ${name} (${decl.type}) has no default and no value was given`,
      });
    }
  }
  return out;
}

/**
 * Reads a command-line value (`--set key=value`) by the input's declared type: strings are
 * taken as written, numbers and booleans are parsed, lists and mappings are read as YAML flow
 * (`[a, b]`, `{x: 1}`). Returns the text itself when it does not parse, for the type check to report.
 */
export function parseCliValue(text: string, decl: InputDecl | undefined): unknown {
  if (!decl || decl.type === 'string') return text;
  if (decl.type === 'number' || decl.type === 'integer')
    return text.trim() === '' || Number.isNaN(Number(text)) ? text : Number(text);
  if (decl.type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  try {
    return parseYaml(text) as unknown;
  } catch {
    return text;
  }
}
