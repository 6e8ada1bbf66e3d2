import type { AnyStateMachine } from 'xstate';
import type { Pattern } from '../format/pattern.js';
import { stepKind, type Step } from '../format/steps.js';
import type { PatternLibrary } from '../load/library.js';
import { checkReferences } from '../load/references.js';
import { resolvePattern } from '../load/resolve.js';
import { locate, type PatternSource } from '../load/source.js';
import { isError, problem, type PatternProblem } from '../problems/problems.js';
import { patternSetup } from './machine-setup.js';
import type { PatternEvent, PatternOutcome, PatternRunContext, PatternRunInput } from './protocol.js';
import { stepContext, stepMeta, type StepContext } from './step-context.js';
import { reviewState, pipelineState, sagaState } from './states-compound.js';
import {
  branchState,
  joinState,
  mergeState,
  splitState,
  syncState,
  taskState,
  voteState,
  waitState,
} from './states-simple.js';
import { deadline, emit, stepPath, timeoutTransition, type CompileScope, type StateConfig } from './state-kit.js';
import type { StepWork } from './work.js';

/** A pattern compiled to a statechart, with the work each state asks for and the events it can take. */
export interface CompiledPattern {
  name: string;
  pattern: Pattern;
  /** The statechart: pure, timers as data, no `after` and no `invoke`. */
  machine: AnyStateMachine;
  /** The work each state of the statechart asks the runtime for, by qualified state id. */
  works: Map<string, StepWork>;
  /** Every event a run can receive, for traversal (`xstate/graph`). */
  events: PatternEvent[];
  /** Problems found while compiling (in used patterns, or in a split's expanded tasks). */
  problems: PatternProblem[];
}

/** Options of `compilePattern`: the library `use:` reads from and which inputs are stand-ins. */
export interface CompileOptions {
  /** Where `use:` finds other patterns. */
  library?: PatternLibrary;
  /** Inputs that only have stand-in values (checking without values). */
  placeholders?: ReadonlySet<string>;
}

const FINALS: Record<PatternOutcome, string> = {
  completed: 'pattern.completed',
  failed: 'pattern.failed',
  timed_out: 'pattern.timed_out',
  escalated: 'pattern.escalated',
  cancelled: 'pattern.cancelled',
};

/**
 * Compiles a valid pattern (see `resolvePattern`) into an XState statechart: one state per
 * step (compound for reviews, pipelines, sagas and used patterns), with failure and timeout
 * branches and the final states completed, failed, timed_out, escalated and cancelled.
 *
 * @example
 * ```ts
 * const { pattern } = resolvePattern(parsePatternSource(text, 'p.yaml'));
 * const compiled = compilePattern(pattern!, source, { library: PatternLibrary.builtIn() });
 * createActor(compiled.machine, { input: { runId: 'r', pattern: 'p', ticketId: null, phase: null, now: 0 } });
 * ```
 */
export function compilePattern(pattern: Pattern, source: PatternSource, options: CompileOptions = {}): CompiledPattern {
  const out = { works: new Map<string, StepWork>(), events: [] as PatternEvent[], problems: [] as PatternProblem[] };
  const scope: CompileScope = {
    pattern,
    source,
    prefix: '',
    exits: { end: '#completed', fail: '#failed', escalate: '#escalated', timeout: '#timed_out' },
    placeholders: options.placeholders ?? new Set(),
    library: options.library,
    using: [pattern.name],
    out,
  };
  const first = (pattern.steps[0] as Step).id;
  // A run waits in `pending` until it is started: at once when applied alone, when its phase
  // opens when it works a phase of a ticket.
  const states: Record<string, StateConfig> = {
    pending: {
      id: 'pending',
      on: {
        'pattern.start': [
          {
            target: `#${first}`,
            actions: [{ type: 'start' }, emit('pattern.started', { steps: pattern.steps.map((s) => s.id) })],
          },
        ],
      },
    },
    ...buildSteps(scope),
  };
  for (const [outcome, type] of Object.entries(FINALS) as Array<[PatternOutcome, string]>)
    states[outcome] = finalState(outcome, type);
  out.events.unshift({ type: 'pattern.start' });
  const config = {
    id: pattern.name,
    initial: 'pending',
    context: ({ input }: { input: PatternRunInput }): PatternRunContext => ({
      runId: input.runId,
      pattern: input.pattern,
      ticketId: input.ticketId,
      phase: input.phase,
      rounds: {},
      feedback: {},
      failure: null,
      outcome: null,
      results: {},
      startedAt: input.now,
      settledAt: null,
    }),
    on: { 'pattern.cancel': { target: '#cancelled' } },
    states,
  };
  const machine = patternSetup.createMachine(config as never) as unknown as AnyStateMachine;
  return { name: pattern.name, pattern, machine, works: out.works, events: out.events, problems: out.problems };
}

