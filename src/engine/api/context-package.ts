import type { TaskContext } from '../../core/machines/task-types.js';
import type { PhaseOutput, TicketContext } from '../../core/machines/ticket-machine.js';
import type { ActorHost } from '../actor-host.js';
import type { Store } from '../store/store.js';
import { buildValidationPackage, type ValidationPackage } from './validation-package.js';

/** What a task's handler receives besides the task: everything it needs to know, in one package. */
export interface ContextPackage {
  ticket: {
    id: string;
    title: string;
    description: string;
    context: Record<string, unknown>;
    shared: Record<string, unknown>;
    /** Outputs of the phases already passed (cross-phase context). */
    phases: Record<string, PhaseOutput>;
  } | null;
  /** Results and artifacts of the tasks this one depends on, by task id. */
  dependencies: Record<string, { result: unknown; artifacts: Record<string, unknown>; quality: number | null }>;
  /** Artifacts handed off by the dependencies, merged by name in dependency order. */
  artifacts: Record<string, unknown>;
  /** Gate feedback when the task runs again after its phase was rejected (a validator: the feedback that led to the round it judges). */
  feedback: string | null;
  /** The phase round the task works in (a validator: the round it judges). */
  round: number;
  attempt: number;
  /** For a phase's validator, what it judges; null for every other task. */
  validation: ValidationPackage | null;
}

/**
 * Builds the context package from live actors and the store (settled ones live only there).
 * A task with neither ticket nor dependencies needs no read: its package comes back at once,
 * without a promise, which keeps the common no-op path of in-process agents short.
 */
export function buildContextPackage(
  task: TaskContext,
  host: ActorHost,
  store: Store,
): ContextPackage | Promise<ContextPackage> {
  const pkg: ContextPackage = {
    ticket: null,
    dependencies: {},
    artifacts: {},
    feedback: task.feedback,
    round: task.round,
    attempt: task.attempt,
    validation: null,
  };
  if (task.spec.ticketId === null && task.spec.dependsOn.length === 0) return pkg;
  return fillContextPackage(pkg, task, host, store);
}

async function fillContextPackage(
  pkg: ContextPackage,
  task: TaskContext,
  host: ActorHost,
  store: Store,
): Promise<ContextPackage> {
  const ticketId = task.spec.ticketId;
  if (ticketId !== null) {
    const live = host.getLive(ticketId);
    const ticket = (live ? live.snapshot.context : (await store.getActor(ticketId))?.context) as
      TicketContext | undefined;
    if (ticket) {
      pkg.ticket = {
        id: ticket.id,
        title: ticket.title,
        description: ticket.description,
        context: ticket.context,
        shared: ticket.shared,
        phases: ticket.phaseOutputs,
      };
    }
  }
  if (task.spec.dependsOn.length > 0) {
    const inMemory = (id: string) => host.getLive(id) ?? host.getSettledRecently(id);
    const unread = task.spec.dependsOn.filter((id) => inMemory(id) === undefined);
    const stored = unread.length > 0 ? await store.getActors(unread) : undefined;
    for (const depId of task.spec.dependsOn) {
      const dep = (inMemory(depId)?.snapshot.context ?? stored?.get(depId)?.context) as TaskContext | undefined;
      if (!dep?.output) continue;
      pkg.dependencies[depId] = {
        result: dep.output.result,
        artifacts: dep.output.artifacts,
        quality: dep.output.quality,
      };
      Object.assign(pkg.artifacts, dep.output.artifacts);
    }
  }
  if (task.spec.role === 'validator') pkg.validation = await buildValidationPackage(task, host, store);
  return pkg;
}
