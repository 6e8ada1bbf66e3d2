import { randomUUID } from 'node:crypto';
import { TroupeError } from '../errors.js';
import { SETTLED_TASK_STATUSES, type TaskContext, type TaskStatus } from '../machines/task-types.js';
import { orderByDependencies } from './dependency-graph.js';
import { phaseIdOf, type RuntimeCore } from './runtime-core.js';
import type { StoredActor } from './store/store.js';
import type { SpawnRequest } from './host-types.js';
import {
  resolvePriority,
  resolveRetry,
  resolveTimeouts,
  taskCreateSchema,
  type TaskCreateInput,
} from './task-input.js';
import { assertJson, jsonSize, parseOrThrow } from './validation.js';
import { stateOf, taskView, type TaskView } from './views.js';

export interface TaskListFilter {
  ticketId?: string;
  status?: TaskStatus | TaskStatus[];
  phase?: string;
  type?: string;
  /** Include settled tasks (read from the store). Default true. */
  includeSettled?: boolean;
  limit?: number;
}


/**
 * Tasks: create (alone or as a graph), read, list, cancel, and wait.
 *
 * @example
 * ```ts
 * const a = await runtime.tasks.create({ type: 'design', requires: ['architect'] });
 * const b = await runtime.tasks.create({ type: 'build', dependsOn: [a.id], priority: 'high' });
 * const done = await runtime.tasks.wait(b.id);
 * ```
 */
export class TaskApi {
  constructor(
    private readonly core: RuntimeCore,
    private readonly ready: () => Promise<void>,
    private readonly maxPayloadBytes: number,
  ) {}

  /** Creates one task. Rejects unknown or cyclic dependencies and bad fields before anything changes. */
  async create(input: TaskCreateInput): Promise<TaskView> {
    const [created] = await this.createMany([input]);
    return created as TaskView;
  }

