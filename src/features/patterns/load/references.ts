import { needStep, RESERVED_IDS, RESERVED_TARGETS } from '../format/common.js';
import type { Pattern } from '../format/pattern.js';
import { stepKind, type Step, type StepKind } from '../format/steps.js';
import { problem, type PatternProblem } from '../problems/problems.js';
import { nearestName } from '../problems/suggest.js';
import { locate, type DocPath, type PatternSource } from './source.js';

/** Kinds whose tasks a join or sync point can wait for. */
const JOINABLE: ReadonlySet<StepKind> = new Set(['task', 'split']);
/** Kinds that leave a result another step can read (merge, branch, split over a result). */
const WITH_RESULT: ReadonlySet<StepKind> = new Set(['task', 'split', 'join', 'merge', 'vote', 'review', 'pipeline']);

export interface ReferenceContext {
  /** Names of the patterns `use:` may name; unchecked when absent. */
  patterns?: ReadonlySet<string>;
  /** Names of the custom merge functions registered; unchecked when absent. */
  mergeFunctions?: ReadonlySet<string>;
}

/** A reference from one step to another step, with where it is written and what it needs. */
export interface StepReference {
  from: number;
  path: DocPath;
  to: string;
  /** `target`: where the flow goes; `data`: a step whose work or result is used. */
  role: 'target' | 'data';
  accepts?: ReadonlySet<StepKind>;
}

/** Every reference a step makes, in document order. */
export function stepReferences(step: Step, index: number): StepReference[] {
  const at = (...p: Array<string | number>): DocPath => ['steps', index, ...p];
  const refs: StepReference[] = [];
  const data = (path: DocPath, to: string, accepts?: ReadonlySet<StepKind>) =>
    refs.push({ from: index, path, to, role: 'data', ...(accepts ? { accepts } : {}) });
  const target = (path: DocPath, to: string | undefined) => {
    if (to !== undefined) refs.push({ from: index, path, to, role: 'target' });
  };
  step.needs?.forEach((n, i) => data(typeof n === 'string' ? at('needs', i) : at('needs', i, 'step'), needStep(n)));
  target(at('next'), step.next);
  target(at('on_failure'), step.on_failure);
  target(at('on_timeout'), step.on_timeout);
  const list = (path: DocPath, refsValue: string | string[], accepts: ReadonlySet<StepKind>) => {
    if (typeof refsValue === 'string') data(path, refsValue, accepts);
    else refsValue.forEach((r, i) => data([...path, i], r, accepts));
  };
  if ('join' in step) list(at('join', 'from'), step.join.from, JOINABLE);
  if ('sync' in step) list(at('sync', 'wait_for'), step.sync.wait_for, JOINABLE);
  if ('merge' in step) list(at('merge', 'from'), step.merge.from, WITH_RESULT);
  if ('split' in step && step.split.over !== undefined && !Array.isArray(step.split.over)) {
    data(at('split', 'over', 'from'), step.split.over.from, WITH_RESULT);
  }
  if ('branch' in step) {
    if (step.branch.on !== undefined) data(at('branch', 'on'), step.branch.on, WITH_RESULT);
    step.branch.rules.forEach((r, i) => target(at('branch', 'rules', i, 'to'), r.to));
    target(at('branch', 'otherwise'), step.branch.otherwise);
  }
  if ('review' in step) target(at('review', 'on_exhausted'), step.review.on_exhausted);
  if ('vote' in step) target(at('vote', 'on_tie'), step.vote.on_tie);
  return refs;
}

/**
 * Names checked before compiling: unique and unreserved ids, references to steps that exist
 * and can serve (a join needs tasks to wait for), artifacts handed off before they are
 * consumed, merge functions and used patterns that are known.
 */
export function checkReferences(
  pattern: Pattern,
  source: PatternSource,
  context: ReferenceContext = {},
): PatternProblem[] {
  const out: PatternProblem[] = [];
  const byId = new Map<string, Step>();
  pattern.steps.forEach((step, i) => {
    checkId(step.id, ['steps', i, 'id'], byId.has(step.id), source, out);
    if (!byId.has(step.id)) byId.set(step.id, step);
  });
  const ids = [...byId.keys()];
  pattern.steps.forEach((step, index) => {
    for (const ref of stepReferences(step, index)) {
      if (ref.role === 'target' && (RESERVED_TARGETS as readonly string[]).includes(ref.to)) continue;
      const found = byId.get(ref.to);
      if (!found) {
        const names = ref.role === 'target' ? [...ids, ...RESERVED_TARGETS] : ids;
        out.push(
          problem('E_UNKNOWN_STEP', locate(source, ref.path), `no step has id "${ref.to}"`, nearestName(ref.to, names)),
        );
      } else if (ref.accepts && !ref.accepts.has(stepKind(found))) {
        const kinds = [...ref.accepts].join(' or ');
        out.push(
          problem(
            'E_NOT_JOINABLE',
            locate(source, ref.path),
            `step "${ref.to}" is a ${stepKind(found)} step; this needs a ${kinds} step`,
          ),
        );
      }
    }
    checkInner(step, index, source, context, out);
    checkNeedPolicies(step, index, byId, source, out);
    if (step.on_timeout !== undefined && step.timeout === undefined) {
      out.push(
        problem(
          'W_TIMEOUT_TARGET_UNUSED',
          locate(source, ['steps', index, 'on_timeout'], 'key'),
          `on_timeout is set but the step has no timeout, so it never applies`,
        ),
      );
    }
    if ('branch' in step && step.branch.on === undefined) {
      const before = pattern.steps[index - 1];
      if (!before)
        out.push(
          problem(
            'E_MISSING_KEY',
            locate(source, ['steps', index, 'branch']),
            'a branch that is the first step needs on: <step> (there is no step before it to examine)',
          ),
        );
      else if (!WITH_RESULT.has(stepKind(before))) {
        out.push(
          problem(
            'E_NOT_JOINABLE',
            locate(source, ['steps', index, 'branch']),
            `the step before, "${before.id}", is a ${stepKind(before)} step with no result to examine; name one with on: <step>`,
          ),
        );
      }
    }
  });
  return out;
}

