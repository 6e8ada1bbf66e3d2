import { TroupeError } from '../../../core/errors.js';

/**
 * Every problem a pattern file can have, with a stable code. Codes starting `E_` are errors (the
 * pattern cannot run); `W_` codes are warnings (it runs, but probably not as meant).
 */
export const PATTERN_PROBLEM_CODES = {
  E_FILE_NOT_FOUND: 'No file has that path and no built-in pattern that name.',
  E_FILE_UNREADABLE: 'The file exists but cannot be read (a folder, no permission, ...).',
  E_YAML_SYNTAX: 'The file is not valid YAML.',
  E_DUPLICATE_KEY: 'A mapping names the same key twice.',
  E_NOT_A_MAPPING: 'The document (or a part that must be a mapping) is not a mapping.',
  E_UNKNOWN_KEY: 'A key the format does not know; usually a misspelling (the nearest valid key is suggested).',
  E_MISSING_KEY: 'A required key is absent.',
  E_WRONG_TYPE: 'A value has the wrong type (a string where a number is expected, ...).',
  E_BAD_VALUE: 'A value is not one of the allowed ones or does not have the required form.',
  E_OUT_OF_RANGE: 'A number or list is too small or too large.',
  E_BAD_DURATION: 'A duration is not a whole number of ms or a number with ms, s, m, h or d.',
  E_STEP_KIND_MISSING: 'A step names no kind (task, split, join, ...).',
  E_STEP_KIND_AMBIGUOUS: 'A step names more than one kind.',
  E_DUPLICATE_STEP_ID: 'Two steps (or stages) share an id.',
  E_RESERVED_STEP_ID: 'A step id is a word the format reserves (end, fail, continue, ...).',
  E_UNKNOWN_STEP: 'A reference names no step of the pattern.',
  E_NOT_JOINABLE: 'A join, sync point or merge refers to a step that produces nothing to wait for.',
  E_REF_NOT_BEFORE: 'A step refers to a step that does not always run before it.',
  E_DEPENDENCY_CYCLE: 'Steps depend on each other in a cycle.',
  E_FLOW_CYCLE: 'The flow from step to step loops back (repeat work with a review step instead).',
  E_UNREACHABLE_STEP: 'No path through the pattern reaches the step.',
  E_WAIT_NO_EXIT: 'A step waits with neither a timeout nor another way out.',
  E_JOIN_IMPOSSIBLE: 'A join can never be met with the tasks it joins.',
  E_SYNC_IMPOSSIBLE: 'A sync point can never be met with the tasks it waits for.',
  E_UNKNOWN_ARTIFACT: 'A pipeline stage consumes an artifact no earlier stage hands off.',
  E_RULE_TARGET: 'A routing rule with decision `branch` has no `to`, or another decision has one.',
  E_UNKNOWN_VARIABLE: 'A `${var}` names no input (or loop variable) in scope.',
  E_VARIABLE_SYNTAX: 'A `${` is not closed, or its name is not a valid name.',
  E_VARIABLE_NOT_SCALAR: 'A list or mapping is interpolated into a longer string.',
  E_INPUT_DEFAULT: 'An input default does not have the declared type.',
  E_INPUT_TYPE: 'An input value does not have the declared type.',
  E_INPUT_UNKNOWN: 'A value is given for an input the pattern does not declare.',
  E_INPUT_MISSING: 'A required input (one without default) has no value.',
  E_UNKNOWN_PATTERN: 'A `use:` names a pattern that is not known.',
  E_USE_CYCLE: 'Patterns use each other in a cycle.',
  E_UNKNOWN_MERGE: 'A custom merge names a function that is not registered.',
  W_CAPABILITY_UNOFFERED: 'A step requires a capability that no registered agent offers.',
  W_SPLIT_NOT_JOINED: 'A split is never joined, synced or merged; the pattern may finish before its children.',
  W_TIMEOUT_TARGET_UNUSED: 'A step says where to go on timeout but sets no timeout.',
  W_ROUTE_UNREACHABLE: 'A routing rule can never be the chosen one.',
  W_NEED_POLICY_UNUSED: 'A `needs` failure policy never applies: the needed step failing fails the pattern.',
} as const;

/** A stable code of a pattern problem (`PATTERN_PROBLEM_CODES`, docs/patterns.md). */
export type PatternProblemCode = keyof typeof PATTERN_PROBLEM_CODES;

/** Where in which file a problem is, and where in the document (`steps[2].join.strategy`). */
export interface ProblemLocation {
  file: string;
  /** 1-based; 0 when the problem belongs to no particular place in a file. */
  line: number;
  /** 1-based. */
  column: number;
  path: string;
}

/** One thing wrong with a pattern: what, where, what was expected, and a suggestion if any. */
export interface PatternProblem extends ProblemLocation {
  code: PatternProblemCode;
  severity: 'error' | 'warning';
  message: string;
  /** The nearest valid name for a misspelt key or reference. */
  suggestion?: string;
}

export const NOWHERE: ProblemLocation = { file: '', line: 0, column: 0, path: '' };

/** Builds a problem; the severity follows from the code's prefix. */
export function problem(
  code: PatternProblemCode,
  at: ProblemLocation,
  message: string,
  suggestion?: string,
): PatternProblem {
  // Read field by field: a location may compute its fields on demand (getters are not spread).
  const p: PatternProblem = {
    code,
    severity: code.startsWith('W_') ? 'warning' : 'error',
    message,
    file: at.file,
    line: at.line,
    column: at.column,
    path: at.path,
  };
  if (suggestion !== undefined) p.suggestion = suggestion;
  return p;
}

export const isError = (p: PatternProblem): boolean => p.severity === 'error';

/**
 * One line per problem, like a compiler: `file:3:7 error E_BAD_VALUE steps[2].join.strategy: ...`.
 *
 * @example
 * ```ts
 * for (const p of result.problems) console.error(formatProblem(p));
 * ```
 */
export function formatProblem(p: PatternProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file || '(pattern)';
  const path = p.path ? ` ${p.path}:` : '';
  const hint = p.suggestion !== undefined ? ` (did you mean "${p.suggestion}"?)` : '';
  return `${where} ${p.severity} ${p.code}${path} ${p.message}${hint}`;
}

/** Sorts problems by file, line and column so reports read top to bottom. */
export function sortProblems(problems: PatternProblem[]): PatternProblem[] {
  return [...problems].sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.code.localeCompare(b.code),
  );
}

/**
 * Thrown by the APIs that need a valid pattern (apply, compile from text) when it is not one.
 * Carries every problem found, not only the first.
 *
 * @example
 * ```ts
 * try { runtime.patterns.load(text, 'mine.yaml'); }
 * catch (e) { if (e instanceof PatternValidationError) e.problems.forEach((p) => console.error(formatProblem(p))); }
 * ```
 */
export class PatternValidationError extends TroupeError {
  readonly problems: PatternProblem[];

  constructor(problems: PatternProblem[]) {
    const errors = problems.filter(isError);
    const first = errors[0];
    const summary = first ? formatProblem(first) : 'the pattern is not valid';
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    super('E_INVALID_INPUT', `${summary}${more}`, { details: { problems } });
    this.name = 'PatternValidationError';
    this.problems = problems;
  }
}
