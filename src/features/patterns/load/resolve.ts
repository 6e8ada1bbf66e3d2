import { inputDeclSchema, patternHeadSchema, type InputDecl, type Pattern } from '../format/pattern.js';
import { STEP_KINDS, STEP_SCHEMAS, type Step } from '../format/steps.js';
import { problem, type PatternProblem } from '../problems/problems.js';
import { nearestName } from '../problems/suggest.js';
import { inputTypeError, resolveInputs, type InputResolution } from './inputs.js';
import { locate, type PatternSource } from './source.js';
import { substitute, type VariableIssue } from './variables.js';
import { zodProblems } from './zod-problems.js';

/** Options of `resolvePattern`: input values and whether missing ones get stand-ins. */
export interface ResolveOptions {
  /** Input values; inputs without a value take their default. */
  values?: Record<string, unknown>;
  /** Give required inputs without a value a stand-in of their type (for checking alone). */
  placeholders?: boolean;
}

/** A resolved pattern (every `${var}` substituted) or the problems that stopped it. */
export interface Resolution {
  /** The pattern with every `${var}` substituted; absent when it has errors. */
  pattern?: Pattern;
  problems: PatternProblem[];
  /** Problems with the given input values (they belong to the caller, not to a place in the file). */
  inputIssues: InputResolution['issues'];
  /** Inputs that have a stand-in value, not a real one. */
  placeholders: Set<string>;
}

const isMapping = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Checks a parsed pattern file and substitutes its inputs. Every problem is collected, in the
 * head, the input declarations, the variables and each step, before anything is given up.
 *
 * @example
 * ```ts
 * const source = parsePatternSource(text, 'mine.yaml');
 * const { pattern, problems } = resolvePattern(source, { values: { modules: ['a', 'b'] } });
 * ```
 */
export function resolvePattern(source: PatternSource, options: ResolveOptions = {}): Resolution {
  const problems: PatternProblem[] = [...source.problems];
  const none: Resolution = { problems, inputIssues: [], placeholders: new Set() };
  if (source.data === undefined && problems.length > 0) return none;
  if (!isMapping(source.data)) {
    problems.push(
      problem(
        'E_NOT_A_MAPPING',
        locate(source, []),
        'a pattern file is a mapping with name, description, inputs and steps',
      ),
    );
    return none;
  }
  const data = source.data;
  const head = patternHeadSchema.safeParse(data, { reportInput: true });
  if (!head.success) problems.push(...zodProblems(head.error.issues, patternHeadSchema, [], source));

  const decls = inputDecls(data.inputs, source, problems);
  const inputs = resolveInputs(decls, options.values ?? {}, { placeholders: options.placeholders ?? false });
  const scope = { values: inputs.values };
  const issues: VariableIssue[] = [];
  const description =
    typeof data.description === 'string' ? substitute(data.description, scope, issues) : data.description;
  problems.push(...issues.splice(0).map((i) => variableProblem(source, ['description'], i)));

  const rawSteps = Array.isArray(data.steps) ? data.steps : [];
  const steps: unknown[] = rawSteps.map((raw, index) => {
    const resolved = substitute(raw, scope, issues, loopVariables(raw));
    const variableProblems = issues.splice(0).map((i) => variableProblem(source, ['steps', index], i));
    problems.push(...variableProblems);
    // A value left unsubstituted fails the schema too; that second report would only repeat the first.
    const echoed = new Set(variableProblems.map((p) => p.path));
    const stepProblems: PatternProblem[] = [];
    checkStep(resolved, index, source, stepProblems);
    problems.push(
      ...stepProblems.filter(
        (p) => ![...echoed].some((e) => p.path === e || p.path.startsWith(`${e}.`) || p.path.startsWith(`${e}[`)),
      ),
    );
    return resolved;
  });
  const result: Resolution = { problems, inputIssues: inputs.issues, placeholders: inputs.placeholders };
  if (problems.some((p) => p.severity === 'error') || !head.success) return result;
  const pattern: Pattern = { name: head.data.name, steps: steps as Step[] };
  if (description !== undefined) pattern.description = description as string;
  if (head.data.inputs !== undefined) pattern.inputs = head.data.inputs;
  result.pattern = pattern;
  return result;
}

/** Declarations that are valid, with defaults checked against their type. */
function inputDecls(raw: unknown, source: PatternSource, problems: PatternProblem[]): Record<string, InputDecl> {
  const out: Record<string, InputDecl> = {};
  if (!isMapping(raw)) return out;
  for (const [name, value] of Object.entries(raw)) {
    const parsed = inputDeclSchema.safeParse(value);
    if (!parsed.success) continue; // reported by the head check
    const decl = parsed.data;
    if (decl.default !== undefined) {
      const error = inputTypeError(decl, decl.default);
      if (error)
        problems.push(
          problem('E_INPUT_DEFAULT', locate(source, ['inputs', name, 'default']), `default of input ${name}: ${error}`),
        );
    }
    out[name] = decl;
  }
  return out;
}

/** Inside a split's task template the loop variables are valid and substituted per child later. */
function loopVariables(raw: unknown): (path: ReadonlyArray<string | number>) => ReadonlySet<string> | undefined {
  const split = isMapping(raw) && isMapping(raw.split) ? raw.split : undefined;
  if (!split) return () => undefined;
  const names = new Set([typeof split.as === 'string' ? split.as : 'item', 'index']);
  return (path) => (path.length === 2 && path[0] === 'split' && path[1] === 'task' ? names : undefined);
}

function variableProblem(source: PatternSource, base: Array<string | number>, issue: VariableIssue): PatternProblem {
  return problem(issue.code, locate(source, [...base, ...issue.path]), issue.message, issue.suggestion);
}

/** Validates one step against the schema of its kind (the one kind key it carries). */
function checkStep(step: unknown, index: number, source: PatternSource, problems: PatternProblem[]): void {
  const at = ['steps', index];
  if (!isMapping(step)) {
    problems.push(problem('E_NOT_A_MAPPING', locate(source, at), 'a step is a mapping with an id and one kind key'));
    return;
  }
  const kinds = STEP_KINDS.filter((k) => k in step);
  if (kinds.length === 0) {
    const misspelt = Object.keys(step)
      .map((key) => ({ key, kind: nearestName(key, STEP_KINDS) }))
      .find((c) => c.kind !== undefined);
    const where = misspelt ? locate(source, [...at, misspelt.key], 'key') : locate(source, at);
    problems.push(
      problem(
        'E_STEP_KIND_MISSING',
        where,
        `the step names no kind; expected one of: ${STEP_KINDS.join(', ')}`,
        misspelt?.kind,
      ),
    );
    return;
  }
  if (kinds.length > 1) {
    const second = kinds[1] as string;
    problems.push(
      problem(
        'E_STEP_KIND_AMBIGUOUS',
        locate(source, [...at, second], 'key'),
        `the step names ${kinds.length} kinds (${kinds.join(', ')}); a step has exactly one`,
      ),
    );
    return;
  }
  const schema = STEP_SCHEMAS[kinds[0]!];
  const parsed = schema.safeParse(step, { reportInput: true });
  if (!parsed.success) problems.push(...zodProblems(parsed.error.issues, schema, at, source));
}