function checkId(id: string, path: DocPath, duplicate: boolean, source: PatternSource, out: PatternProblem[]): void {
  if (RESERVED_IDS.has(id)) {
    out.push(
      problem(
        'E_RESERVED_STEP_ID',
        locate(source, path),
        `"${id}" is reserved; reserved words: ${[...RESERVED_IDS].join(', ')}`,
      ),
    );
  } else if (duplicate) {
    out.push(problem('E_DUPLICATE_STEP_ID', locate(source, path), `another step already has id "${id}"`));
  }
}

/** Checks inside one step: stage and saga ids, artifacts, merge functions, used patterns. */
function checkInner(
  step: Step,
  index: number,
  source: PatternSource,
  context: ReferenceContext,
  out: PatternProblem[],
): void {
  const at = (...p: Array<string | number>): DocPath => ['steps', index, ...p];
  const uniqueWithin = (ids: string[], base: DocPath) => {
    const seen = new Set<string>();
    ids.forEach((id, i) => {
      checkId(id, [...base, i, 'id'], seen.has(id), source, out);
      seen.add(id);
    });
  };
  if ('pipeline' in step) {
    uniqueWithin(
      step.pipeline.stages.map((s) => s.id),
      at('pipeline', 'stages'),
    );
    const handed = new Set<string>();
    step.pipeline.stages.forEach((stage, i) => {
      stage.consumes?.forEach((name, j) => {
        if (handed.has(name)) return;
        const earlier =
          handed.size > 0
            ? `; earlier stages hand off ${[...handed].join(', ')}`
            : '; no earlier stage hands off anything';
        out.push(
          problem(
            'E_UNKNOWN_ARTIFACT',
            locate(source, at('pipeline', 'stages', i, 'consumes', j)),
            `no earlier stage hands off "${name}"${earlier}`,
            nearestName(name, handed),
          ),
        );
      });
      for (const name of stage.produces ?? []) handed.add(name);
    });
  }
  if ('saga' in step) {
    uniqueWithin(
      step.saga.steps.map((s) => s.id),
      at('saga', 'steps'),
    );
    step.saga.steps.forEach((s, i) => {
      // Compensation states are named undo_<id>: an id of that form could be taken for one.
      if (s.id.startsWith('undo_'))
        out.push(
          problem(
            'E_RESERVED_STEP_ID',
            locate(source, at('saga', 'steps', i, 'id')),
            `saga step ids may not start with "undo_" (that names compensations)`,
          ),
        );
    });
  }
  if (
    'merge' in step &&
    step.merge.function !== undefined &&
    context.mergeFunctions &&
    !context.mergeFunctions.has(step.merge.function)
  ) {
    const known = [...context.mergeFunctions];
    out.push(
      problem(
        'E_UNKNOWN_MERGE',
        locate(source, at('merge', 'function')),
        `no merge function "${step.merge.function}" is registered; registered: ${known.join(', ') || 'none'}`,
        nearestName(step.merge.function, known),
      ),
    );
  }
  if ('use' in step && context.patterns && !context.patterns.has(step.use)) {
    out.push(
      problem(
        'E_UNKNOWN_PATTERN',
        locate(source, at('use')),
        `no pattern is named "${step.use}"`,
        nearestName(step.use, context.patterns),
      ),
    );
  }
}

/** Steps whose work is a decision or a value, not tasks: a failure policy on them applies to nothing. */
const NO_TASKS: ReadonlySet<StepKind> = new Set<StepKind>(['branch', 'merge', 'wait', 'sync']);

/**
 * A failure policy (`needs: [{ step, on_failure }]`) that cannot apply: on a step that makes no
 * tasks of its own, or on one whose failure ends the pattern (its `on_failure` is `fail`, the
 * default), so this step never runs after it failed.
 */
function checkNeedPolicies(
  step: Step,
  index: number,
  byId: ReadonlyMap<string, Step>,
  source: PatternSource,
  out: PatternProblem[],
): void {
  step.needs?.forEach((need, i) => {
    if (typeof need === 'string' || need.on_failure === 'skip') return;
    const needed = byId.get(need.step);
    if (!needed) return; // E_UNKNOWN_STEP, reported with the references
    const at = locate(source, ['steps', index, 'needs', i, 'on_failure']);
    if (NO_TASKS.has(stepKind(needed))) {
      out.push(
        problem(
          'E_BAD_VALUE',
          at,
          `step "${need.step}" is a ${stepKind(needed)} step and makes no tasks: on_failure ${need.on_failure} has nothing to apply to`,
        ),
      );
    } else if ((needed.on_failure ?? 'fail') === 'fail') {
      out.push(
        problem(
          'W_NEED_POLICY_UNUSED',
          at,
          `on_failure ${need.on_failure} never applies: when step "${need.step}" fails the pattern fails (its on_failure is fail); give it on_failure: continue or a step`,
        ),
      );
    }
  });
}