function finalState(outcome: PatternOutcome, type: string): StateConfig {
  return {
    id: outcome,
    type: 'final',
    entry: [
      { type: 'settle', params: { outcome } },
      emit(type, ({ context }) => ({ failure: context.failure })),
      {
        type: 'patternSettled',
        params: ({ context }) => ({
          runId: context.runId,
          ticketId: context.ticketId,
          phase: context.phase,
          outcome,
          failure: context.failure,
        }),
      },
    ],
  };
}

/** The states of a pattern's steps, keyed by step id. */
export function buildSteps(scope: CompileScope): Record<string, StateConfig> {
  const states: Record<string, StateConfig> = {};
  scope.pattern.steps.forEach((_, index) => {
    const c = stepContext(scope, index);
    states[c.step.id] = buildStep(c);
  });
  return states;
}

function buildStep(c: StepContext): StateConfig {
  const step = c.step;
  switch (stepKind(step)) {
    case 'task':
      return taskState(c as never);
    case 'split':
      return splitState(c as never);
    case 'join':
      return joinState(c as never);
    case 'sync':
      return syncState(c as never);
    case 'merge':
      return mergeState(c as never);
    case 'vote':
      return voteState(c as never);
    case 'branch':
      return branchState(c as never);
    case 'wait':
      return waitState(c as never);
    case 'review':
      return reviewState(c as never);
    case 'pipeline':
      return pipelineState(c as never);
    case 'saga':
      return sagaState(c as never);
    case 'use':
      return useState(c as StepContext & { step: Extract<Step, { use: string }> });
  }
}

/**
 * A used pattern is inlined as a compound state: its steps become states under this step's
 * id, resolved with the `with:` values, and its ends lead where this step's would.
 */
function useState(c: StepContext & { step: Extract<Step, { use: string }> }): StateConfig {
  const { scope } = c;
  const name = c.step.use;
  const innerSource = scope.library?.get(name);
  const timer = deadline(c.qid, c.deadlineMs);
  const base: StateConfig = {
    id: c.qid,
    entry: [emit('pattern.step.started', { step: c.qid, use: name }), ...timer.entry],
    exit: timer.exit,
    meta: { ...stepMeta(c, null), count: null, awaits: [] },
    tags: ['step'],
  };
  const fail = (message: string, code: PatternProblem['code'] = 'E_UNKNOWN_PATTERN') => {
    scope.out.problems.push(problem(code, locate(scope.source, stepPath(c.index, 'use')), message));
    return base;
  };
  if (!innerSource) return fail(`no pattern is named "${name}"`);
  if (scope.using.includes(name))
    return fail(`using "${name}" here closes a cycle: ${[...scope.using, name].join(' → ')}`, 'E_USE_CYCLE');
  const resolved = resolvePattern(innerSource, {
    values: c.step.with ?? {},
    placeholders: scope.placeholders.size > 0,
  });
  for (const issue of resolved.inputIssues) {
    const at = issue.code === 'E_INPUT_MISSING' ? stepPath(c.index, 'use') : stepPath(c.index, 'with', issue.name);
    const which = issue.code === 'E_INPUT_UNKNOWN' ? 'key' : 'value';
    scope.out.problems.push(
      problem(issue.code, locate(scope.source, at, which), `${name}: ${issue.message}`, issue.suggestion),
    );
  }
  const inner = resolved.pattern;
  const innerProblems = [
    ...resolved.problems,
    ...(inner ? checkReferences(inner, innerSource, { patterns: scope.library?.names() }) : []),
  ];
  // With bad values, the used pattern's own problems are mostly echoes of them: report the values only.
  if (resolved.inputIssues.length === 0) scope.out.problems.push(...innerProblems);
  if (!inner || innerProblems.some(isError) || resolved.inputIssues.length > 0) return base;
  const innerScope: CompileScope = {
    pattern: inner,
    source: innerSource,
    prefix: `${c.qid}/`,
    exits: { end: c.success, fail: c.failure, escalate: scope.exits.escalate, timeout: c.timeout },
    placeholders: resolved.placeholders,
    library: scope.library,
    using: [...scope.using, name],
    out: scope.out,
  };
  const node: StateConfig = { ...base, initial: (inner.steps[0] as Step).id, states: buildSteps(innerScope) };
  if (c.deadlineMs !== null) {
    node.on = { timer: [timeoutTransition(c.qid, c.timeout)] };
    scope.out.events.push({ type: 'timer', name: `${c.qid}.timeout` });
  }
  return node;
}
