import type { Offer } from '../../engine/agent-transport.js';
import { buildContextPackage, type ContextPackage } from '../../engine/api/context-package.js';
import type { LiveActor } from '../../engine/host-types.js';
import type { Runtime } from '../../runtime.js';
import { taskStatusOf } from '../../core/machines/task-machine.js';
import type { TaskContext } from '../../core/machines/task-types.js';
import { taskView } from '../../engine/api/views.js';
import type { AssignMessage } from './protocol/server-messages.js';

/** The live task whose current lease is `leaseId` (offered or running), if there is one. */
export function leasedTask(runtime: Runtime, taskId: string, leaseId: string): LiveActor | undefined {
  const live = runtime.core.host.getLive(taskId);
  if (!live || live.kind !== 'task') return undefined;
  const context = live.snapshot.context as TaskContext;
  if (context.lease?.id !== leaseId) return undefined;
  const status = taskStatusOf(live.snapshot.value);
  return status === 'offered' || status === 'running' ? live : undefined;
}

function assignFrame(runtime: Runtime, live: LiveActor, offer: Offer, context: ContextPackage): AssignMessage {
  const task = live.snapshot.context as TaskContext;
  const { start, finish, heartbeat } = task.spec.timeouts;
  return {
    type: 'assign',
    taskId: offer.taskId,
    leaseId: offer.leaseId,
    attempt: offer.attempt,
    task: taskView(live.snapshot.value, task) as AssignMessage['task'],
    context: context as AssignMessage['context'],
    deadlines: {
      acceptBy: start !== undefined && task.at.queuedAt !== null ? task.at.queuedAt + start : null,
      finishWithinMs: finish ?? null,
      heartbeatWithinMs: heartbeat ?? null,
    },
    serverTime: runtime.clock.now(),
    ...traceOf(runtime, offer.taskId),
  };
}

function traceOf(runtime: Runtime, taskId: string): { traceparent?: string } {
  const traceparent = runtime.traceparentFor(taskId);
  return traceparent === undefined ? {} : { traceparent };
}

/**
 * The assign frame for an offer, or null when the lease is no longer current. A task whose
 * context package needs no store read (no ticket, no dependencies) gets its frame at once.
 */
export function buildAssignment(runtime: Runtime, offer: Offer): AssignMessage | null | Promise<AssignMessage | null> {
  const live = leasedTask(runtime, offer.taskId, offer.leaseId);
  if (!live) return null;
  const task = live.snapshot.context as TaskContext;
  const context = buildContextPackage(task, runtime.core.host, runtime.store);
  if (!(context instanceof Promise)) return assignFrame(runtime, live, offer, context);
  return context.then((pkg) => {
    const still = leasedTask(runtime, offer.taskId, offer.leaseId);
    return still ? assignFrame(runtime, still, offer, pkg) : null;
  });
}

/** The offer a task's current lease stands for, to send its assignment again. */
export function offerOf(live: LiveActor): Offer | null {
  const task = live.snapshot.context as TaskContext;
  if (!task.lease) return null;
  return {
    taskId: task.id,
    agentId: task.lease.agentId,
    leaseId: task.lease.id,
    attempt: task.attempt,
    autoStart: false,
  };
}
