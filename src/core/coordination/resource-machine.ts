import { enqueueActions, setup } from 'xstate';
import { EFFECT_ACTIONS, type Stamped } from '../machines/effects.js';
import { COORDINATION_EFFECT_ACTIONS, type ResourceMode, type ResourceReplyTo } from './coordinator-effects.js';
import {
  nextDeadlines,
  stepResource,
  type ResourceKind,
  type ResourceRequest,
  type ResourceState,
} from './resource-rules.js';

/**
 * A shared resource (lock or semaphore) as a durable root actor, id `resource:<name>`. It never
 * settles: holders, the queue of waiters and the fencing counter survive restarts with it, and
 * lease and give-up deadlines are durable timers. The rules live in `resource-rules.ts`; this
 * machine turns their answers into effects: replies to whoever asked, events, timers, and the
 * membership report the runtime's wait-for graph needs to find deadlocks.
 */

export interface ResourceInput {
  id: string;
  name: string;
  kind: ResourceKind;
  permits: number | null;
  now: number;
}

export interface ResourceContext extends ResourceState {
  id: string;
  createdAt: number;
}

export type ResourceEvent =
  | ({
      type: 'resource.acquire';
      owner: string;
      mode: ResourceMode | null;
      leaseMs: number | null;
      waitMs: number | null;
      replyTo: ResourceReplyTo;
    } & Stamped)
  | ({ type: 'resource.release'; owner: string; reason: string } & Stamped)
  | ({ type: 'resource.refuse'; owner: string; message: string; cycle: string[] } & Stamped)
  | ({ type: 'timer'; name: string } & Stamped);

export const resourceIdOf = (name: string): string => `resource:${name}`;

function requestOf(event: ResourceEvent): ResourceRequest {
  switch (event.type) {
    case 'resource.acquire':
      return {
        type: 'acquire',
        owner: event.owner,
        mode: event.mode,
        leaseMs: event.leaseMs,
        waitMs: event.waitMs,
        replyTo: event.replyTo,
      };
    case 'resource.release':
      return { type: 'release', owner: event.owner, reason: event.reason };
    case 'resource.refuse':
      return {
        type: 'refuse',
        owner: event.owner,
        code: 'E_DEPENDENCY_CYCLE',
        message: event.message,
        cycle: event.cycle,
      };
    case 'timer':
      return event.name === 'lease' ? { type: 'expire' } : { type: 'giveUp' };
  }
}

/**
 * The lock / semaphore machine (kind `coordination.resource`). Pure: every effect is a named action the runtime carries out.
 *
 * @example
 * ```ts
 * const s = new MachineStepper(resourceMachine).initial({ id: 'resource:db', name: 'db', kind: 'semaphore', permits: 2, now: 0 });
 * ```
 */
export const resourceMachine = setup({
  types: { context: {} as ResourceContext, events: {} as ResourceEvent, input: {} as ResourceInput },
  actions: {
    ...EFFECT_ACTIONS,
    ...COORDINATION_EFFECT_ACTIONS,
    apply: enqueueActions(({ context, event, enqueue }) => {
      const before = nextDeadlines(context);
      const step = stepResource(context, requestOf(event), event.now);
      enqueue.assign({ holders: step.state.holders, waiters: step.state.waiters, fence: step.state.fence });
      for (const reply of step.replies) enqueue({ type: 'resourceReply', params: reply });
      for (const e of step.events) enqueue({ type: 'emit', params: e });
      if (step.membershipChanged) {
        enqueue({
          type: 'resourceChanged',
          params: {
            resource: context.name,
            holders: step.state.holders.map((h) => h.owner),
            waiters: step.state.waiters.map((w) => w.owner),
          },
        });
      }
      const after = nextDeadlines(step.state);
      // The timer that fired is consumed by the host: arm it again if something is still due.
      const fired = event.type === 'timer' ? event.name : null;
      for (const name of ['lease', 'wait'] as const) {
        if (after[name] !== null && (after[name] !== before[name] || fired === name)) {
          enqueue({ type: 'setTimer', params: { name, at: after[name] } });
        } else if (after[name] === null && before[name] !== null && fired !== name) {
          enqueue({ type: 'clearTimer', params: { name } });
        }
      }
    }),
  },
}).createMachine({
  id: 'resource',
  context: ({ input }) => ({
    id: input.id,
    name: input.name,
    kind: input.kind,
    permits: input.permits,
    holders: [],
    waiters: [],
    fence: 0,
    createdAt: input.now,
  }),
  entry: {
    type: 'emit',
    params: ({ context }) => ({
      type: 'coordination.resource.created',
      data: { resource: context.name, kind: context.kind, permits: context.permits },
    }),
  },
  initial: 'open',
  states: {
    open: {
      on: {
        'resource.acquire': { actions: 'apply' },
        'resource.release': { actions: 'apply' },
        'resource.refuse': { actions: 'apply' },
        timer: { actions: 'apply' },
      },
    },
  },
});

export type ResourceMachine = typeof resourceMachine;
