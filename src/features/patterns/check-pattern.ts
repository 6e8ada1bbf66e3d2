import { checkCompiled } from './checks/check-compiled.js';
import { compilePattern, type CompiledPattern } from './compile/compile.js';
import type { Pattern } from './format/pattern.js';
import { PatternLibrary } from './load/library.js';
import { checkReferences } from './load/references.js';
import { resolvePattern } from './load/resolve.js';
import { locate, parsePatternSource, type PatternSource } from './load/source.js';
import { isError, problem, sortProblems, type PatternProblem } from './problems/problems.js';

/** Options of `checkPatternText` and `checkPatternSource`: the library `use:` reads from, input values, and how strict to be. */
export interface PatternCheckOptions {
  /** Where `use:` finds other patterns; the source itself is added to it. Default: the built-ins. */
  library?: PatternLibrary;
  /** Input values. Required inputs without a value get stand-ins unless `requireInputs`. */
  values?: Record<string, unknown>;
  /** Report required inputs without a value as errors instead of checking with stand-ins. */
  requireInputs?: boolean;
  /** Capabilities of each registered agent, for the capability warning. */
  agents?: ReadonlyArray<ReadonlyArray<string>>;
  /** Names of the registered custom merge functions; unchecked when absent. */
  mergeFunctions?: ReadonlySet<string>;
}

/** Everything known about one pattern file after checking it. */
export interface PatternReport {
  file: string;
  /** Every problem found, sorted by position; errors and warnings. */
  problems: PatternProblem[];
  ok: boolean;
  pattern?: Pattern;
  compiled?: CompiledPattern;
}

/**
 * Checks a pattern file completely: YAML, schema, variables, inputs, references, `use:`
 * cycles, then compiles it and runs the static checks on the statechart. Problems of one stage
 * are all collected before the next stage is given up on (a pattern that does not pass the
 * schema is not compiled).
 *
 * @example
 * ```ts
 * const report = checkPatternText(readFileSync('p.yaml', 'utf8'), 'p.yaml');
 * if (!report.ok) for (const p of report.problems) console.error(formatProblem(p));
 * ```
 */
export function checkPatternText(text: string, file: string, options: PatternCheckOptions = {}): PatternReport {
  return checkPatternSource(parsePatternSource(text, file), options);
}

/**
 * `checkPatternText` for a source already parsed (a file of a library, a built-in).
 *
 * @example
 * ```ts
 * const report = checkPatternSource(PatternLibrary.builtIn().get('fork_join')!, { values: { required: 3 } });
 * ```
 */
export function checkPatternSource(source: PatternSource, options: PatternCheckOptions = {}): PatternReport {
  const library = (options.library ?? PatternLibrary.builtIn()).clone();
  library.addSource(source);
  const resolved = resolvePattern(source, { values: options.values ?? {}, placeholders: !options.requireInputs });
  const problems = [...resolved.problems];
  for (const issue of resolved.inputIssues) {
    const at = { ...locate(source, ['inputs', issue.name]), path: `inputs.${issue.name}` };
    problems.push(
      problem(
        issue.code,
        issue.code === 'E_INPUT_UNKNOWN' ? { ...at, line: 0, column: 0 } : at,
        issue.message,
        issue.suggestion,
      ),
    );
  }
  const name = (source.data as { name?: unknown } | undefined)?.name;
  const cycle = typeof name === 'string' ? library.useCycle(name) : undefined;
  if (cycle) {
    const steps = (source.data as { steps?: unknown[] }).steps ?? [];
    const index = steps.findIndex((s) => (s as { use?: unknown } | null)?.use === cycle[1]);
    problems.push(
      problem(
        'E_USE_CYCLE',
        locate(source, ['steps', Math.max(0, index), 'use']),
        `patterns use each other in a cycle: ${cycle.join(' → ')}`,
      ),
    );
  }
  const report = (extra: Partial<PatternReport> = {}): PatternReport => {
    const sorted = sortProblems(problems);
    return { file: source.file, problems: sorted, ok: !sorted.some(isError), ...extra };
  };
  const pattern = resolved.pattern;
  if (!pattern) return report();
  const refContext = {
    patterns: library.names(),
    ...(options.mergeFunctions ? { mergeFunctions: options.mergeFunctions } : {}),
  };
  problems.push(...checkReferences(pattern, source, refContext));
  if (problems.some(isError)) return report({ pattern });
  const compiled = compilePattern(pattern, source, { library, placeholders: resolved.placeholders });
  problems.push(...compiled.problems);
  if (problems.some(isError)) return report({ pattern });
  problems.push(...checkCompiled(compiled, options.agents ? { agents: options.agents } : {}));
  return report({ pattern, compiled });
}
