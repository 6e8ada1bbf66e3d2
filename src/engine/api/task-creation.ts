import { randomUUID } from 'node:crypto';
import { TroupeError } from '../../core/errors.js';
import type { TaskContext } from '../../core/machines/task-types.js';
import { orderByDependencies } from '../dependency-graph.js';
import { duplicateId, type MessageOutcome, type SpawnRequest } from '../host-types.js';
import { phaseIdOf, type RuntimeCore } from '../runtime-core.js';
import type { StoredActor } from '../store/store.js';
import { resolvePriority, resolveRetry, resolveTimeouts, type TaskCreateInput } from './task-input.js';
import { parseTaskInput } from './task-input-parse.js';
import { dependencyIds, resolveControls, resolveNotBefore } from './task-controls.js';
import { assertStorablePayload } from '../validation.js';
import { taskView, type TaskView } from './views.js';

/**
 * A ticket being created together with its tasks (in the same spawn group): its tasks may name
 * it and its phases although neither exists yet.
 */
export interface TicketInCreation {
  ticketId: string;
  phases: ReadonlySet<string>;
  /** The ids the ticket and its phases will take: no task may take one of them. */
  actorIds: readonly string[];
}

/** Tasks checked and ready to spawn; nothing has changed yet. */
export interface PreparedTasks {
  /** Ids in the order the caller gave the tasks. */
  ids: string[];
  /** Spawn requests, each after the new tasks it depends on. */
  spawns: SpawnRequest[];
}

/**
 * Checks a set of new tasks (fields, payload sizes, duplicate ids, cycles, dependencies, ticket
 * and phase) and turns them into spawn requests. Throws before anything changes; the caller
 * spawns them in one group (`host.spawnAll`), so that all are created or none.
 */
export async function prepareTasks(
  core: RuntimeCore,
  inputs: TaskCreateInput[],
  maxPayloadBytes: number,
  ticket?: TicketInCreation,
): Promise<PreparedTasks> {
  const parsed = inputs.map((input, i) => {
    const value = parseTaskInput(input, inputs.length > 1 ? `task [${i}]` : 'task');
    if (value.input !== undefined) assertStorablePayload(value.input, 'task input', maxPayloadBytes);
    // zod's output is a fresh object: it may take the generated id in place.
    value.id ??= `task-${randomUUID()}`;
    const withId = value as typeof value & { id: string };
    return {
      ...withId,
      deps: dependencyIds(value.dependsOn),
      controls: resolveControls(withId),
      notBefore: resolveNotBefore(withId, core.options.clock.now()),
    };
  });
  const ids = new Set<string>();
  for (const t of parsed) {
    if (ids.has(t.id)) throw new TroupeError('E_DUPLICATE_ID', `task id "${t.id}" is given twice`);
    ids.add(t.id);
  }
  for (const id of ticket?.actorIds ?? []) {
    if (ids.has(id))
      throw new TroupeError('E_DUPLICATE_ID', `task id "${id}" is the id of the ticket or of one of its phases`);
  }
  const ordered = orderByDependencies(parsed.map((t) => ({ ...t, dependsOn: t.deps })));
  await checkReferences(core, ordered, ids, ticket);
  const spawns = ordered.map((t) => {
    const ticketId = t.ticketId ?? null;
    const phase = ticketId !== null ? (t.phase ?? null) : null;
    const spawn: SpawnRequest = {
      kind: 'task',
      id: t.id,
      input: {
        id: t.id,
        type: t.type,
        description: t.description ?? '',
        ticketId,
        phase,
        priority: resolvePriority(t.priority),
        requires: t.requires === undefined || t.requires.length === 0 ? [] : [...new Set(t.requires)],
        input: t.input ?? null,
        dependsOn: t.dependsOn,
        satisfiedDeps: [],
        phaseOpen: phase === null,
        retry: resolveRetry(t.retry, core.options.retry),
        timeouts: resolveTimeouts(t.timeouts),
        role: t.role ?? null,
        controls: t.controls,
        notBefore: t.notBefore,
        ...(t.traceparent !== undefined ? { traceparent: t.traceparent } : {}),
      },
      ticketId,
    };
    // The phase counts the task in the batch that creates it: a crash cannot store one without the other.
    if (ticketId !== null && phase !== null)
      spawn.announce = { to: phaseIdOf(ticketId, phase), event: { type: 'phase.task_added', taskId: t.id } };
    return spawn;
  });
  return { ids: parsed.map((t) => t.id), spawns };
}

