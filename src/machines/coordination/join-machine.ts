import { assign, enqueueActions, setup } from 'xstate';
import type { MergeSpec } from '../../coordination/merge-strategies.js';
import { mergeName } from '../../coordination/merge-strategies.js';
import { EFFECT_ACTIONS } from '../effects.js';
import { COORDINATION_EFFECT_ACTIONS } from './coordination-effects.js';
import { MARK, markOf, setMark, statusOfMark, type ActorSpawn, type HandoffOutput, type TaskSettledEvent } from './coordination-types.js';
import { decideJoin, joinNeed, strategyName, type JoinNeed, type JoinStrategy, type JoinTally } from './join-decision.js';

/**
 * A join or a sync point: one root actor that counts how its sources settle (the runtime tells it
 * by address; the sources are never its children) and decides with `decideJoin`. When met it
 * collects the sources' results in the order they were given, merges them, and releases the
 * tasks it holds (the continuation of a join, the dependents of a sync point); when it can no
 * longer be met, or its deadline passes, it fails and those tasks are skipped with the reason.
 *
 * Per source it keeps one character in `marks`, so each settlement costs O(1) objects and the
 * snapshot of a 10,000-way join stays a few tens of kilobytes.
 */

type Stamped = { now: number };

export type JoinFlavor = 'join' | 'sync';

export interface JoinInput {
  id: string;
  flavor: JoinFlavor;
  ticketId: string | null;
  /** The sources, or null when they come from a split (`fromSplit`). */
  sources: string[] | null;
  fromSplit: string | null;
  strategy: JoinStrategy;
  timeoutMs: number | null;
  onTimeout: 'fail' | 'continue';
  merge: MergeSpec | null;
  cancelRemaining: boolean;
  /** Tasks created with the join, waiting on it; released when it is met, skipped when it fails. */
  held: ActorSpawn[];
  now: number;
}

/** What the held tasks receive (as the join's output) and what `wait` reports. */
export interface JoinResult {
  strategy: string;
  /** The merged value, or null without a merge. */
  merged: unknown;
  /** Results of the sources that succeeded, by id. */
  results: Record<string, unknown>;
  /** Ids that succeeded, in the order the sources were given. */
  succeeded: string[];
  /** Sources that ended otherwise, with how they ended. */
  failed: Record<string, string>;
  timedOut: boolean;
}

export interface JoinContext {
  id: string;
  spec: Omit<JoinInput, 'id' | 'sources' | 'held' | 'now'> & { held: string[] };
  sources: string[];
  need: JoinNeed | null;
  /** One mark per source, see `MARK`. */
  marks: string;
  tally: JoinTally;
  at: { createdAt: number; deadline: number | null; decidedAt: number | null };
  outcome: { status: 'ready' | 'failed'; reason: string | null; timedOut: boolean } | null;
  /** Shaped like a task's output so that the context package of held tasks hands it on. */
  output: HandoffOutput | null;
}

export type JoinEvent =
  | (TaskSettledEvent & Stamped)
  | ({ type: 'join.sources'; sources: string[] } & Stamped)
  | ({ type: 'join.sources_failed'; reason: string } & Stamped)
  | ({
      type: 'join.collected';
      results: Record<string, unknown>;
      artifacts: Record<string, unknown>;
      merged: unknown;
      mergeDetail: Record<string, unknown> | null;
    } & Stamped)
  | ({ type: 'join.collect_failed'; reason: string } & Stamped)
  | ({ type: 'join.cancel'; reason: string } & Stamped)
  | ({ type: 'timer'; name: string } & Stamped);

type Args = { context: JoinContext; event: JoinEvent };

const decision = (c: JoinContext) => (c.need ? decideJoin(c.need, c.tally) : { kind: 'pending' as const });

const label = (c: JoinContext) => `${c.spec.flavor} ${c.id} (${strategyName(c.spec.strategy, c.need?.n ?? null)})`;

const openSources = (c: JoinContext) => c.sources.filter((_, i) => c.marks[i] === MARK.open);

/** The join's result from its marks and the collected results (sources in the order given). */
export function joinResult(c: JoinContext, results: Record<string, unknown>, merged: unknown): JoinResult {
  const succeeded: string[] = [];
  const failed: Record<string, string> = {};
  c.sources.forEach((id, i) => {
    const mark = c.marks[i] ?? MARK.open;
    if (mark === MARK.succeeded) succeeded.push(id);
    else if (mark !== MARK.open) failed[id] = statusOfMark(mark) ?? 'missing';
  });
  return {
    strategy: strategyName(c.spec.strategy, c.need?.n ?? null),
    merged: merged ?? null,
    results,
    succeeded,
    failed,
    timedOut: c.outcome?.timedOut ?? false,
  };
}

const emitJoin = (suffix: string, data: (c: JoinContext) => Record<string, unknown>) => ({
  type: 'emit' as const,
  params: ({ context }: { context: JoinContext }) => ({
    type: `coordination.${context.spec.flavor}.${suffix}`,
    ticketId: context.spec.ticketId,
    data: { id: context.id, ...data(context) },
  }),
});

