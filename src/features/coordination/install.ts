import { TroupeError } from '../../core/errors.js';
import type { RetryPolicy } from '../../core/machines/retry-backoff.js';
import { barrierMachine } from '../../core/coordination/barrier-machine.js';
import type { ResourceReplyParams } from '../../core/coordination/coordinator-effects.js';
import { COORDINATOR_KINDS } from '../../core/coordination/coordination-types.js';
import { guardMachine } from '../../core/coordination/guard-machine.js';
import { joinMachine } from '../../core/coordination/join-machine.js';
import { qualityMachine } from '../../core/coordination/quality-machine.js';
import { resourceIdOf, resourceMachine } from '../../core/coordination/resource-machine.js';
import { routeMachine } from '../../core/coordination/route-machine.js';
import { sagaMachine } from '../../core/coordination/saga-machine.js';
import { splitMachine } from '../../core/coordination/split-machine.js';
import type { MachineDefinition } from '../../engine/machine-registry.js';
import type { RuntimeCore } from '../../engine/runtime-core.js';
import { CoordinationApi } from './coordination-api.js';
import { coordinationEffects, type CoordinationState } from './coordination-host-effects.js';
import type { CustomMerge } from '../../core/coordination/merge-strategies.js';
import { PendingReplies } from './pending-replies.js';
import { recoverCoordination } from './recovery.js';
import { settledEvent } from './task-watching.js';
import { InFlightWork } from './in-flight-work.js';
import { WaitForGraph } from './wait-for-graph.js';
import { RecentOutcomes, WatchIndex } from './watch-index.js';

/**
 * The coordinator machines, each stored under its kind with a machine id and version.
 *
 * @example
 * ```ts
 * for (const d of COORDINATION_MACHINES) console.log(d.kind, d.machineId, d.version);
 * ```
 */
export const COORDINATION_MACHINES: MachineDefinition[] = [
  { kind: COORDINATOR_KINDS.split, machineId: 'troupe.coordination.split', version: 1, machine: splitMachine },
  { kind: COORDINATOR_KINDS.join, machineId: 'troupe.coordination.join', version: 1, machine: joinMachine },
  { kind: COORDINATOR_KINDS.guard, machineId: 'troupe.coordination.guard', version: 1, machine: guardMachine },
  { kind: COORDINATOR_KINDS.route, machineId: 'troupe.coordination.route', version: 1, machine: routeMachine },
  { kind: COORDINATOR_KINDS.saga, machineId: 'troupe.coordination.saga', version: 1, machine: sagaMachine },
  { kind: COORDINATOR_KINDS.resource, machineId: 'troupe.coordination.resource', version: 1, machine: resourceMachine },
  { kind: COORDINATOR_KINDS.barrier, machineId: 'troupe.coordination.barrier', version: 1, machine: barrierMachine },
  { kind: COORDINATOR_KINDS.quality, machineId: 'troupe.coordination.quality', version: 1, machine: qualityMachine },
];

export interface InstallOptions {
  ready: () => Promise<void>;
  retry: RetryPolicy;
  maxPayloadBytes: number;
}

/**
 * Adds coordination to a runtime core through its extension hooks: registers the coordinator
 * machines and their effects, listens to task settlements (inside the settling batch), and
 * rebuilds the derived indexes after a restart. Call once, before the runtime starts.
 */
export function installCoordination(core: RuntimeCore, options: InstallOptions): CoordinationApi {
  for (const definition of COORDINATION_MACHINES) core.options.machines.register(definition);
  const state: CoordinationState = {
    core,
    watches: new WatchIndex(),
    recent: new RecentOutcomes(),
    graph: new WaitForGraph(),
    merges: new Map<string, CustomMerge>(),
    resourceReplies: new PendingReplies<ResourceReplyParams>(),
    inFlight: new InFlightWork(),
  };
  core.addEffects(coordinationEffects(state));
  core.addSettleListener((task, status, scope) => {
    state.recent.record(task.id, status);
    for (const watch of state.watches.takeTask(task.id)) {
      scope.send(watch.coordinatorId, settledEvent(task, watch.index, watch.withOutput) as unknown as { type: string });
    }
    // A task that holds or waits for resources lets go of them when it settles.
    for (const resource of state.graph.resourcesOf(task.id)) {
      scope.send(resourceIdOf(resource), {
        type: 'resource.release',
        owner: task.id,
        reason: `task ${task.id} ${status}`,
      });
    }
  });
  core.onRecovered((actors) => recoverCoordination(state, actors));
  // A waiting acquire is answered by a later batch; once the host fails or the runtime stops
  // there is none, and the caller would wait forever.
  core.onFailure((error) => {
    state.resourceReplies.failAll(error);
    state.inFlight.releaseAll();
  });
  core.onStop(() => {
    state.resourceReplies.failAll(new TroupeError('E_RUNTIME_STOPPED', 'the runtime stopped before the answer came'));
    state.inFlight.releaseAll();
  });
  return new CoordinationApi(
    {
      core,
      ready: options.ready,
      retry: options.retry,
      maxPayloadBytes: options.maxPayloadBytes,
      merges: state.merges,
      inFlight: state.inFlight,
    },
    state.resourceReplies,
  );
}
