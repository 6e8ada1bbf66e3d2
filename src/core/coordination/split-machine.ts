import { assign, enqueueActions, setup } from 'xstate';
import { canonicalJson, readPath } from '../canonical-json.js';
import { EFFECT_ACTIONS, type Stamped } from '../machines/effects.js';
import { COORDINATION_EFFECT_ACTIONS } from './coordinator-effects.js';
import type { ActorSpawn, SplitPlan, TaskSettledEvent } from './coordination-types.js';
import { childId, spawnsFor, type SplitInput } from './task-templates.js';
import { phaseIdOf } from '../machines/phase-machine.js';

/**
 * A split: one source task becomes n parallel children, each a root task actor of its own that
 * waits on the source (it is in their `dependsOn`, so they also receive its result and
 * artifacts). With fixed targets the children are created at once; with `map` the split waits
 * for the source to succeed and makes one child per item of a list in its result. A child may
 * nest a split of its own, which expands the same way once that child succeeds.
 *
 * The split remembers its children's ids and tells joins that subscribed to it which they are.
 */

export interface SplitContext {
  id: string;
  ticketId: string | null;
  sourceTaskId: string;
  sourceSucceeded: boolean;
  plan: SplitPlan;
  children: string[];
  /** Joins waiting to learn the children. */
  subscribers: string[];
  at: { createdAt: number; expandedAt: number | null };
  outcome: { status: 'created' | 'failed'; reason: string | null } | null;
}

export type SplitEvent =
  | (TaskSettledEvent & Stamped)
  | ({ type: 'split.subscribe'; joinId: string } & Stamped)
  | ({ type: 'split.cancel'; reason: string } & Stamped);

type Expansion = { children: string[]; spawns: ActorSpawn[] } | { error: string };

/** Children of fixed targets: created at once, each waiting for the source. */
export function expandTargets(
  c: Pick<SplitContext, 'id' | 'ticketId' | 'sourceTaskId' | 'plan' | 'sourceSucceeded'>,
): Expansion {
  const targets = c.plan.targets ?? [];
  const children: string[] = [];
  const spawns: ActorSpawn[] = [];
  targets.forEach((template, index) => {
    const id = childId(c.id, template, index);
    children.push(id);
    const satisfied = c.sourceSucceeded ? [c.sourceTaskId] : [];
    spawns.push(...spawnsFor(template, { id, ticketId: c.ticketId, dependsOn: [c.sourceTaskId], satisfied }));
  });
  return { children, spawns };
}

/** Children of a `map` plan: one per item of the list at `path` in the source's result. */
export function expandMap(
  c: Pick<SplitContext, 'id' | 'ticketId' | 'sourceTaskId' | 'plan'>,
  result: unknown,
): Expansion {
  const map = c.plan.map;
  if (!map) return { error: `split ${c.id} has no map` };
  const where = map.path === '' ? 'the result' : `"${map.path}" in the result`;
  const read = readPath(result, map.path);
  if (!read.found) return { error: `split ${c.id}: ${where} of ${c.sourceTaskId} is missing` };
  if (!Array.isArray(read.value)) {
    return {
      error: `split ${c.id}: ${where} of ${c.sourceTaskId} is not a list (${canonicalJson(read.value).slice(0, 80)})`,
    };
  }
  if (read.value.length > map.maxItems) {
    return {
      error: `split ${c.id}: ${where} of ${c.sourceTaskId} has ${read.value.length} items, over the limit of ${map.maxItems}`,
    };
  }
  const children: string[] = [];
  const spawns: ActorSpawn[] = [];
  read.value.forEach((item: unknown, index) => {
    const id = `${c.id}.${index}`;
    children.push(id);
    spawns.push(
      ...spawnsFor(map.task, {
        id,
        ticketId: c.ticketId,
        dependsOn: [c.sourceTaskId],
        satisfied: [c.sourceTaskId],
        extraInput: { item: item ?? null, index },
      }),
    );
  });
  return { children, spawns };
}

/**
 * The phase a `map` split's children will join, which must wait for them: they exist only once
 * the source's result is known, and the phase would otherwise judge its gate without them.
 */
const heldPhase = (c: Pick<SplitContext, 'ticketId' | 'plan'>): string | null =>
  c.ticketId !== null && c.plan.map?.task.phase ? phaseIdOf(c.ticketId, c.plan.map.task.phase) : null;

const emitSplit = (type: string, data: (c: SplitContext) => Record<string, unknown>) => ({
  type: 'emit' as const,
  params: ({ context }: { context: SplitContext }) => ({
    type,
    ticketId: context.ticketId,
    taskId: context.sourceTaskId,
    data: { id: context.id, source: context.sourceTaskId, ...data(context) },
  }),
});

/**
 * The split machine (kind `coordination.split`). Pure: every effect is a named action the runtime carries out.
 *
 * @example
 * ```ts
 * createTestModel(splitMachine, { input, events }).getShortestPaths();
 * ```
 */
