import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { checkPatternSource, type PatternCheckOptions, type PatternReport } from '../check-pattern.js';
import type { InputDecl } from '../format/pattern.js';
import { PatternLibrary } from '../load/library.js';
import { parseCliValue } from '../load/inputs.js';
import { parsePatternSource, type PatternSource } from '../load/source.js';
import { formatProblem, problem, type PatternProblem } from '../problems/problems.js';
import { nearestName } from '../problems/suggest.js';

/** Collects a repeatable commander option (`--set a=1 --set b=2`). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Reads a file, or a built-in pattern by name; undefined when neither exists. */
export function readPatternArg(arg: string, library: PatternLibrary): PatternSource | undefined {
  const read = readPatternFile(arg, library);
  return 'source' in read ? read.source : undefined;
}

/**
 * A file, or a built-in pattern by name (a file of that path wins), or the problem that says why
 * there is neither: no such file or name (with the nearest built-in name), or a file that cannot
 * be read. What the file holds is judged later, by the checks.
 */
export function readPatternFile(
  arg: string,
  library: PatternLibrary,
): { source: PatternSource } | { problem: PatternProblem } {
  const at = { file: arg, line: 0, column: 0, path: '' };
  if (existsSync(arg)) {
    try {
      return { source: parsePatternSource(readFileSync(arg, 'utf8'), arg) };
    } catch (error) {
      return { problem: problem('E_FILE_UNREADABLE', at, `cannot read the file: ${(error as Error).message}`) };
    }
  }
  const builtIn = library.get(arg);
  if (builtIn) return { source: { ...builtIn, file: relative(process.cwd(), builtIn.file) } };
  const hint = nearestName(arg, library.names());
  return {
    problem: problem(
      'E_FILE_NOT_FOUND',
      at,
      'no file has this path and no built-in pattern this name',
      hint ?? undefined,
    ),
  };
}

/** `key=value` pairs read by the declared type of each input (see `parseCliValue`). */
export function parseSets(sets: string[], source: PatternSource): Record<string, unknown> {
  const decls = ((source.data as { inputs?: Record<string, InputDecl> } | undefined)?.inputs ?? {}) as Record<
    string,
    InputDecl
  >;
  const values: Record<string, unknown> = {};
  for (const set of sets) {
    const eq = set.indexOf('=');
    if (eq <= 0) throw new Error(`--set expects key=value, got "${set}"`);
    const key = set.slice(0, eq);
    values[key] = parseCliValue(set.slice(eq + 1), decls[key]);
  }
  return values;
}

/**
 * Loads and checks the pattern a command names, printing its problems; returns the report
 * (with the compiled pattern when it is valid) or null when the name is unknown.
 */
export function loadForCommand(
  arg: string,
  sets: string[],
  print: (line: string) => void,
  options: PatternCheckOptions = {},
): PatternReport | null {
  const library = PatternLibrary.builtIn();
  const source = readPatternArg(arg, library);
  if (!source) {
    const hint = nearestName(arg, library.names());
    print(`no pattern file or built-in pattern named "${arg}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
    return null;
  }
  const report = checkPatternSource(source, {
    ...options,
    library,
    values: parseSets(sets, source),
    requireInputs: true,
  });
  for (const p of report.problems) print(formatProblem(p));
  return report;
}
