import { assign, enqueueActions, setup } from 'xstate';
import { EFFECT_ACTIONS } from '../machines/effects.js';
import { COORDINATION_EFFECT_ACTIONS } from './coordinator-effects.js';
import type { ActorSpawn, ResolvedTemplate, TaskSettledEvent } from './coordination-types.js';
import { route, type RouteOptions, type RoutingDecision, type RoutingRule } from './routing-rules.js';
import { childId, spawnsFor } from './task-templates.js';

/**
 * Conditional branching after a task: when the source settles, the routing rules are evaluated
 * against what it produced (`status`, `result`, `quality`, `attempt`, `error`) and the chosen
 * branch's tasks are created. The branch is the matched rule's `target`, else the decision's
 * name (`continue`, `retry`, ...); a decision without a branch creates nothing. The decision
 * `error` fails the route. Branch tasks wait on the source when it succeeded (so they get its
 * result and artifacts); after a failure they start on their own.
 */

type Stamped = { now: number };

export interface RouteInput {
  id: string;
  ticketId: string | null;
  sourceTaskId: string;
  rules: RoutingRule[];
  options: RouteOptions;
  branches: Record<string, ResolvedTemplate[]>;
  now: number;
}

export interface RouteContext {
  id: string;
  ticketId: string | null;
  sourceTaskId: string;
  rules: RoutingRule[];
  options: RouteOptions;
  branches: Record<string, ResolvedTemplate[]>;
  decision: RoutingDecision | null;
  created: string[];
  at: { createdAt: number; decidedAt: number | null };
  outcome: { status: 'decided' | 'failed'; reason: string | null } | null;
}

export type RouteEvent = (TaskSettledEvent & Stamped) | ({ type: 'route.cancel'; reason: string } & Stamped);

/** The state the rules see: how the source ended and what it produced. */
export function routingState(event: TaskSettledEvent): Record<string, unknown> {
  return {
    status: event.status,
    result: event.output?.result ?? null,
    quality: event.output?.quality ?? null,
    attempt: event.attempt ?? 0,
    error: event.error ?? null,
  };
}

/** The tasks of the chosen branch, bound to the source. */
export function branchSpawns(
  c: RouteContext,
  decision: RoutingDecision,
  sourceSucceeded: boolean,
): { ids: string[]; spawns: ActorSpawn[] } {
  const templates = c.branches[decision.target] ?? [];
  const ids: string[] = [];
  const spawns: ActorSpawn[] = [];
  const deps = sourceSucceeded ? [c.sourceTaskId] : [];
  templates.forEach((template, index) => {
    const id = childId(`${c.id}.${decision.target}`, template, index);
    ids.push(id);
    spawns.push(
      ...spawnsFor(template, {
        id,
        ticketId: c.ticketId,
        dependsOn: deps,
        satisfied: deps,
        extraInput: {
          route: { id: c.id, source: c.sourceTaskId, decision: decision.decision, reasoning: decision.reasoning },
        },
      }),
    );
  });
  return { ids, spawns };
}

/**
 * The conditional branching machine (kind `coordination.route`). Pure: every effect is a named action the runtime carries out.
 *
 * @example
 * ```ts
 * createTestModel(routeMachine, { input, events }).getShortestPaths();
 * ```
 */
export const routeMachine = setup({
  types: { context: {} as RouteContext, events: {} as RouteEvent, input: {} as RouteInput },
  actions: {
    ...EFFECT_ACTIONS,
    ...COORDINATION_EFFECT_ACTIONS,
    decide: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'coordination.task_settled') return;
      const decision = route(context.rules, routingState(event), context.options);
      enqueue.assign({ decision, at: { ...context.at, decidedAt: event.now } });
      enqueue({
        type: 'emit',
        params: {
          type: 'coordination.route.decided',
          ticketId: context.ticketId,
          taskId: context.sourceTaskId,
          data: { id: context.id, ...decision },
        },
      });
      if (decision.decision === 'error') {
        enqueue.assign({ outcome: { status: 'failed', reason: decision.reasoning } });
        return;
      }
      const { ids, spawns } = branchSpawns(context, decision, event.status === 'succeeded');
      enqueue.assign({ created: ids, outcome: { status: 'decided', reason: null } });
      if (spawns.length > 0) enqueue({ type: 'spawnActors', params: { actors: spawns } });
    }),
  },
  guards: {
    failed: ({ context }) => context.outcome?.status === 'failed',
  },
}).createMachine({
  id: 'route',
  context: ({ input }) => ({
    id: input.id,
    ticketId: input.ticketId,
    sourceTaskId: input.sourceTaskId,
    rules: input.rules,
    options: input.options,
    branches: input.branches,
    decision: null,
    created: [],
    at: { createdAt: input.now, decidedAt: null },
    outcome: null,
  }),
  initial: 'waiting',
  states: {
    waiting: {
      entry: {
        type: 'watchTasks',
        params: ({ context }) => ({ coordinatorId: context.id, taskIds: [context.sourceTaskId], withOutput: true }),
      },
      on: {
        'coordination.task_settled': { target: 'deciding', actions: 'decide' },
        'route.cancel': {
          target: 'failed',
          actions: [
            assign({
              outcome: ({ context, event }) => ({
                status: 'failed' as const,
                reason: `route ${context.id} was cancelled: ${event.reason}`,
              }),
            }),
            {
              type: 'unwatchTasks',
              params: ({ context }) => ({ coordinatorId: context.id, taskIds: [context.sourceTaskId] }),
            },
          ],
        },
      },
    },
    deciding: {
      always: [{ guard: 'failed', target: 'failed' }, { target: 'decided' }],
    },
    decided: { tags: ['settled'], entry: 'coordinatorSettled' },
    failed: {
      tags: ['settled'],
      entry: [
        {
          type: 'emit',
          params: ({ context }) => ({
            type: 'coordination.route.failed',
            ticketId: context.ticketId,
            data: { id: context.id, reason: context.outcome?.reason ?? null },
          }),
        },
        'coordinatorSettled',
      ],
    },
  },
});

export type RouteMachine = typeof routeMachine;
