import type { CompiledPattern } from '../compile/compile.js';
import type { PatternRunContext } from '../compile/protocol.js';
import type { StepWork } from '../compile/work.js';
import { sampleForRoute } from '../compile/route-decision.js';
import type { PatternTestPath } from '../tools/test-paths.js';
import { continuationId, memberTaskId, outputTasks, reviewerTaskId, roundTaskId, singleTaskId } from './task-ids.js';

export type SettledOutcome =
  { kind: 'succeed'; result: unknown; artifacts?: Record<string, unknown> } | { kind: 'fail'; reason: string };

/**
 * What a scripted agent does with one task: succeed, fail, or hold it (past a deadline) and,
 * when a later step needs it, let it settle once the replay has done action `after`.
 */
export type ScriptedOutcome = SettledOutcome | { kind: 'hold'; release?: { after: number; outcome: SettledOutcome } };

/** What the replay itself does, in order: start the run, move the clock to a deadline, signal. */
export type ReplayAction = { kind: 'start' } | { kind: 'timer'; name: string } | { kind: 'signal'; name: string };

/** A scripted run of a pattern: each task's outcome and the actions to replay along one path. */
export interface PathScript {
  /** Outcomes by task id; a task not listed succeeds with `{ ok: true }`. */
  outcomes: Map<string, ScriptedOutcome>;
  actions: ReplayAction[];
}

export const DEFAULT_RESULT = { ok: true };
const succeed = (result: unknown = DEFAULT_RESULT, artifacts?: Record<string, unknown>): SettledOutcome =>
  artifacts ? { kind: 'succeed', result, artifacts } : { kind: 'succeed', result };
const FAIL: SettledOutcome = { kind: 'fail', reason: 'scripted failure' };
const HOLD: ScriptedOutcome = { kind: 'hold' };

function withPath(path: string | null, value: unknown): unknown {
  if (path === null || path === '') return value;
  return path.split('.').reduceRight<unknown>((inner, key) => ({ [key]: inner }), value);
}

/**
 * Turns a test path (events of the statechart) into what agents must do for a live run to take
 * the same path: each step's events become outcomes of its tasks (ids are derived from the run,
 * so they are known in advance), deadlines become clock moves, signals are sent.
 *
 * @example
 * ```ts
 * const script = scriptFromPath(compiled, generatePaths(compiled).paths[0]!, 'run-1');
 * ```
 */