const timeoutDue = ({ context, event }: Args) =>
  event.type === 'timer' && event.name === 'timeout' && context.at.deadline !== null && event.now >= context.at.deadline;

export const joinMachine = setup({
  types: { context: {} as JoinContext, events: {} as JoinEvent, input: {} as JoinInput },
  actions: {
    ...EFFECT_ACTIONS,
    ...COORDINATION_EFFECT_ACTIONS,
    countSettled: assign(({ context, event }) => {
      const e = event as TaskSettledEvent;
      const mark = markOf(e.status);
      const tally =
        mark === MARK.succeeded
          ? { succeeded: context.tally.succeeded + 1, failed: context.tally.failed }
          : { succeeded: context.tally.succeeded, failed: context.tally.failed + 1 };
      return { marks: setMark(context.marks, e.index, mark), tally };
    }),
    /** Stops listening, and cancels the sources nobody needs any more when asked to. */
    letGo: enqueueActions(({ context, enqueue }) => {
      const open = openSources(context);
      if (context.at.deadline !== null) enqueue({ type: 'clearTimer', params: { name: 'timeout' } });
      if (open.length === 0) return;
      enqueue({ type: 'unwatchTasks', params: { coordinatorId: context.id, taskIds: open } });
      if (context.spec.cancelRemaining) {
        enqueue({ type: 'cancelTasks', params: { taskIds: open, reason: `${label(context)} no longer needs it` } });
      }
    }),
  },
  guards: {
    isOpenSource: ({ context, event }) =>
      event.type === 'coordination.task_settled' && context.marks[event.index] === MARK.open,
    met: ({ context }) => decision(context).kind === 'ready',
    unmeetable: ({ context }) => decision(context).kind === 'failed',
    timeoutContinues: (args) => timeoutDue(args) && args.context.spec.onTimeout === 'continue',
    timeoutFails: (args) => timeoutDue(args) && args.context.spec.onTimeout === 'fail',
  },
}).createMachine({
  id: 'join',
  context: ({ input }) => ({
    id: input.id,
    spec: {
      flavor: input.flavor,
      ticketId: input.ticketId,
      fromSplit: input.fromSplit,
      strategy: input.strategy,
      timeoutMs: input.timeoutMs,
      onTimeout: input.onTimeout,
      merge: input.merge,
      cancelRemaining: input.cancelRemaining,
      held: input.held.filter((a) => a.kind === 'task').map((a) => a.id),
    },
    sources: input.sources ?? [],
    need: input.sources ? joinNeed(input.strategy, input.sources.length) : null,
    marks: MARK.open.repeat(input.sources?.length ?? 0),
    tally: { succeeded: 0, failed: 0 },
    at: { createdAt: input.now, deadline: input.timeoutMs === null ? null : input.now + input.timeoutMs, decidedAt: null },
    outcome: null,
    output: null,
  }),
  entry: [
    emitJoin('created', (c) => ({
      sources: c.spec.fromSplit === null ? c.sources.length : null,
      fromSplit: c.spec.fromSplit,
      strategy: strategyName(c.spec.strategy, c.need?.n ?? null),
      timeoutMs: c.spec.timeoutMs,
      merge: c.spec.merge === null ? null : mergeName(c.spec.merge),
      held: c.spec.held,
    })),
    { type: 'spawnActors', params: ({ event }) => ({ actors: (event as unknown as { input: JoinInput }).input.held }) },
    enqueueActions(({ context, enqueue }) => {
      if (context.at.deadline !== null) enqueue({ type: 'setTimer', params: { name: 'timeout', at: context.at.deadline } });
    }),
  ],
  initial: 'start',
  states: {
    start: {
      always: [{ guard: ({ context }) => context.spec.fromSplit !== null, target: 'resolving' }, { target: 'watching' }],
    },
    /** Waiting for a split to say which children it made. */
    resolving: {
      entry: {
        type: 'subscribeSplit',
        params: ({ context }) => ({ splitId: context.spec.fromSplit ?? '', joinId: context.id }),
      },
      on: {
        'join.sources': {
          target: 'watching',
          actions: assign(({ context, event }) => ({
            sources: event.sources,
            need: joinNeed(context.spec.strategy, event.sources.length),
            marks: MARK.open.repeat(event.sources.length),
          })),
        },
        'join.sources_failed': {
          target: 'failed',
          actions: assign({ outcome: ({ event }) => ({ status: 'failed' as const, reason: event.reason, timedOut: false }) }),
        },
        timer: [
          { guard: 'timeoutContinues', target: 'collecting', actions: assign({ outcome: { status: 'ready', reason: null, timedOut: true } }) },
          {
            guard: 'timeoutFails',
            target: 'failed',
            actions: assign({
              outcome: ({ context }) => ({
                status: 'failed' as const,
                reason: `${label(context)} timed out after ${context.spec.timeoutMs} ms before split ${context.spec.fromSplit} made its children`,
                timedOut: true,
              }),
            }),
          },
        ],
      },
    },
    watching: {
      entry: {
        type: 'watchTasks',
        params: ({ context }) => ({ coordinatorId: context.id, taskIds: context.sources, withOutput: false }),
      },
      always: [
        { guard: 'met', target: 'collecting', actions: assign({ outcome: { status: 'ready', reason: null, timedOut: false } }) },
        {
          guard: 'unmeetable',
          target: 'failed',
          actions: assign({
            outcome: ({ context }) => {
              const d = decision(context);
              return { status: 'failed' as const, reason: `${label(context)} cannot be met: ${d.kind === 'failed' ? d.reason : ''}`, timedOut: false };
            },
          }),
        },
      ],
      on: {
        'coordination.task_settled': { guard: 'isOpenSource', actions: 'countSettled' },
        timer: [
          { guard: 'timeoutContinues', target: 'collecting', actions: assign({ outcome: { status: 'ready', reason: null, timedOut: true } }) },
          {
            guard: 'timeoutFails',
            target: 'failed',
            actions: assign({
              outcome: ({ context }) => ({
                status: 'failed' as const,
                reason: `${label(context)} timed out after ${context.spec.timeoutMs} ms with ${context.tally.succeeded} of ${context.need?.k ?? 0} needed successes`,
                timedOut: true,
              }),
            }),
          },
        ],
      },
    },
    /** Met: reading and merging the results of the sources that succeeded. */
    collecting: {
      entry: [
        assign({ at: ({ context, event }) => ({ ...context.at, decidedAt: event.now }) }),
        'letGo',
        enqueueActions(({ context, enqueue }) => {
          if (context.outcome?.timedOut) {
            enqueue({
              type: 'emit',
              params: {
                type: `coordination.${context.spec.flavor}.timeout`,
                ticketId: context.spec.ticketId,
                data: { id: context.id, outcome: 'continue', arrived: context.tally.succeeded, needed: context.need?.k ?? null },
              },
            });
          }
          enqueue({
            type: 'collectResults',
            params: {
              coordinatorId: context.id,
              sources: context.sources.filter((_, i) => context.marks[i] === MARK.succeeded),
              merge: context.spec.merge,
            },
          });
        }),
      ],
      on: {
        'join.collected': {
          target: 'ready',
          actions: [
            assign({
              output: ({ context, event }) => ({ result: joinResult(context, event.results, event.merged), artifacts: event.artifacts, quality: null }),
            }),
            enqueueActions(({ context, event, enqueue }) => {
              if (context.spec.merge === null) return;
              enqueue({
                type: 'emit',
                params: {
                  type: 'coordination.merge.completed',
                  ticketId: context.spec.ticketId,
                  data: { id: context.id, strategy: mergeName(context.spec.merge), ...event.mergeDetail },
                },
              });
            }),
          ],
        },
        'join.collect_failed': {
          target: 'failed',
          actions: assign({ outcome: ({ context, event }) => ({ status: 'failed' as const, reason: event.reason, timedOut: context.outcome?.timedOut ?? false }) }),
        },
      },
    },
    ready: {
      tags: ['settled'],
      entry: [
        emitJoin('ready', (c) => ({ succeeded: c.tally.succeeded, failed: c.tally.failed, sources: c.sources.length, timedOut: c.outcome?.timedOut ?? false })),
        { type: 'releaseHeld', params: ({ context }) => ({ taskIds: context.spec.held, by: context.id }) },
        'coordinatorSettled',
      ],
    },
    failed: {
      tags: ['settled'],
      entry: [
        assign({ at: ({ context, event }) => ({ ...context.at, decidedAt: context.at.decidedAt ?? event.now }) }),
        'letGo',
        enqueueActions(({ context, event, enqueue }) => {
          // Only a deadline that failed the join is reported here; one that let it continue was
          // reported when collecting began.
          if (event.type === 'timer' && context.outcome?.timedOut) {
            enqueue({
              type: 'emit',
              params: {
                type: `coordination.${context.spec.flavor}.timeout`,
                ticketId: context.spec.ticketId,
                data: { id: context.id, outcome: 'fail', arrived: context.tally.succeeded, needed: context.need?.k ?? null },
              },
            });
          }
        }),
        emitJoin('failed', (c) => ({ reason: c.outcome?.reason ?? null, succeeded: c.tally.succeeded, failed: c.tally.failed })),
        {
          type: 'skipHeld',
          params: ({ context }) => ({ taskIds: context.spec.held, reason: context.outcome?.reason ?? `${label(context)} failed` }),
        },
        'coordinatorSettled',
      ],
    },
  },
  on: {
    'join.cancel': {
      guard: ({ context }) => context.outcome === null,
      target: '.failed',
      actions: assign({ outcome: ({ context, event }) => ({ status: 'failed' as const, reason: `${label(context)} was cancelled: ${event.reason}`, timedOut: false }) }),
    },
  },
});

export type JoinMachine = typeof joinMachine;
