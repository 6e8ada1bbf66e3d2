import { MARK, COORDINATOR_KINDS } from '../../core/coordination/coordination-types.js';
import type { GuardContext } from '../../core/coordination/guard-machine.js';
import type { JoinContext } from '../../core/coordination/join-machine.js';
import type { ResourceContext } from '../../core/coordination/resource-machine.js';
import type { RouteContext } from '../../core/coordination/route-machine.js';
import { compensationIdOf, type SagaContext } from '../../core/coordination/saga-machine.js';
import type { SplitContext } from '../../core/coordination/split-machine.js';
import type { LiveActor } from '../../engine/host-types.js';
import { hostOutbox, startCollecting, type CoordinationState } from './coordination-host-effects.js';
import { watchTasks } from './task-watching.js';

/**
 * After a restart: rebuilds the in-memory indexes (task watches, quality watchers, the
 * wait-for graph) from the restored coordinators, and resumes work that was cut off between a
 * commit and its follow-up (a join collecting its results). Reports are idempotent: a
 * coordinator ignores a second report of a source it already counted.
 */
export function recoverCoordination(state: CoordinationState, actors: readonly LiveActor[]): void {
  const out = hostOutbox(state.core, state.inFlight);
  const watch = (coordinatorId: string, taskIds: string[], indexes: number[], withOutput: boolean) => {
    if (taskIds.length > 0)
      watchTasks(state.core, state.watches, state.recent, out, coordinatorId, taskIds, indexes, withOutput);
  };
  const openOf = (ids: readonly string[], marks: string) => {
    const taskIds: string[] = [];
    const indexes: number[] = [];
    ids.forEach((id, i) => {
      if (marks[i] === MARK.open) {
        taskIds.push(id);
        indexes.push(i);
      }
    });
    return { taskIds, indexes };
  };
  const state0 = (value: unknown): string =>
    typeof value === 'string' ? value : (Object.keys(value as object)[0] ?? '');

  for (const actor of actors) {
    const value = actor.snapshot.value;
    switch (actor.kind) {
      case COORDINATOR_KINDS.join: {
        const c = actor.snapshot.context as JoinContext;
        if (value === 'watching') {
          const open = openOf(c.sources, c.marks);
          watch(c.id, open.taskIds, open.indexes, false);
        } else if (value === 'collecting') {
          const sources = c.sources.filter((_, i) => c.marks[i] === MARK.succeeded);
          startCollecting(state, { coordinatorId: c.id, sources, merge: c.spec.merge }, out);
        }
        break;
      }
      case COORDINATOR_KINDS.split: {
        const c = actor.snapshot.context as SplitContext;
        if (value === 'awaitingSource') watch(c.id, [c.sourceTaskId], [0], true);
        break;
      }
      case COORDINATOR_KINDS.route: {
        const c = actor.snapshot.context as RouteContext;
        if (value === 'waiting') watch(c.id, [c.sourceTaskId], [0], true);
        break;
      }
      case COORDINATOR_KINDS.guard: {
        const c = actor.snapshot.context as GuardContext;
        if (value !== 'waiting') break;
        const taskIds: string[] = [];
        const indexes: number[] = [];
        c.deps.forEach((dep, i) => {
          if (c.marks[i] !== MARK.open) return;
          if (dep.kind === 'task') {
            taskIds.push(dep.taskId);
            indexes.push(i);
          } else if (dep.kind === 'quality') state.watches.watchGate(dep.gate, c.id);
        });
        watch(c.id, [...taskIds, c.heldTaskId], [...indexes, c.deps.length], false);
        break;
      }
      case COORDINATOR_KINDS.saga: {
        const c = actor.snapshot.context as SagaContext;
        const top = state0(value);
        if (top === 'running') {
          const open = openOf(
            c.steps.map((s) => s.taskId),
            c.marks,
          );
          watch(c.id, open.taskIds, open.indexes, false);
        } else if (top === 'compensating' && c.compensating !== null) {
          watch(c.id, [compensationIdOf(c.id, c.compensating)], [c.steps.length + c.compensating], false);
        }
        break;
      }
      case COORDINATOR_KINDS.resource: {
        const c = actor.snapshot.context as ResourceContext;
        state.graph.update(
          c.name,
          c.holders.map((h) => h.owner),
          c.waiters.map((w) => w.owner),
        );
        break;
      }
      default:
        break;
    }
  }
}