export function scriptFromPath(compiled: CompiledPattern, path: PatternTestPath, runId: string): PathScript {
  const outcomes = new Map<string, ScriptedOutcome>();
  const actions: ReplayAction[] = [];
  const context: PatternRunContext = {
    runId,
    pattern: compiled.name,
    ticketId: null,
    phase: null,
    rounds: {},
    feedback: {},
    failure: null,
    outcome: null,
    results: {},
    startedAt: 0,
    settledAt: null,
  };
  const round = (review: string) => context.rounds[review] ?? 1;
  const sources = (from: string[]) => from.flatMap((f) => outputTasks(compiled, context, runId, f) ?? []);
  const setAll = (ids: string[], outcome: ScriptedOutcome, onlyUnset = false) => {
    for (const id of ids) if (!onlyUnset || !outcomes.has(id)) outcomes.set(id, outcome);
  };
  /** A later step needs these tasks settled: held ones settle once the deadline that held them has passed. */
  const settleLater = (ids: string[], outcome: SettledOutcome) => {
    for (const id of ids) {
      const current = outcomes.get(id);
      if (current?.kind === 'hold' && !current.release)
        outcomes.set(id, { kind: 'hold', release: { after: holdAction.get(id) ?? 0, outcome } });
      else if (!current) outcomes.set(id, outcome);
    }
  };
  const holdAction = new Map<string, number>();
  /** The tasks a state's work makes (for holding them past a deadline, or failing them). */
  const ownTasks = (work: StepWork): string[] => {
    switch (work.kind) {
      case 'task':
      case 'stage':
      case 'saga_step':
      case 'compensate':
        return [singleTaskId(runId, work.step)];
      case 'review_work':
        return [roundTaskId(runId, work.step, round(work.review))];
      case 'review':
        return work.reviewers.map((_, i) =>
          reviewerTaskId(runId, work.step, round(work.step.replace(/\/reviewing$/, '')), i),
        );
      case 'vote':
        return Array.from({ length: work.voters }, (_, i) => memberTaskId(runId, work.step, i));
      case 'join':
        return [
          ...sources(work.from).filter((id) => !outcomes.has(id)),
          ...(work.then ? [continuationId(runId, work.step)] : []),
        ];
      case 'sync':
        return sources(work.waitFor).filter((id) => !outcomes.has(id));
      default:
        return [];
    }
  };
  path.events.forEach((event, i) => {
    const before = i === 0 ? 'pending' : (path.steps[i - 1]?.state ?? 'pending');
    const active = compiled.works.get(before.replaceAll('.', '/'));
    const work = 'step' in event ? compiled.works.get(event.step) : undefined;
    switch (event.type) {
      case 'pattern.start':
        actions.push({ kind: 'start' });
        return;
      case 'pattern.signal':
        actions.push({ kind: 'signal', name: event.name });
        return;
      case 'timer':
        if (active) {
          for (const id of ownTasks(active)) holdAction.set(id, actions.length);
          setAll(ownTasks(active), HOLD);
        }
        actions.push({ kind: 'timer', name: event.name });
        return;
      case 'step.done':
        if (!work) return;
        if (work.kind === 'stage')
          outcomes.set(
            singleTaskId(runId, work.step),
            succeed(DEFAULT_RESULT, Object.fromEntries(work.produces.map((a) => [a, `${a} of ${work.step}`]))),
          );
        else if (work.kind === 'join') {
          settleLater(sources(work.from), succeed());
          if (work.then) outcomes.set(continuationId(runId, work.step), succeed());
        } else if (work.kind === 'sync') settleLater(sources(work.waitFor), succeed());
        else if (work.kind === 'vote') setAll(ownTasks(work), succeed(withPath(work.field, 'A')));
        else if (work.kind === 'split' && work.over) {
          setAll(
            outputTasks(compiled, context, runId, work.over.from) ?? [],
            succeed(withPath(work.over.path, ['item_a', 'item_b'])),
          );
          context.results[work.step] = { children: 2 };
        } else setAll(ownTasks(work), succeed());
        return;
      case 'step.failed':
        if (!work) return;
        if (work.kind === 'join' || work.kind === 'sync') {
          const from = sources(work.kind === 'join' ? work.from : work.waitFor);
          // Sources an earlier step already saw succeed cannot fail now: then the continuation does.
          const open = from.filter((id) => !outcomes.has(id) || outcomes.get(id)?.kind === 'hold');
          if (work.kind === 'join' && work.then && open.length < from.length)
            outcomes.set(continuationId(runId, work.step), FAIL);
          else if (from.length > 0) settleLater(from, FAIL);
          else if (work.kind === 'join' && work.then) outcomes.set(continuationId(runId, work.step), FAIL);
        } else if (work.kind === 'merge') {
          // Results a merge cannot combine (text where objects are merged).
          for (const from of work.from)
            setAll(outputTasks(compiled, context, runId, from) ?? [], succeed('not mergeable'));
        } else if (work.kind === 'split' && work.over) {
          setAll(outputTasks(compiled, context, runId, work.over.from) ?? [], succeed({ no_list_here: true }));
        } else if (work.kind === 'review') {
          outcomes.set(reviewerTaskId(runId, work.step, round(work.step.replace(/\/reviewing$/, '')), 0), FAIL);
        } else setAll(ownTasks(work), FAIL);
        return;
      case 'review.approved':
      case 'review.rejected': {
        const reviewing = compiled.works.get(`${event.step}/reviewing`);
        if (!reviewing) return;
        const verdict =
          event.type === 'review.approved' ? { approved: true } : { approved: false, feedback: event.feedback };
        setAll(ownTasks(reviewing), succeed(verdict));
        if (event.type === 'review.rejected' && path.steps[i]?.state.endsWith('.work'))
          context.rounds[event.step] = round(event.step) + 1;
        return;
      }
      case 'vote.tied':
        if (work?.kind === 'vote')
          ownTasks(work).forEach((id, n) => outcomes.set(id, succeed(withPath(work.field, `choice ${n}`))));
        return;
      case 'route.chosen': {
        if (work?.kind !== 'branch') return;
        const data = sampleForRoute(work.rules, event.route) ?? {};
        const ids = outputTasks(compiled, context, runId, work.on) ?? [];
        setAll(ids.slice(0, 1), succeed(data));
        return;
      }
      default:
        return;
    }
  });
  return { outcomes, actions };
}
