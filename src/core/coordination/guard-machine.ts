import { assign, enqueueActions, setup } from 'xstate';
import { EFFECT_ACTIONS, type Stamped } from '../machines/effects.js';
import {
  COORDINATION_EFFECT_ACTIONS,
  type Grant,
  type ResourceMode,
  type ResourceReplyParams,
} from './coordinator-effects.js';
import { setMark, type ActorSpawn, type TaskSettledEvent } from './coordination-types.js';

/**
 * A dependency guard: holds one task until each of its dependencies is met, each with its own
 * deadline (a durable timer). Three kinds of dependency:
 * - `task`: another task settles (by default it must succeed);
 * - `quality`: a named quality score reaches a threshold (`setQualityScore`); once reached it
 *   stays met even if the score falls again;
 * - `resource`: the guard acquires a lock or semaphore permit for the held task, which keeps it
 *   until the task settles.
 * The held task has the guard among its dependencies: when all are met the guard releases it;
 * when one fails or times out the task is skipped with the reason.
 */

export type DependencySpec =
  | { kind: 'task'; taskId: string; requireSuccess: boolean; timeoutMs: number | null }
  | { kind: 'quality'; gate: string; threshold: number; timeoutMs: number | null }
  | { kind: 'resource'; resource: string; mode: ResourceMode | null; timeoutMs: number | null };

export interface GuardInput {
  id: string;
  ticketId: string | null;
  heldTaskId: string;
  /** The held task (and anything nested under it) to create with the guard. */
  held: ActorSpawn[];
  dependencies: DependencySpec[];
  now: number;
}

export interface GuardContext {
  id: string;
  ticketId: string | null;
  heldTaskId: string;
  deps: DependencySpec[];
  /** One mark per dependency: `.` open, `y` met. */
  marks: string;
  grants: Grant[];
  at: { createdAt: number; settledAt: number | null };
  outcome: { status: 'resolved' | 'failed'; reason: string | null } | null;
}

export type GuardEvent =
  | (TaskSettledEvent & Stamped)
  | ({ type: 'guard.quality'; gate: string; score: number } & Stamped)
  | ({ type: 'guard.resource'; reply: ResourceReplyParams } & Stamped)
  | ({ type: 'guard.cancel'; reason: string } & Stamped)
  | ({ type: 'timer'; name: string } & Stamped);

/** A dependency in words, for reasons and events. */
export function describeDependency(dep: DependencySpec): string {
  if (dep.kind === 'task') return `task ${dep.taskId}${dep.requireSuccess ? ' succeeds' : ' settles'}`;
  if (dep.kind === 'quality') return `quality gate "${dep.gate}" reaches ${dep.threshold}`;
  return `resource "${dep.resource}" is acquired${dep.mode ? ` (${dep.mode})` : ''}`;
}

const timerName = (index: number): string => `dependency:${index}`;

const emitGuard = (type: string, data: (c: GuardContext) => Record<string, unknown>) => ({
  type: 'emit' as const,
  params: ({ context }: { context: GuardContext }) => ({
    type,
    ticketId: context.ticketId,
    taskId: context.heldTaskId,
    data: { id: context.id, ...data(context) },
  }),
});

/**
 * The dependency guard machine (kind `coordination.guard`). Pure: every effect is a named action the runtime carries out.
 *
 * @example
 * ```ts
 * createTestModel(guardMachine, { input, events }).getShortestPaths();
 * ```
 */
