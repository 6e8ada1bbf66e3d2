import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPatternText } from '../src/features/patterns/check-pattern.js';
import { PatternLibrary } from '../src/features/patterns/load/library.js';
import {
  formatProblem,
  PATTERN_PROBLEM_CODES,
  type PatternProblemCode,
} from '../src/features/patterns/problems/problems.js';

/**
 * One bad pattern file per kind of problem: each must be reported with its exact code, line,
 * column and path in the document (and, for misspellings, the nearest valid name).
 */
const DIR = 'test/fixtures/patterns/bad';

interface Expected {
  file: string;
  code: PatternProblemCode;
  line: number;
  column: number;
  path: string;
  suggestion?: string;
  /** A word the message must contain (what was expected, or what was wrong). */
  says: string;
}

const CASES: Expected[] = [
  { file: 'yaml-syntax.yaml', code: 'E_YAML_SYNTAX', line: 5, column: 1, path: '', says: 'not valid YAML' },
  {
    file: 'duplicate-key.yaml',
    code: 'E_DUPLICATE_KEY',
    line: 6,
    column: 7,
    path: 'steps[0].task.type',
    says: '"type" is given twice',
  },
  { file: 'not-a-mapping.yaml', code: 'E_NOT_A_MAPPING', line: 1, column: 1, path: '', says: 'a mapping with name' },
  {
    file: 'unknown-key.yaml',
    code: 'E_UNKNOWN_KEY',
    line: 4,
    column: 5,
    path: 'steps[0].descripton',
    suggestion: 'description',
    says: 'expected one of: id, description',
  },
  {
    file: 'missing-key.yaml',
    code: 'E_MISSING_KEY',
    line: 5,
    column: 7,
    path: 'steps[0].task',
    says: 'missing required key "type"',
  },
  {
    file: 'wrong-type.yaml',
    code: 'E_WRONG_TYPE',
    line: 7,
    column: 19,
    path: 'steps[0].review.max_rounds',
    says: 'expected a number, got the string "three"',
  },
  {
    file: 'bad-enum.yaml',
    code: 'E_BAD_VALUE',
    line: 10,
    column: 17,
    path: 'steps[1].join.strategy',
    suggestion: 'majority',
    says: 'expected one of all, any, majority, k_of_n',
  },
  {
    file: 'out-of-range.yaml',
    code: 'E_OUT_OF_RANGE',
    line: 5,
    column: 15,
    path: 'steps[0].vote.voters',
    says: 'expected at least 1, got 0',
  },
  {
    file: 'bad-duration.yaml',
    code: 'E_BAD_DURATION',
    line: 4,
    column: 14,
    path: 'steps[0].timeout',
    says: '500ms, 30s, 5m, 2h or 1d',
  },
  {
    file: 'kind-missing.yaml',
    code: 'E_STEP_KIND_MISSING',
    line: 4,
    column: 5,
    path: 'steps[0].tsk',
    suggestion: 'task',
    says: 'expected one of: task, split',
  },
  {
    file: 'kind-ambiguous.yaml',
    code: 'E_STEP_KIND_AMBIGUOUS',
    line: 5,
    column: 5,
    path: 'steps[0].split',
    says: '2 kinds (task, split)',
  },
  {
    file: 'duplicate-step-id.yaml',
    code: 'E_DUPLICATE_STEP_ID',
    line: 5,
    column: 9,
    path: 'steps[1].id',
    says: 'already has id "build"',
  },
  {
    file: 'reserved-step-id.yaml',
    code: 'E_RESERVED_STEP_ID',
    line: 3,
    column: 9,
    path: 'steps[0].id',
    says: '"end" is reserved',
  },
  {
    file: 'unknown-step.yaml',
    code: 'E_UNKNOWN_STEP',
    line: 9,
    column: 14,
    path: 'steps[1].join.from[0]',
    suggestion: 'implement',
    says: 'no step has id "implment"',
  },
  {
    file: 'not-joinable.yaml',
    code: 'E_NOT_JOINABLE',
    line: 11,
    column: 13,
    path: 'steps[2].join.from',
    says: 'needs a task or split step',
  },
  {
    file: 'ref-not-before.yaml',
    code: 'E_REF_NOT_BEFORE',
    line: 5,
    column: 13,
    path: 'steps[0].join.from',
    says: 'runs after this step',
  },
  {
    file: 'dependency-cycle.yaml',
    code: 'E_DEPENDENCY_CYCLE',
    line: 4,
    column: 13,
    path: 'steps[0].needs[0]',
    says: 'design → build → design',
  },
  { file: 'flow-cycle.yaml', code: 'E_FLOW_CYCLE', line: 3, column: 5, path: 'steps[0]', says: 'build → test → build' },
  {
    file: 'unreachable-step.yaml',
    code: 'E_UNREACHABLE_STEP',
    line: 6,
    column: 5,
    path: 'steps[1]',
    says: 'no path reaches step "forgotten"',
  },
  {
    file: 'wait-no-exit.yaml',
    code: 'E_WAIT_NO_EXIT',
    line: 5,
    column: 5,
    path: 'steps[1]',
    says: 'neither a timeout nor another way out',
  },
  {
    file: 'join-impossible.yaml',
    code: 'E_JOIN_IMPOSSIBLE',
    line: 7,
    column: 5,
    path: 'steps[1]',
    says: 'k = 5) can never be met: it joins 3 tasks',
  },
  {
    file: 'sync-impossible.yaml',
    code: 'E_SYNC_IMPOSSIBLE',
    line: 8,
    column: 5,
    path: 'steps[1]',
    says: 'requires 4 tasks but waits for only 2',
  },
  {
    file: 'unknown-artifact.yaml',
    code: 'E_UNKNOWN_ARTIFACT',
    line: 11,
    column: 22,
    path: 'steps[0].pipeline.stages[1].consumes[0]',
    suggestion: 'raw_data',
    says: 'no earlier stage hands off "raw_date"',
  },
  {
    file: 'rule-target.yaml',
    code: 'E_RULE_TARGET',
    line: 8,
    column: 11,
    path: 'steps[1].branch.rules[0]',
    says: 'decision branch needs to',
  },
  {
    file: 'unknown-variable.yaml',
    code: 'E_UNKNOWN_VARIABLE',
    line: 7,
    column: 13,
    path: 'steps[0].split.over',
    suggestion: 'modules',
    says: '${modles} names no input',
  },
  {
    file: 'variable-syntax.yaml',
    code: 'E_VARIABLE_SYNTAX',
    line: 8,
    column: 20,
    path: 'steps[0].task.description',
    says: 'is not closed',
  },
  {
    file: 'variable-not-scalar.yaml',
    code: 'E_VARIABLE_NOT_SCALAR',
    line: 8,
    column: 20,
    path: 'steps[0].task.description',
    says: 'is a list and cannot be part of a longer string',
  },
  {
    file: 'input-default.yaml',
    code: 'E_INPUT_DEFAULT',
    line: 5,
    column: 14,
    path: 'inputs.rounds.default',
    says: 'expected an integer, got the string "two"',
  },
  {
    file: 'unknown-pattern.yaml',
    code: 'E_UNKNOWN_PATTERN',
    line: 4,
    column: 10,
    path: 'steps[0].use',
    suggestion: 'primary_with_reviewers',
    says: 'no pattern is named',
  },
  {
    file: 'use-cycle-a.yaml',
    code: 'E_USE_CYCLE',
    line: 6,
    column: 10,
    path: 'steps[1].use',
    says: 'use_cycle_a → use_cycle_b → use_cycle_a',
  },
  {
    file: 'unknown-merge.yaml',
    code: 'E_UNKNOWN_MERGE',
    line: 11,
    column: 17,
    path: 'steps[1].merge.function',
    suggestion: 'pick_best',
    says: 'no merge function "pick_bestt"',
  },
  {
    file: 'input-type.yaml',
    code: 'E_INPUT_TYPE',
    line: 6,
    column: 19,
    path: 'steps[0].with.max_rounds',
    says: 'expected an integer, got the string "many"',
  },
  {
    file: 'input-unknown.yaml',
    code: 'E_INPUT_UNKNOWN',
    line: 6,
    column: 7,
    path: 'steps[0].with.max_round',
    suggestion: 'max_rounds',
    says: 'has no input "max_round"',
  },
  {
    file: 'capability-unoffered.yaml',
    code: 'W_CAPABILITY_UNOFFERED',
    line: 3,
    column: 5,
    path: 'steps[0]',
    says: 'no agent offers rust',
  },
  {
    file: 'split-not-joined.yaml',
    code: 'W_SPLIT_NOT_JOINED',
    line: 3,
    column: 5,
    path: 'steps[0]',
    says: 'children of split "fire_and_forget"',
  },
  {
    file: 'timeout-target-unused.yaml',
    code: 'W_TIMEOUT_TARGET_UNUSED',
    line: 4,
    column: 5,
    path: 'steps[0].on_timeout',
    says: 'no timeout',
  },
  {
    file: 'need-policy-unused.yaml',
    code: 'W_NEED_POLICY_UNUSED',
    line: 6,
    column: 40,
    path: 'steps[1].needs[0].on_failure',
    says: 'when step "fetch" fails the pattern fails',
  },
  {
    file: 'need-policy-no-tasks.yaml',
    code: 'E_BAD_VALUE',
    line: 10,
    column: 49,
    path: 'steps[2].needs[1].on_failure',
    says: 'makes no tasks',
  },
  {
    file: 'need-unknown-step.yaml',
    code: 'E_UNKNOWN_STEP',
    line: 7,
    column: 21,
    path: 'steps[1].needs[0].step',
    suggestion: 'fetch',
    says: 'no step has id "fecth"',
  },
  {
    file: 'route-unreachable.yaml',
    code: 'W_ROUTE_UNREACHABLE',
    line: 12,
    column: 11,
    path: 'steps[1].branch.rules[1]',
    says: 'rule 1 (score > 9) is never chosen',
  },
];