export const splitMachine = setup({
  types: { context: {} as SplitContext, events: {} as SplitEvent, input: {} as SplitInput },
  actions: {
    ...EFFECT_ACTIONS,
    ...COORDINATION_EFFECT_ACTIONS,
    /** Records the children and asks for them to be created, or records why it could not. */
    expand: enqueueActions(({ context, event, enqueue }) => {
      let expansion: Expansion;
      if (event.type === 'coordination.task_settled') {
        expansion =
          event.status === 'succeeded'
            ? expandMap(context, event.output?.result ?? null)
            : { error: `split ${context.id}: source ${context.sourceTaskId} ended ${event.status}` };
      } else expansion = expandTargets(context);
      if ('error' in expansion) {
        enqueue.assign({ outcome: { status: 'failed', reason: expansion.error } });
        return;
      }
      const now = 'now' in event && typeof event.now === 'number' ? event.now : context.at.createdAt;
      // The targets now live on as tasks: dropping them keeps the stored split small (a
      // 10,000-way split would otherwise be re-read as megabytes by every join over it).
      enqueue.assign({
        children: expansion.children,
        plan: { targets: null, map: context.plan.map },
        at: { ...context.at, expandedAt: now },
        outcome: { status: 'created', reason: null },
      });
      enqueue({ type: 'spawnActors', params: { actors: expansion.spawns } });
    }),
    /** Tells the phase the children will join that they are on their way. */
    holdPhase: enqueueActions(({ context, enqueue }) => {
      const phase = heldPhase(context);
      if (phase !== null)
        enqueue({ type: 'tell', params: { to: phase, event: { type: 'phase.split_pending', splitId: context.id } } });
    }),
    /** Lets the phase go on: after the children were asked for (so it counts them first), or the split failed. */
    releasePhase: enqueueActions(({ context, enqueue }) => {
      const phase = heldPhase(context);
      if (phase !== null)
        enqueue({ type: 'tell', params: { to: phase, event: { type: 'phase.split_settled', splitId: context.id } } });
    }),
  },
  guards: {
    hasTargets: ({ context }) => context.plan.targets !== null,
    expanded: ({ context }) => context.outcome?.status === 'created',
  },
}).createMachine({
  id: 'split',
  context: ({ input }) => ({
    id: input.id,
    ticketId: input.ticketId,
    sourceTaskId: input.sourceTaskId,
    sourceSucceeded: input.sourceSucceeded,
    plan: input.plan,
    children: [],
    subscribers: [],
    at: { createdAt: input.now, expandedAt: null },
    outcome: null,
  }),
  initial: 'start',
  states: {
    start: {
      always: [{ guard: 'hasTargets', target: 'expanding', actions: 'expand' }, { target: 'awaitingSource' }],
    },
    /** A `map` split: waiting for the source's result. */
    awaitingSource: {
      entry: [
        'holdPhase',
        emitSplit('coordination.split.pending', (c) => ({ path: c.plan.map?.path ?? null })),
        {
          type: 'watchTasks',
          params: ({ context }) => ({ coordinatorId: context.id, taskIds: [context.sourceTaskId], withOutput: true }),
        },
      ],
      on: {
        'coordination.task_settled': { target: 'expanding', actions: 'expand' },
        'split.subscribe': {
          actions: assign({ subscribers: ({ context, event }) => [...context.subscribers, event.joinId] }),
        },
        'split.cancel': {
          target: 'failed',
          actions: [
            assign({
              outcome: ({ context, event }) => ({
                status: 'failed' as const,
                reason: `split ${context.id} was cancelled: ${event.reason}`,
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
    /** Decided by `expand`: created, or failed with the reason. */
    expanding: {
      always: [{ guard: 'expanded', target: 'created' }, { target: 'failed' }],
    },
    created: {
      tags: ['settled'],
      entry: [
        emitSplit('coordination.split.created', (c) => ({ children: c.children, count: c.children.length })),
        'releasePhase',
        enqueueActions(({ context, enqueue }) => {
          for (const joinId of context.subscribers) {
            enqueue({
              type: 'tell',
              params: { to: joinId, event: { type: 'join.sources', sources: context.children } },
            });
          }
        }),
        'coordinatorSettled',
      ],
    },
    failed: {
      tags: ['settled'],
      entry: [
        emitSplit('coordination.split.failed', (c) => ({ reason: c.outcome?.reason ?? null })),
        'releasePhase',
        enqueueActions(({ context, enqueue }) => {
          for (const joinId of context.subscribers) {
            enqueue({
              type: 'tell',
              params: {
                to: joinId,
                event: { type: 'join.sources_failed', reason: context.outcome?.reason ?? `split ${context.id} failed` },
              },
            });
          }
        }),
        'coordinatorSettled',
      ],
    },
  },
});

export type SplitMachine = typeof splitMachine;
