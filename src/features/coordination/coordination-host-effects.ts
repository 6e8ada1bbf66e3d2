import type {
  CancelTasksParams,
  CollectResultsParams,
  QualityChangedParams,
  ReleaseHeldParams,
  ReleaseResourceParams,
  RequestResourceParams,
  ResourceChangedParams,
  ResourceReplyParams,
  SkipHeldParams,
  SpawnActorsParams,
  SubscribeSplitParams,
  UnwatchTasksParams,
  WatchQualityParams,
  WatchTasksParams,
} from '../../core/coordination/coordinator-effects.js';
import { COORDINATOR_KINDS } from '../../core/coordination/coordination-types.js';
import type { QualityContext } from '../../core/coordination/quality-machine.js';
import { qualityIdOf } from '../../core/coordination/quality-machine.js';
import { resourceIdOf } from '../../core/coordination/resource-machine.js';
import type { SplitContext } from '../../core/coordination/split-machine.js';
import type { TaskContext } from '../../core/machines/task-types.js';
import type { BatchScope, EffectHandler, HostEvent } from '../../engine/host-types.js';
import { phaseIdOf, type RuntimeCore } from '../../engine/runtime-core.js';
import { collectResults } from './collect-results.js';
import type { CustomMerge } from '../../core/coordination/merge-strategies.js';
import type { PendingReplies } from './pending-replies.js';
import { watchTasks, type Outbox } from './task-watching.js';
import type { InFlightWork } from './in-flight-work.js';
import { describeCycle, type WaitForGraph } from './wait-for-graph.js';
import type { RecentOutcomes, WatchIndex } from './watch-index.js';

/** What the coordination effects share: the core, the derived indexes, and the registries. */
export interface CoordinationState {
  core: RuntimeCore;
  watches: WatchIndex;
  recent: RecentOutcomes;
  graph: WaitForGraph;
  merges: Map<string, CustomMerge>;
  resourceReplies: PendingReplies<ResourceReplyParams>;
  /** After-commit work owed to each coordinator (see `InFlightWork`). */
  inFlight: InFlightWork;
}

const as = <T>(p: Record<string, unknown>): T => p as unknown as T;

/** Runs `fn` as work in flight for coordinator `id`: counted from now until it has finished. */
const tracked = (inFlight: InFlightWork, id: string, fn: () => Promise<void>): (() => Promise<void>) => {
  inFlight.begin(id);
  return () => fn().finally(() => inFlight.end(id));
};

/** An outbox over the open batch. */
export const batchOutbox = (scope: BatchScope, inFlight: InFlightWork): Outbox => ({
  send: (to, event) => scope.send(to, event),
  later: (id, fn) => scope.afterCommit(tracked(inFlight, id, fn)),
});

/** An outbox outside any batch (recovery, API calls). */
export const hostOutbox = (core: RuntimeCore, inFlight: InFlightWork): Outbox => ({
  send: (to, event) => core.host.send(to, event),
  later: (id, fn) =>
    void tracked(inFlight, id, fn)().catch((error: unknown) =>
      core.logger.error({ err: error }, 'coordination work failed'),
    ),
});

/** Reads and merges a join's results after its decision committed, and answers the join. */
export function startCollecting(state: CoordinationState, p: CollectResultsParams, out: Outbox): void {
  out.later(p.coordinatorId, async () => {
    let event: HostEvent;
    try {
      const collected = await collectResults(state.core, p.sources, p.merge, state.merges);
      event = {
        type: 'join.collected',
        results: collected.results,
        artifacts: collected.artifacts,
        merged: collected.merged?.value ?? null,
        mergeDetail: collected.merged?.detail ?? null,
      };
    } catch (error) {
      event = { type: 'join.collect_failed', reason: `merge failed: ${(error as Error).message}` };
    }
    if (!state.core.host.failed) await state.core.host.request(p.coordinatorId, event);
  });
}

