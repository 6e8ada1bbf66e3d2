import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { formatPath, locate, parsePatternSource, type PatternSource } from '../../features/patterns/load/source.js';
import { readConfigEnv } from './config-env.js';
import { configSchema, type TroupeConfig } from './config-schema.js';

/** One thing wrong with a configuration, and where it was written. */
export interface ConfigProblem {
  /** `troupe.yaml:12:5`, an environment variable's name, or a command-line flag. */
  where: string;
  /** The path in the configuration, `retention.finished`. */
  path: string;
  message: string;
}

export type ConfigResult = { ok: true; config: TroupeConfig } | { ok: false; problems: ConfigProblem[] };

export interface LoadConfigOptions {
  /** A YAML file; without one, only the environment, the overrides and the defaults. */
  file?: string;
  /** Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Values given otherwise (command-line flags), by path, with the name to report them under; they win over the rest. */
  overrides?: Array<{ name: string; path: readonly string[]; value: unknown }>;
}

/** `troupe.yaml:12:5 retention.finished: a duration is ...` */
export function formatConfigProblem(p: ConfigProblem): string {
  return `${p.where} ${p.path || '(root)'}: ${p.message}`;
}

/**
 * Reads and checks a configuration: the file (YAML, with positions kept), then the environment
 * (`TROUPE_...`), then the overrides, validated whole with zod. Every problem is reported, each
 * with where it was written (file:line:column as pattern errors are, or the variable or flag).
 */
export function loadConfig(options: LoadConfigOptions = {}): ConfigResult {
  const problems: ConfigProblem[] = [];
  let data: Record<string, unknown> = {};
  let source: PatternSource | undefined;
  if (options.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (error) {
      return {
        ok: false,
        problems: [{ where: options.file, path: '', message: `cannot read the file: ${(error as Error).message}` }],
      };
    }
    source = parsePatternSource(text, options.file);
    for (const p of source.problems)
      problems.push({ where: `${p.file}:${p.line}:${p.column}`, path: p.path, message: p.message });
    if (problems.length > 0) return { ok: false, problems };
    if (source.data === undefined || source.data === null) data = {};
    else if (typeof source.data === 'object' && !Array.isArray(source.data))
      data = structuredClone(source.data) as Record<string, unknown>;
    else
      return {
        ok: false,
        problems: [
          {
            where: `${options.file}:1:1`,
            path: '',
            message: 'the configuration must be a mapping of sections (server, store, tokens, limits, retention, log)',
          },
        ],
      };
  }
  // Who set each path last: reported instead of the file when the value came from elsewhere.
  const setBy: Array<{ name: string; path: readonly string[] }> = [];
  for (const entry of [...readConfigEnv(options.env ?? process.env), ...(options.overrides ?? [])]) {
    setPath(data, entry.path, entry.value);
    setBy.push(entry);
  }
  const parsed = configSchema.safeParse(data);
  if (parsed.success) return { ok: true, config: parsed.data };
  for (const issue of parsed.error.issues) problems.push(...problemsOf(issue, source, setBy, options.file));
  return { ok: false, problems };
}

function problemsOf(
  issue: z.core.$ZodIssue,
  source: PatternSource | undefined,
  setBy: ReadonlyArray<{ name: string; path: readonly string[] }>,
  file: string | undefined,
): ConfigProblem[] {
  const path = issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s));
  const where = (at: ReadonlyArray<string | number>, which: 'value' | 'key') => {
    // The deepest override that covers the path names where the value came from.
    const latest = [...setBy].reverse();
    const covering = latest.find((s) => s.path.every((segment, i) => String(at[i]) === segment));
    if (covering !== undefined) return covering.name;
    // A value set inside the failing node (a union or a section reports the problem above it).
    const inside = latest.filter(
      (s) => s.path.length > at.length && at.every((segment, i) => String(segment) === s.path[i]),
    );
    if (inside.length > 0) return inside.map((s) => s.name).join(', ');
    if (source === undefined) return file ?? '(defaults)';
    const at2 = locate(source, at, which);
    return `${at2.file}:${at2.line}:${at2.column}`;
  };
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      where: where([...path, key], 'key'),
      path: formatPath([...path, key]),
      message: 'not an option this Troupe knows',
    }));
  }
  return [{ where: where(path, 'value'), path: formatPath(path), message: issue.message }];
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}
