import type { Offer } from '../../engine/agent-transport.js';
import type { Runtime } from '../../runtime.js';
import { taskStatusOf } from '../../core/machines/task-machine.js';
import type { TaskContext } from '../../core/machines/task-types.js';
import { leasedTask, offerOf } from './assignment.js';

// A type, not an interface: it must fit the open (index-signed) shapes of protocol frames.
export type HeldLease = {
  taskId: string;
  leaseId: string;
};

export interface Reconciliation {
  /** Task ids of claimed leases that are still the agent's. */
  resumed: string[];
  /** Claimed leases that are not the agent's any more: it must stop that work. */
  revoked: Array<HeldLease & { reason: string }>;
  /** Leases the runtime offered the agent that it does not know of: their assignments go out again. */
  resend: Offer[];
}

/**
 * Puts what a (re)connecting agent says it holds next to what the runtime says it holds.
 * - Claimed and current: resumed. If the runtime still saw it as only offered (the accept was
 *   lost with the connection), it is accepted now: the agent is working on it.
 * - Claimed but not current (requeued, settled, someone else's): revoked.
 * - Current but not claimed: if only offered, the assignment is sent again; if running, the
 *   agent has lost it (it restarted), so the attempt fails as `agent-lost` and is retried.
 */
export async function reconcileLeases(
  runtime: Runtime,
  agentId: string,
  claimed: HeldLease[],
): Promise<Reconciliation> {
  const result: Reconciliation = { resumed: [], revoked: [], resend: [] };
  const claimedLeases = new Set<string>();
  const accepts: Array<Promise<unknown>> = [];
  for (const lease of claimed) {
    claimedLeases.add(lease.leaseId);
    const live = leasedTask(runtime, lease.taskId, lease.leaseId);
    const holder = live ? (live.snapshot.context as TaskContext).lease?.agentId : undefined;
    if (!live || holder !== agentId) {
      result.revoked.push({
        ...lease,
        reason: live ? 'the lease belongs to another agent' : await endedReason(runtime, lease),
      });
      continue;
    }
    result.resumed.push(lease.taskId);
    if (taskStatusOf(live.snapshot.value) === 'offered')
      accepts.push(runtime.leases.accept(lease.taskId, lease.leaseId));
  }
  const lost: Array<Promise<unknown>> = [];
  for (const taskId of runtime.core.dispatcher.heldBy(agentId)) {
    const live = runtime.core.host.getLive(taskId);
    const lease = live?.kind === 'task' ? (live.snapshot.context as TaskContext).lease : null;
    if (!live || !lease || lease.agentId !== agentId || claimedLeases.has(lease.id)) continue;
    const status = taskStatusOf(live.snapshot.value);
    if (status === 'offered') {
      const offer = offerOf(live);
      if (offer) result.resend.push(offer);
    } else if (status === 'running') {
      lost.push(
        runtime.leases.fail(taskId, lease.id, {
          message: `agent ${agentId} reconnected without this task`,
          category: 'agent-lost',
          code: 'E_AGENT_LOST',
          retryable: true,
        }),
      );
    }
  }
  // A refusal here means the lease ended meanwhile; the agent learns of it by a cancel frame.
  await Promise.allSettled([...accepts, ...lost]);
  return result;
}

async function endedReason(runtime: Runtime, lease: HeldLease): Promise<string> {
  try {
    const task = await runtime.tasks.get(lease.taskId);
    if (task.leaseId === lease.leaseId || task.attempts.some((a) => a.leaseId === lease.leaseId)) {
      return `the lease has ended; the task is ${task.status}`;
    }
    return `not a lease of this task; the task is ${task.status}`;
  } catch {
    return 'no such task';
  }
}
