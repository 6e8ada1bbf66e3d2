import { assign, enqueueActions, setup } from 'xstate';
import { mergeName } from './merge-strategies.js';
import { EFFECT_ACTIONS } from '../machines/effects.js';
import { COORDINATION_EFFECT_ACTIONS } from './coordinator-effects.js';
import { MARK, markOf, setMark, type TaskSettledEvent } from './coordination-types.js';
import { joinNeed, strategyName } from './join-decision.js';
import {
  decision,
  joinResult,
  label,
  openSources,
  type JoinArgs,
  type JoinContext,
  type JoinEvent,
  type JoinInput,
} from './join-types.js';

export type { JoinContext, JoinEvent, JoinFlavor, JoinInput, JoinResult } from './join-types.js';
export { joinResult } from './join-types.js';

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

const emitJoin = (suffix: string, data: (c: JoinContext) => Record<string, unknown>) => ({
  type: 'emit' as const,
  params: ({ context }: { context: JoinContext }) => ({
    type: `coordination.${context.spec.flavor}.${suffix}`,
    ticketId: context.spec.ticketId,
    data: { id: context.id, ...data(context) },
  }),
});

const timeoutDue = ({ context, event }: JoinArgs) =>
  event.type === 'timer' &&
  event.name === 'timeout' &&
  context.at.deadline !== null &&
  event.now >= context.at.deadline;

/** A deadline that passed: go on with what arrived, or fail, as the join was told. */
const ON_DEADLINE = [
  { guard: 'timeoutContinues', target: 'collecting', actions: 'timedOutContinuing' },
  { guard: 'timeoutFails', target: 'failed', actions: 'timedOutFailing' },
] as const;

/**
 * The join / sync point machine (kind `coordination.join`). Pure: every effect is a named action the runtime carries out.
 *
 * @example
 * ```ts
 * createTestModel(joinMachine, { input: { id: 'j', flavor: 'join', sources: ['a'], ... }, events }).getShortestPaths();
 * ```
 */
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
    timedOutContinuing: assign({ outcome: { status: 'ready', reason: null, timedOut: true } }),
    timedOutFailing: assign({
      outcome: ({ context }) => ({
        status: 'failed' as const,
        reason:
          context.need === null
            ? `${label(context)} timed out after ${context.spec.timeoutMs} ms before split ${context.spec.fromSplit} made its children`
            : `${label(context)} timed out after ${context.spec.timeoutMs} ms with ${context.tally.succeeded} of ${context.need.k} needed successes`,
        timedOut: true,
      }),
    }),
    emitTimeout: enqueueActions(({ context, enqueue }) => {
      enqueue({
        type: 'emit',
        params: {
          type: `coordination.${context.spec.flavor}.timeout`,
          ticketId: context.spec.ticketId,
          data: {
            id: context.id,
            outcome: context.outcome?.status === 'ready' ? 'continue' : 'fail',
            arrived: context.tally.succeeded,
            needed: context.need?.k ?? null,
          },
        },
      });
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
    at: {
      createdAt: input.now,
      deadline: input.timeoutMs === null ? null : input.now + input.timeoutMs,
      decidedAt: null,
    },
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
      if (context.at.deadline !== null)
        enqueue({ type: 'setTimer', params: { name: 'timeout', at: context.at.deadline } });
    }),
  ],
  initial: 'start',
  states: {
    start: {
      always: [
        { guard: ({ context }) => context.spec.fromSplit !== null, target: 'resolving' },
        { target: 'watching' },
      ],
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
          actions: assign({
            outcome: ({ event }) => ({ status: 'failed' as const, reason: event.reason, timedOut: false }),
          }),
        },
        timer: ON_DEADLINE,
      },
    },
    watching: {
      entry: {
        type: 'watchTasks',
        params: ({ context }) => ({ coordinatorId: context.id, taskIds: context.sources, withOutput: false }),
      },
      always: [
        {
          guard: 'met',
          target: 'collecting',
          actions: assign({ outcome: { status: 'ready', reason: null, timedOut: false } }),
        },
        {
          guard: 'unmeetable',
          target: 'failed',
          actions: assign({
            outcome: ({ context }) => {
              const d = decision(context);
              return {
                status: 'failed' as const,
                reason: `${label(context)} cannot be met: ${d.kind === 'failed' ? d.reason : ''}`,
                timedOut: false,
              };
            },
          }),
        },
      ],
      on: {
        'coordination.task_settled': { guard: 'isOpenSource', actions: 'countSettled' },
        timer: ON_DEADLINE,
      },
    },
    /** Met: reading and merging the results of the sources that succeeded. */
    collecting: {
      entry: [
        assign({ at: ({ context, event }) => ({ ...context.at, decidedAt: event.now }) }),
        'letGo',
        enqueueActions(({ context, enqueue }) => {
          if (context.outcome?.timedOut) enqueue('emitTimeout');
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
              output: ({ context, event }) => ({
                result: joinResult(context, event.results, event.merged),
                artifacts: event.artifacts,
                quality: null,
              }),
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
          actions: assign({
            outcome: ({ context, event }) => ({
              status: 'failed' as const,
              reason: event.reason,
              timedOut: context.outcome?.timedOut ?? false,
            }),
          }),
        },
      },
    },
    ready: {
      tags: ['settled'],
      entry: [
        emitJoin('ready', (c) => ({
          succeeded: c.tally.succeeded,
          failed: c.tally.failed,
          sources: c.sources.length,
          timedOut: c.outcome?.timedOut ?? false,
        })),
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
          if (event.type === 'timer' && context.outcome?.timedOut) enqueue('emitTimeout');
        }),
        emitJoin('failed', (c) => ({
          reason: c.outcome?.reason ?? null,
          succeeded: c.tally.succeeded,
          failed: c.tally.failed,
        })),
        {
          type: 'skipHeld',
          params: ({ context }) => ({
            taskIds: context.spec.held,
            reason: context.outcome?.reason ?? `${label(context)} failed`,
          }),
        },
        'coordinatorSettled',
      ],
    },
  },
  on: {
    'join.cancel': {
      guard: ({ context }) => context.outcome === null,
      target: '.failed',
      actions: assign({
        outcome: ({ context, event }) => ({
          status: 'failed' as const,
          reason: `${label(context)} was cancelled: ${event.reason}`,
          timedOut: false,
        }),
      }),
    },
  },
});

export type JoinMachine = typeof joinMachine;