/** The handlers of every effect a coordinator machine may ask for. */
export function coordinationEffects(state: CoordinationState): Record<string, EffectHandler> {
  const { core, watches, graph } = state;
  const liveTask = (id: string): TaskContext | undefined => {
    const live = core.host.getLive(id);
    return live?.kind === 'task' ? (live.snapshot.context as TaskContext) : undefined;
  };
  return {
    spawnActors: (_actor, params, scope) => {
      for (const a of as<SpawnActorsParams>(params).actors) {
        scope.spawn(a.kind, a.id, a.input, a.ticketId);
        const input = a.input as { phase?: string | null; ticketId?: string | null };
        // A task joining a ticket's phase is counted by it, as `tasks.create` does.
        if (a.kind === 'task' && input.phase && input.ticketId)
          scope.send(phaseIdOf(input.ticketId, input.phase), { type: 'phase.task_added', taskId: a.id });
      }
    },
    watchTasks: (_actor, params, scope) => {
      const p = as<WatchTasksParams>(params);
      watchTasks(
        core,
        watches,
        state.recent,
        batchOutbox(scope, state.inFlight),
        p.coordinatorId,
        p.taskIds,
        p.indexes,
        p.withOutput,
      );
    },
    unwatchTasks: (_actor, params) => {
      const p = as<UnwatchTasksParams>(params);
      watches.unwatchTasks(p.coordinatorId, p.taskIds);
    },
    cancelTasks: (_actor, params, scope) => {
      const p = as<CancelTasksParams>(params);
      for (const id of p.taskIds) {
        const task = liveTask(id);
        if (task && !task.outcome) scope.send(id, { type: 'task.cancel', reason: p.reason });
      }
    },
    // Held tasks may still be on their way (created earlier in this batch): always send.
    releaseHeld: (_actor, params, scope) => {
      const p = as<ReleaseHeldParams>(params);
      for (const id of p.taskIds) scope.send(id, { type: 'task.dependency.succeeded', taskId: p.by });
    },
    skipHeld: (_actor, params, scope) => {
      const p = as<SkipHeldParams>(params);
      for (const id of p.taskIds) scope.send(id, { type: 'task.skip', reason: p.reason });
    },
    collectResults: (_actor, params, scope) =>
      startCollecting(state, as<CollectResultsParams>(params), batchOutbox(scope, state.inFlight)),
    subscribeSplit: (_actor, params, scope) =>
      subscribeToSplit(core, as<SubscribeSplitParams>(params), batchOutbox(scope, state.inFlight)),
    coordinatorSettled: (actor, _params, scope) => scope.afterCommit(() => core.notifySettled(actor)),
    watchQuality: (_actor, params, scope) => {
      const p = as<WatchQualityParams>(params);
      for (const gate of p.gates) {
        watches.watchGate(gate, p.coordinatorId);
        const score = (core.host.getLive(qualityIdOf(gate))?.snapshot.context as QualityContext | undefined)?.score;
        if (score !== undefined && score !== null) scope.send(p.coordinatorId, { type: 'guard.quality', gate, score });
      }
    },
    unwatchQuality: (_actor, params) => {
      const p = as<WatchQualityParams>(params);
      for (const gate of p.gates) watches.unwatchGate(gate, p.coordinatorId);
    },
    qualityChanged: (_actor, params, scope) => {
      const p = as<QualityChangedParams>(params);
      for (const guardId of watches.gateWatchers(p.gate))
        scope.send(guardId, { type: 'guard.quality', gate: p.gate, score: p.score });
    },
    requestResource: (_actor, params, scope) => {
      const p = as<RequestResourceParams>(params);
      const id = resourceIdOf(p.resource);
      // A resource nobody defined is a plain lock. Two requests in one batch may both spawn it;
      // the second spawn is refused as a duplicate and changes nothing.
      if (!core.host.getLive(id))
        scope.spawn(COORDINATOR_KINDS.resource, id, { id, name: p.resource, kind: 'lock', permits: null }, null);
      scope.send(id, {
        type: 'resource.acquire',
        owner: p.owner,
        mode: p.mode,
        leaseMs: p.leaseMs,
        waitMs: null,
        replyTo: p.replyTo,
      });
    },
    releaseResource: (_actor, params, scope) => {
      const p = as<ReleaseResourceParams>(params);
      scope.send(resourceIdOf(p.resource), { type: 'resource.release', owner: p.owner, reason: p.reason });
    },
    resourceChanged: (_actor, params, scope) => {
      const p = as<ResourceChangedParams>(params);
      for (const waiter of graph.update(p.resource, p.holders, p.waiters)) {
        const cycle = graph.findCycle(waiter);
        if (!cycle) continue;
        // The request that closed the cycle is the one refused: the others were waiting first.
        scope.send(resourceIdOf(p.resource), {
          type: 'resource.refuse',
          owner: waiter,
          message: `wait-for cycle: ${describeCycle(cycle)}`,
          cycle,
        });
      }
    },
    resourceReply: (_actor, params, scope) => {
      const p = as<ResourceReplyParams>(params);
      if (p.replyTo.actorId) scope.send(p.replyTo.actorId, { type: 'guard.resource', reply: p });
      const waiter = p.replyTo.waiter;
      if (waiter) scope.afterCommit(() => state.resourceReplies.settle(waiter, p));
    },
  };
}

/** Tells a join which children a split made, now if the split knows, else once it does. */
export function subscribeToSplit(core: RuntimeCore, p: SubscribeSplitParams, out: Outbox): void {
  const answer = (split: SplitContext | undefined): HostEvent | null => {
    if (!split) return { type: 'join.sources_failed', reason: `no split has id "${p.splitId}"` };
    if (split.outcome?.status === 'created') return { type: 'join.sources', sources: split.children };
    if (split.outcome?.status === 'failed')
      return { type: 'join.sources_failed', reason: split.outcome.reason ?? `split ${p.splitId} failed` };
    return null;
  };
  const live = core.host.getLive(p.splitId);
  if (live) {
    const now = answer(live.snapshot.context as SplitContext);
    out.send(now ? p.joinId : p.splitId, now ?? { type: 'split.subscribe', joinId: p.joinId });
    return;
  }
  out.later(p.joinId, async () => {
    const stored = await core.options.store.getActor(p.splitId);
    const event = answer(stored?.kind === COORDINATOR_KINDS.split ? (stored.context as SplitContext) : undefined);
    if (event && !core.host.failed) await core.host.request(p.joinId, event);
  });
}