  /**
   * Creates several tasks at once; they may depend on each other by id. Either all are created
   * or none (a cycle, a missing dependency or a bad field rejects the whole set).
   */
  async createMany(inputs: TaskCreateInput[]): Promise<TaskView[]> {
    await this.ready();
    const parsed = inputs.map((input, i) => {
      const value = parseOrThrow(taskCreateSchema, input, inputs.length > 1 ? `task [${i}]` : 'task');
      if (value.input !== undefined) {
        assertJson(value.input, 'task input');
        const size = jsonSize(value.input);
        if (size > this.maxPayloadBytes) {
          throw new TroupeError('E_PAYLOAD_TOO_LARGE', `task input is ${size} bytes, over the limit of ${this.maxPayloadBytes}`);
        }
      }
      // zod's output is a fresh object: it may take the generated id in place.
      value.id ??= `task-${randomUUID()}`;
      return value as typeof value & { id: string };
    });
    const ids = new Set<string>();
    for (const t of parsed) {
      if (ids.has(t.id)) throw new TroupeError('E_DUPLICATE_ID', `task id "${t.id}" is given twice`);
      ids.add(t.id);
    }
    const ordered = orderByDependencies(parsed);
    await this.checkReferences(parsed, ids);
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
          dependsOn: t.dependsOn === undefined || t.dependsOn.length === 0 ? [] : [...new Set(t.dependsOn)],
          satisfiedDeps: [],
          phaseOpen: phase === null,
          retry: resolveRetry(t.retry, this.core.options.retry),
          timeouts: resolveTimeouts(t.timeouts),
          role: t.role ?? null,
        },
        ticketId,
      };
      // The phase counts the task in the batch that creates it: a crash cannot store one without the other.
      if (ticketId !== null && phase !== null) spawn.announce = { to: phaseIdOf(ticketId, phase), event: { type: 'phase.task_added', taskId: t.id } };
      return spawn;
    });
    // One batch for the whole set: a crash stores all of these tasks or none.
    const outcomes = await this.core.host.spawnAll(spawns);
    const failed = outcomes.find((o) => !o.applied);
    if (failed?.error) throw failed.error;
    const byId = new Map(ordered.map((t, i) => [t.id, outcomes[i]]));
    return parsed.map((t) => {
      const snapshot = byId.get(t.id)?.snapshot;
      if (!snapshot) throw new TroupeError('E_INVALID_STATE', `task ${t.id} was not created`);
      return taskView(snapshot.value, snapshot.context as TaskContext);
    });
  }

  /** The task as it is now; throws `E_UNKNOWN_TASK` for an unknown id. */
  async get(id: string): Promise<TaskView> {
    await this.ready();
    const found = await this.find(id);
    if (!found) throw new TroupeError('E_UNKNOWN_TASK', `no task has id "${id}"`);
    return found;
  }

  async list(filter: TaskListFilter = {}): Promise<TaskView[]> {
    await this.ready();
    const statuses = filter.status === undefined ? undefined : new Set([filter.status].flat());
    const views = new Map<string, TaskView>();
    for (const actor of this.core.host.liveActors()) {
      if (actor.kind !== 'task') continue;
      if (filter.ticketId !== undefined && actor.ticketId !== filter.ticketId) continue;
      views.set(actor.id, taskView(actor.snapshot.value, actor.snapshot.context as TaskContext));
    }
    if (filter.includeSettled !== false) {
      const query = filter.ticketId !== undefined ? { kind: 'task', ticketId: filter.ticketId } : { kind: 'task' };
      for (const stored of await this.core.options.store.listActors({ ...query, settled: true })) {
        if (!views.has(stored.id)) views.set(stored.id, viewOf(stored));
      }
    }
    const result = [...views.values()]
      .filter(
        (v) =>
          (statuses === undefined || statuses.has(v.status)) &&
          (filter.phase === undefined || v.phase === filter.phase) &&
          (filter.type === undefined || v.type === filter.type),
      )
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    return filter.limit === undefined ? result : result.slice(0, filter.limit);
  }

  /**
   * Cancels a task that has not settled; a running agent is told to stop (its signal aborts).
   * Cancelling a settled task is refused with `E_INVALID_STATE`.
   */
  async cancel(id: string, reason = 'cancelled by request'): Promise<TaskView> {
    await this.ready();
    await this.get(id);
    const outcome = await this.core.host.request(id, { type: 'task.cancel', reason });
    if (outcome.error) throw outcome.error;
    const view = taskView(outcome.snapshot?.value, outcome.snapshot?.context as TaskContext);
    if (!outcome.applied) {
      throw new TroupeError('E_INVALID_STATE', `task ${id} is ${view.status} and cannot be cancelled`);
    }
    return view;
  }

  /** Tasks that wait, directly or through others, for this one. */
  async blockedBy(id: string): Promise<TaskView[]> {
    await this.ready();
    await this.get(id);
    const all = await this.list();
    const dependents = new Map<string, TaskView[]>();
    for (const t of all) for (const d of t.dependsOn) dependents.set(d, [...(dependents.get(d) ?? []), t]);
    const seen = new Set<string>();
    const out: TaskView[] = [];
    const stack = [id];
    while (stack.length > 0) {
      const current = stack.pop() as string;
      for (const t of dependents.get(current) ?? []) {
        if (seen.has(t.id) || SETTLED_TASK_STATUSES.has(t.status)) continue;
        seen.add(t.id);
        out.push(t);
        stack.push(t.id);
      }
    }
    return out;
  }

  /** Resolves when the task settles (succeeded, dead-lettered, cancelled or skipped). */
  async wait(id: string): Promise<TaskView> {
    await this.ready();
    await this.get(id);
    return viewOf(await this.core.waitSettled(id));
  }

  private async find(id: string): Promise<TaskView | undefined> {
    const live = this.core.host.getLive(id);
    if (live) return live.kind === 'task' ? taskView(live.snapshot.value, live.snapshot.context as TaskContext) : undefined;
    const stored = await this.core.options.store.getActor(id);
    return stored?.kind === 'task' ? viewOf(stored) : undefined;
  }

  private async checkReferences(
    tasks: Array<{ id: string; dependsOn?: string[] | undefined; ticketId?: string | undefined; phase?: string | undefined }>,
    newIds: Set<string>,
  ): Promise<void> {
    const existing = await this.core.options.store.getActors([...newIds]);
    for (const id of newIds) {
      const kind = this.core.host.getLive(id)?.kind ?? existing.get(id)?.kind;
      if (kind !== undefined) {
        throw new TroupeError(
          'E_DUPLICATE_ID',
          `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} with id "${id}" already exists (tasks, tickets, phases and agents share one address space)`,
        );
      }
    }
    const external = [...new Set(tasks.flatMap((t) => t.dependsOn ?? []).filter((d) => !newIds.has(d)))];
    const unread = external.filter((d) => !this.core.host.getLive(d));
    const found = unread.length > 0 ? await this.core.options.store.getActors(unread) : new Map<string, StoredActor>();
    // Each ticket and phase is checked once, however many of the tasks name it.
    const checkedPlaces = new Set<string>();
    for (const t of tasks) {
      for (const dep of t.dependsOn ?? []) {
        if (newIds.has(dep)) continue;
        const live = this.core.host.getLive(dep);
        const kind = live?.kind ?? found.get(dep)?.kind;
        if (kind !== 'task') {
          throw new TroupeError('E_MISSING_DEPENDENCY', `task ${t.id} depends on "${dep}", which is not a known task`);
        }
      }
      if (t.phase !== undefined && t.ticketId === undefined) {
        throw new TroupeError('E_INVALID_INPUT', `task ${t.id} names phase "${t.phase}" but no ticketId`);
      }
      const place = `${t.ticketId}\u0000${t.phase}`;
      if (t.ticketId !== undefined && !checkedPlaces.has(place)) {
        await this.checkTicket(t.id, t.ticketId, t.phase);
        checkedPlaces.add(place);
      }
    }
  }

  private async checkTicket(taskId: string, ticketId: string, phase: string | undefined): Promise<void> {
    const ticket = this.core.host.getLive(ticketId) ?? (await this.core.options.store.getActor(ticketId));
    if (!ticket || ticket.kind !== 'ticket') throw new TroupeError('E_UNKNOWN_TICKET', `task ${taskId} names unknown ticket "${ticketId}"`);
    if (phase === undefined) return;
    const phaseId = phaseIdOf(ticketId, phase);
    const live = this.core.host.getLive(phaseId);
    if (live) return;
    const stored = await this.core.options.store.getActor(phaseId);
    if (!stored) throw new TroupeError('E_UNKNOWN_PHASE', `ticket ${ticketId} has no phase "${phase}"`);
    throw new TroupeError('E_INVALID_STATE', `phase "${phase}" of ticket ${ticketId} has already ${String(stored.state)}`);
  }
}

export function viewOf(record: StoredActor): TaskView {
  const { value, context } = stateOf(record);
  return taskView(value, context as TaskContext);
}