export const guardMachine = setup({
  types: { context: {} as GuardContext, events: {} as GuardEvent, input: {} as GuardInput },
  actions: {
    ...EFFECT_ACTIONS,
    ...COORDINATION_EFFECT_ACTIONS,
    start: enqueueActions(({ context, event, enqueue }) => {
      enqueue({ type: 'spawnActors', params: { actors: (event as unknown as { input: GuardInput }).input.held } });
      const taskIds: string[] = [];
      const indexes: number[] = [];
      const gates = new Set<string>();
      context.deps.forEach((dep, index) => {
        if (dep.kind === 'task') {
          taskIds.push(dep.taskId);
          indexes.push(index);
        } else if (dep.kind === 'quality') gates.add(dep.gate);
        else {
          enqueue({
            type: 'requestResource',
            params: {
              resource: dep.resource,
              owner: context.heldTaskId,
              mode: dep.mode,
              leaseMs: null,
              replyTo: { actorId: context.id, index, waiter: null },
            },
          });
        }
        if (dep.timeoutMs !== null)
          enqueue({ type: 'setTimer', params: { name: timerName(index), at: context.at.createdAt + dep.timeoutMs } });
      });
      // The held task is watched too: if it is cancelled meanwhile, nothing is left to guard.
      taskIds.push(context.heldTaskId);
      indexes.push(context.deps.length);
      enqueue({ type: 'watchTasks', params: { coordinatorId: context.id, taskIds, indexes, withOutput: false } });
      if (gates.size > 0) enqueue({ type: 'watchQuality', params: { coordinatorId: context.id, gates: [...gates] } });
    }),
    meetQuality: assign(({ context, event }) => {
      if (event.type !== 'guard.quality') return {};
      let marks = context.marks;
      context.deps.forEach((dep, i) => {
        if (dep.kind === 'quality' && dep.gate === event.gate && event.score >= dep.threshold && marks[i] === '.')
          marks = setMark(marks, i, 'y');
      });
      return { marks };
    }),
    meetTask: assign({
      marks: ({ context, event }) =>
        event.type === 'coordination.task_settled' ? setMark(context.marks, event.index, 'y') : context.marks,
    }),
    meetResource: assign(({ context, event }) => {
      if (event.type !== 'guard.resource' || !event.reply.grant) return {};
      return {
        marks: setMark(context.marks, event.reply.replyTo.index, 'y'),
        grants: [...context.grants, event.reply.grant],
      };
    }),
    stop: enqueueActions(({ context, event, enqueue }) => {
      enqueue.assign({ at: { ...context.at, settledAt: (event as unknown as Stamped).now } });
      context.deps.forEach((dep, index) => {
        if (dep.timeoutMs !== null) enqueue({ type: 'clearTimer', params: { name: timerName(index) } });
      });
      const gates = [...new Set(context.deps.flatMap((d) => (d.kind === 'quality' ? [d.gate] : [])))];
      if (gates.length > 0) enqueue({ type: 'unwatchQuality', params: { coordinatorId: context.id, gates } });
      const tasks = context.deps.flatMap((d) => (d.kind === 'task' ? [d.taskId] : []));
      enqueue({ type: 'unwatchTasks', params: { coordinatorId: context.id, taskIds: [...tasks, context.heldTaskId] } });
    }),
  },
  guards: {
    allMet: ({ context }) => !context.marks.includes('.'),
    heldTaskSettled: ({ context, event }) =>
      event.type === 'coordination.task_settled' && event.index === context.deps.length,
    taskMet: ({ context, event }) => {
      if (event.type !== 'coordination.task_settled') return false;
      const dep = context.deps[event.index];
      return dep?.kind === 'task' && (event.status === 'succeeded' || !dep.requireSuccess);
    },
    resourceGranted: ({ event }) => event.type === 'guard.resource' && event.reply.grant !== null,
    dependencyDue: ({ context, event }) => {
      if (event.type !== 'timer' || !event.name.startsWith('dependency:')) return false;
      const index = Number(event.name.slice('dependency:'.length));
      const dep = context.deps[index];
      return (
        dep !== undefined &&
        dep.timeoutMs !== null &&
        context.marks[index] === '.' &&
        event.now >= context.at.createdAt + dep.timeoutMs
      );
    },
  },
}).createMachine({
  id: 'guard',
  context: ({ input }) => ({
    id: input.id,
    ticketId: input.ticketId,
    heldTaskId: input.heldTaskId,
    deps: input.dependencies,
    marks: '.'.repeat(input.dependencies.length),
    grants: [],
    at: { createdAt: input.now, settledAt: null },
    outcome: null,
  }),
  entry: [
    emitGuard('coordination.dependency.created', (c) => ({ dependencies: c.deps.map(describeDependency) })),
    'start',
  ],
  initial: 'waiting',
  states: {
    waiting: {
      always: { guard: 'allMet', target: 'resolved' },
      on: {
        'coordination.task_settled': [
          {
            guard: 'heldTaskSettled',
            target: 'failed',
            actions: assign({
              outcome: ({ context, event }) => ({
                status: 'failed' as const,
                reason: `task ${context.heldTaskId} ended ${event.status} before its dependencies were met`,
              }),
            }),
          },
          { guard: 'taskMet', actions: 'meetTask' },
          {
            target: 'failed',
            actions: assign({
              outcome: ({ context, event }) => ({
                status: 'failed' as const,
                reason: `dependency not met: ${describeDependency(context.deps[event.index] as DependencySpec)}, but it ended ${event.status}`,
              }),
            }),
          },
        ],
        'guard.quality': { actions: 'meetQuality' },
        'guard.resource': [
          { guard: 'resourceGranted', actions: 'meetResource' },
          {
            target: 'failed',
            actions: assign({
              outcome: ({ event }) => ({
                status: 'failed' as const,
                reason: `resource "${event.reply.resource}" refused: ${event.reply.error?.message ?? 'no reason'}`,
              }),
            }),
          },
        ],
        timer: {
          guard: 'dependencyDue',
          target: 'failed',
          actions: assign({
            outcome: ({ context, event }) => {
              const dep = context.deps[Number(event.name.slice('dependency:'.length))] as DependencySpec;
              return {
                status: 'failed' as const,
                reason: `dependency timed out after ${dep.timeoutMs} ms: ${describeDependency(dep)}`,
              };
            },
          }),
        },
        'guard.cancel': {
          target: 'failed',
          actions: assign({
            outcome: ({ context, event }) => ({
              status: 'failed' as const,
              reason: `guard ${context.id} was cancelled: ${event.reason}`,
            }),
          }),
        },
      },
    },
    resolved: {
      tags: ['settled'],
      entry: [
        assign({ outcome: { status: 'resolved', reason: null } }),
        'stop',
        emitGuard('coordination.dependency.resolved', (c) => ({ dependencies: c.deps.length })),
        { type: 'releaseHeld', params: ({ context }) => ({ taskIds: [context.heldTaskId], by: context.id }) },
        'coordinatorSettled',
      ],
    },
    failed: {
      tags: ['settled'],
      entry: [
        'stop',
        emitGuard('coordination.dependency.failed', (c) => ({ reason: c.outcome?.reason ?? null })),
        {
          type: 'skipHeld',
          params: ({ context }) => ({
            taskIds: [context.heldTaskId],
            reason: context.outcome?.reason ?? `guard ${context.id} failed`,
          }),
        },
        'coordinatorSettled',
      ],
    },
  },
});

export type GuardMachine = typeof guardMachine;