function library(): PatternLibrary {
  const lib = PatternLibrary.builtIn();
  for (const file of readdirSync(DIR)) lib.add(readFileSync(join(DIR, file), 'utf8'), join(DIR, file));
  return lib;
}

function check(file: string) {
  const path = join(DIR, file);
  return checkPatternText(readFileSync(path, 'utf8'), path, {
    library: library(),
    agents: [['python'], ['review']],
    mergeFunctions: new Set(['pick_best']),
  });
}

describe('bad pattern files', () => {
  it('cover at least 25 kinds of error and every warning', () => {
    const errors = new Set(CASES.filter((c) => c.code.startsWith('E_')).map((c) => c.code));
    expect(errors.size).toBeGreaterThanOrEqual(25);
    const warnings = Object.keys(PATTERN_PROBLEM_CODES).filter((c) => c.startsWith('W_'));
    expect(warnings.filter((w) => !CASES.some((c) => c.code === w))).toEqual([]);
  });

  it.each(CASES)('$file: $code at $line:$column, $path', (expected) => {
    const report = check(expected.file);
    expect(report.problems).toHaveLength(1);
    const p = report.problems[0]!;
    expect({ code: p.code, line: p.line, column: p.column, path: p.path, file: p.file }).toEqual({
      code: expected.code,
      line: expected.line,
      column: expected.column,
      path: expected.path,
      file: join(DIR, expected.file),
    });
    expect(p.message).toContain(expected.says);
    expect(p.suggestion).toBe(expected.suggestion);
    expect(report.ok).toBe(expected.code.startsWith('W_'));
  });

  it('reports every problem of a file at once, in document order', () => {
    const report = check('many-errors.yaml');
    expect(report.problems.map((p) => [p.code, p.line, p.column, p.path, p.suggestion])).toEqual([
      ['E_UNKNOWN_KEY', 6, 5, 'steps[0].tmeout', 'timeout'],
      ['E_UNKNOWN_VARIABLE', 7, 39, 'steps[0].task.description', 'modules'],
      ['E_BAD_VALUE', 11, 17, 'steps[1].join.strategy', undefined],
      ['E_OUT_OF_RANGE', 14, 15, 'steps[2].vote.voters', undefined],
    ]);
  });

  it('reports both rules a split breaks', () => {
    const report = check('split-forms.yaml');
    expect(report.problems.map((p) => [p.code, p.path])).toEqual([
      ['E_BAD_VALUE', 'steps[0].split'],
      ['E_BAD_VALUE', 'steps[0].split.task'],
    ]);
  });

  it('hints at quoting when a ${var} breaks a flow mapping', () => {
    const [first] = check('unquoted-flow-variable.yaml').problems;
    expect(first).toMatchObject({ code: 'E_YAML_SYNTAX', line: 6, column: 46, path: 'steps[0].task.description' });
    expect(first?.message).toContain('quote a value that holds ${...}');
  });

  it('reports a use cycle in each file of the cycle', () => {
    const report = check('use-cycle-b.yaml');
    expect(report.problems.map((p) => [p.code, p.line, p.column])).toEqual([['E_USE_CYCLE', 4, 10]]);
  });

  it('formats a problem as file:line:column severity code path: message (suggestion)', () => {
    const [p] = check('bad-enum.yaml').problems;
    expect(formatProblem(p!)).toBe(
      `${join(DIR, 'bad-enum.yaml')}:10:17 error E_BAD_VALUE steps[1].join.strategy: expected one of all, any, majority, k_of_n; got the string "majorty" (did you mean "majority"?)`,
    );
  });
});
