import type { NeedPolicy } from '../format/common.js';
import type { Pattern } from '../format/pattern.js';
import type { StepKind } from '../format/steps.js';
import type { PatternLibrary } from '../load/library.js';
import type { DocPath, PatternSource } from '../load/source.js';
import type { PatternProblem, ProblemLocation } from '../problems/problems.js';
import type { PatternEvent, PatternEventType, PatternFailure, PatternRunContext } from './protocol.js';
import { timerName } from './protocol.js';
import type { StepWork } from './work.js';

/**
 * The vocabulary the state builders share: the shape of the statechart config they produce,
 * the metadata each state carries for the checks and drawings, and small action builders.
 */

export type ParamsFn = (args: { context: PatternRunContext; event: PatternEvent }) => unknown;
export interface ActionConfig {
  type: string;
  params?: Record<string, unknown> | ParamsFn;
}
export interface GuardConfig {
  type: string;
  params: Record<string, unknown>;
}
export interface TransitionConfig {
  target: string;
  guard?: GuardConfig;
  actions?: ActionConfig[];
  description?: string;
}
export interface StateConfig {
  id: string;
  type?: 'final';
  initial?: string;
  entry?: ActionConfig[];
  exit?: ActionConfig[];
  on?: Partial<Record<PatternEventType, TransitionConfig[]>>;
  states?: Record<string, StateConfig>;
  meta?: StepMeta;
  tags?: string[];
  description?: string;
}

/** What each step's state carries for the static checks, the drawings and the test paths. */
export interface StepMeta {
  /** Qualified id (`build/review`). */
  step: string;
  kind: StepKind | 'stage' | 'review_work' | 'review_round' | 'saga_step' | 'compensate';
  /** A step of a pattern (checked for reachability and references) rather than a part of one. */
  unit: boolean;
  pattern: string;
  at: ProblemLocation;
  /** Events that end the wait the way it is meant to end. */
  awaits: PatternEventType[];
  /** Steps whose work this step uses, with where each reference is written. */
  refs: Array<{ to: string; at: ProblemLocation }>;
  /** The steps named in `needs` (qualified) and what a failure of their tasks does to this step's. */
  needs?: Array<{ step: string; onFailure: NeedPolicy }>;
  /** Tasks the step creates (null when it depends on data seen only at run time). */
  count: number | null;
  /** Capabilities each task of the step requires. */
  requires: string[][];
  quorum?: { kind: 'join' | 'sync'; strategy: string; k: number | null; required: number | null; sources: string[] };
  /** Set for splits: a join, sync point, merge or `needs` should use their children. */
  split?: true;
  /** Where each routing rule of a branch is written. */
  rulesAt?: ProblemLocation[];
  /** The runtime answers at once (a split of known tasks, a branch): not a wait. */
  instant?: true;
}

/** Where the flow goes when a (possibly nested) pattern ends one way or another. */
export interface Exits {
  end: string;
  fail: string;
  escalate: string;
  timeout: string;
}

/** Everything a builder needs about the pattern it is compiling (nested patterns get their own). */
export interface CompileScope {
  pattern: Pattern;
  source: PatternSource;
  /** Prefix of qualified ids (`''`, or `build/` inside the used pattern of step `build`). */
  prefix: string;
  exits: Exits;
  /** Inputs with stand-in values (checking without values): sizes that depend on them are unknown. */
  placeholders: ReadonlySet<string>;
  library: PatternLibrary | undefined;
  /** Names of the patterns being inlined, outermost first (guards against `use:` cycles). */
  using: string[];
  out: CompileOutput;
}

export interface CompileOutput {
  works: Map<string, StepWork>;
  events: PatternEvent[];
  problems: PatternProblem[];
}

export const ref = (id: string): string => `#${id}`;
export const qualify = (scope: CompileScope, id: string): string => `${scope.prefix}${id}`;
export const stepPath = (index: number, ...rest: Array<string | number>): DocPath => ['steps', index, ...rest];

/** An observable event; `data` may read the event that caused it (a failure's reason). */
export function emit(type: string, data: Record<string, unknown> | ParamsFn = {}): ActionConfig {
  return {
    type: 'emit',
    params: (args) => ({
      type,
      ticketId: args.context.ticketId,
      phase: args.context.phase,
      data: {
        runId: args.context.runId,
        pattern: args.context.pattern,
        ...(typeof data === 'function' ? (data(args) as object) : data),
      },
    }),
  };
}

/** Asks the runtime to start the work of state `step`; review parts carry their round and feedback. */
export function runStep(step: string, review: string | null = null): ActionConfig {
  return {
    type: 'patternRunStep',
    params: ({ context }) => ({
      runId: context.runId,
      ticketId: context.ticketId,
      phase: context.phase,
      step,
      round: review === null ? 1 : (context.rounds[review] ?? 1),
      feedback: review === null ? null : (context.feedback[review] ?? null),
    }),
  };
}

export const isStep = (step: string): GuardConfig => ({ type: 'isStep', params: { step } });

export function recordFailure(step: string, kind: PatternFailure['kind'], reason?: string): ActionConfig {
  return { type: 'recordFailure', params: reason === undefined ? { step, kind } : { step, kind, reason } };
}

/** Entry and exit actions arming and clearing a step's deadline (timers are data, never `after`). */
export function deadline(step: string, ms: number | null): { entry: ActionConfig[]; exit: ActionConfig[] } {
  if (ms === null) return { entry: [], exit: [] };
  const name = timerName(step);
  return {
    entry: [
      {
        type: 'setTimer',
        params: ({ context, event }) => {
          const e = event as { now?: unknown; input?: { now?: unknown } };
          const now =
            typeof e.now === 'number' ? e.now : typeof e.input?.now === 'number' ? e.input.now : context.startedAt;
          return { name, at: now + ms };
        },
      },
    ],
    exit: [{ type: 'clearTimer', params: { name } }],
  };
}

/** The transition taken when a step's deadline passes. */
export function timeoutTransition(step: string, target: string): TransitionConfig {
  return {
    guard: { type: 'timerIs', params: { name: timerName(step) } },
    target,
    actions: [
      recordFailure(step, 'timed_out'),
      {
        type: 'patternCancelStep',
        params: ({ context }) => ({ runId: context.runId, step, reason: 'the step timed out' }),
      },
      emit('pattern.step.timed_out', { step }),
    ],
    description: 'deadline passed',
  };
}

/** The transition taken when the work of `part` fails. */
export function failureTransition(step: string, part: string, target: string): TransitionConfig {
  return {
    guard: isStep(part),
    target,
    actions: [
      recordFailure(step, 'failed'),
      emit('pattern.step.failed', ({ event }) => ({
        step,
        reason: event.type === 'step.failed' ? event.reason : null,
      })),
    ],
  };
}