/** The views of prepared tasks once spawned (`outcomes` in the order of `prepared.spawns`). */
export function createdViews(prepared: PreparedTasks, outcomes: readonly MessageOutcome[]): TaskView[] {
  const byId = new Map(prepared.spawns.map((s, i) => [s.id, outcomes[i]]));
  return prepared.ids.map((id) => {
    const snapshot = byId.get(id)?.snapshot;
    if (!snapshot) throw new TroupeError('E_INVALID_STATE', `task ${id} was not created`);
    return taskView(snapshot.value, snapshot.context as TaskContext);
  });
}

/** The first refusal among spawn outcomes, thrown. */
export function throwIfRefused(outcomes: readonly MessageOutcome[]): void {
  const failed = outcomes.find((o) => !o.applied);
  if (failed?.error) throw failed.error;
}

type Checked = {
  id: string;
  dependsOn?: string[] | undefined;
  ticketId?: string | undefined;
  phase?: string | undefined;
};

async function checkReferences(
  core: RuntimeCore,
  tasks: Checked[],
  newIds: Set<string>,
  ticket: TicketInCreation | undefined,
): Promise<void> {
  // A live actor is refused here; one only in the store (settled) by the spawn group, which reads
  // every id of the group once in its batch (reading them here too cost a second read per task).
  for (const id of newIds) {
    const kind = core.host.getLive(id)?.kind;
    if (kind !== undefined) throw duplicateId(id, kind);
  }
  const external = [...new Set(tasks.flatMap((t) => t.dependsOn ?? []).filter((d) => !newIds.has(d)))];
  const unread = external.filter((d) => !core.host.getLive(d));
  const found = unread.length > 0 ? await core.options.store.getActors(unread) : new Map<string, StoredActor>();
  // Each ticket and phase is checked once, however many of the tasks name it.
  const checkedPlaces = new Set<string>();
  for (const t of tasks) {
    for (const dep of t.dependsOn ?? []) {
      if (newIds.has(dep)) continue;
      const live = core.host.getLive(dep);
      const stored = found.get(dep);
      const kind = live?.kind ?? stored?.kind;
      if (kind !== 'task') {
        throw new TroupeError('E_MISSING_DEPENDENCY', `task ${t.id} depends on "${dep}", which is not a known task`);
      }
      // Unfinished but not live here: another writer holds it (a shard of a sharded cluster), and
      // its end would never reach this runtime. (With one writer every unfinished task is live.)
      if (live === undefined && stored?.settled === false) {
        throw new TroupeError(
          'E_CROSS_SHARD_DEPENDENCY',
          `task ${t.id} depends on "${dep}", unfinished work another shard writes; a task waits only on work of its own shard`,
          { details: { taskId: t.id, dependency: dep } },
        );
      }
    }
    if (t.phase !== undefined && t.ticketId === undefined) {
      throw new TroupeError('E_INVALID_INPUT', `task ${t.id} names phase "${t.phase}" but no ticketId`);
    }
    const place = `${t.ticketId}\u0000${t.phase}`;
    if (t.ticketId !== undefined && !checkedPlaces.has(place)) {
      if (t.ticketId === ticket?.ticketId) checkNewTicket(t.id, ticket, t.phase);
      else await checkTicket(core, t.id, t.ticketId, t.phase);
      checkedPlaces.add(place);
    }
  }
}

function checkNewTicket(taskId: string, ticket: TicketInCreation, phase: string | undefined): void {
  if (phase !== undefined && !ticket.phases.has(phase)) {
    throw new TroupeError('E_UNKNOWN_PHASE', `task ${taskId}: ticket ${ticket.ticketId} has no phase "${phase}"`);
  }
}

async function checkTicket(
  core: RuntimeCore,
  taskId: string,
  ticketId: string,
  phase: string | undefined,
): Promise<void> {
  const ticket = core.host.getLive(ticketId) ?? (await core.options.store.getActor(ticketId));
  if (!ticket || ticket.kind !== 'ticket')
    throw new TroupeError('E_UNKNOWN_TICKET', `task ${taskId} names unknown ticket "${ticketId}"`);
  if (phase === undefined) return;
  const phaseId = phaseIdOf(ticketId, phase);
  const live = core.host.getLive(phaseId);
  if (live) return;
  const stored = await core.options.store.getActor(phaseId);
  if (!stored) throw new TroupeError('E_UNKNOWN_PHASE', `ticket ${ticketId} has no phase "${phase}"`);
  throw new TroupeError(
    'E_INVALID_STATE',
    `phase "${phase}" of ticket ${ticketId} has already ${String(stored.state)}`,
  );
}
