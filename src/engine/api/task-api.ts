import { TroupeError } from '../../core/errors.js';
import { SETTLED_TASK_STATUSES, type TaskContext, type TaskStatus } from '../../core/machines/task-types.js';
import type { RuntimeCore } from '../runtime-core.js';
import type { StoredActor } from '../store/store.js';
import {
  createdViews,
  prepareTasks,
  throwIfRefused,
  type PreparedTasks,
  type TicketInCreation,
} from './task-creation.js';
import type { TaskCreateInput } from './task-input.js';
import { stateOf, taskView, type TaskView } from './views.js';
import { pageViews, type PageRequest, type ViewPage } from './view-paging.js';

/**
 * Which tasks `runtime.tasks.list` returns; every field narrows the list.
 *
 * @example
 * ```ts
 * const failed = await runtime.tasks.list({ ticketId: 'T-1', status: ['failed', 'dead_lettered'] });
 * ```
 */
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
 * Which tasks `runtime.tasks.page` returns; every field narrows the page.
 *
 * @example
 * ```ts
 * const filter: TaskPageFilter = { status: ['dead_lettered'], agentId: 'backend' };
 * ```
 */
export interface TaskPageFilter {
  ticketId?: string;
  status?: TaskStatus | TaskStatus[];
  phase?: string;
  type?: string;
  /** Tasks this agent holds or made an attempt at. */
  agentId?: string;
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
    const prepared = await prepareTasks(this.core, inputs, this.maxPayloadBytes);
    // One group: a crash, or an id taken meanwhile, leaves none of these tasks.
    const outcomes = await this.core.host.spawnAll(prepared.spawns);
    throwIfRefused(outcomes);
    return createdViews(prepared, outcomes);
  }

  /** @internal Checks tasks made together with a new ticket (see `TicketApi.create`). */
  prepareWithTicket(inputs: TaskCreateInput[], ticket: TicketInCreation): Promise<PreparedTasks> {
    return prepareTasks(this.core, inputs, this.maxPayloadBytes, ticket);
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
      views.set(actor.id, this.explained(taskView(actor.snapshot.value, actor.snapshot.context as TaskContext)));
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
   * One page of tasks, live and settled, in creation order (then id), read by keyset from the
   * store: paging through any number of settled tasks reads a page of rows at a time, never all
   * of them (`GET /v1/tasks`). Live tasks show as they are in memory.
   */
  async page(filter: TaskPageFilter, request: PageRequest): Promise<ViewPage<TaskView>> {
    await this.ready();
    const statuses = filter.status === undefined ? undefined : new Set([filter.status].flat());
    const wanted = statuses === undefined ? [] : [...statuses];
    // Only settled statuses: only settled rows; none: only live ones (the store's settled flag).
    const settled =
      wanted.length === 0
        ? undefined
        : wanted.every((s) => SETTLED_TASK_STATUSES.has(s))
          ? true
          : wanted.every((s) => !SETTLED_TASK_STATUSES.has(s))
            ? false
            : undefined;
    const query = {
      kinds: ['task'],
      ...(filter.ticketId !== undefined ? { ticketId: filter.ticketId } : {}),
      ...(settled !== undefined ? { settled } : {}),
    };
    return pageViews(this.core.options.store, query, request, (stored) => {
      const live = this.core.host.getLive(stored.id);
      const view =
        live?.kind === 'task'
          ? this.explained(taskView(live.snapshot.value, live.snapshot.context as TaskContext))
          : viewOf(stored);
      const agent = filter.agentId;
      const kept =
        (statuses === undefined || statuses.has(view.status)) &&
        (filter.phase === undefined || view.phase === filter.phase) &&
        (filter.type === undefined || view.type === filter.type) &&
        (agent === undefined || view.agentId === agent || view.attempts.some((a) => a.agentId === agent));
      return kept ? view : undefined;
    });
  }

  /**
   * Cancels a task that has not settled; a running agent is told to stop (its signal aborts).
   * Cancelling a settled task is refused with `E_INVALID_STATE`.
   */
  async cancel(id: string, reason = 'cancelled by request'): Promise<TaskView> {
    await this.ready();
    await this.get(id);
    const outcome = await this.core.host.request(id, { type: 'task.cancel', reason }, 'task');
    if (outcome.error) throw outcome.error;
    const view = taskView(outcome.snapshot?.value, outcome.snapshot?.context as TaskContext);
    if (!outcome.applied) {
      throw new TroupeError('E_INVALID_STATE', `task ${id} is ${view.status} and cannot be cancelled`);
    }
    return view;
  }

  /**
   * What this task blocks: the unsettled tasks that wait for it, directly or through others
   * (none once it has settled: a success frees them, a failure has skipped them). The other
   * direction is `dependenciesOf`.
   */
  async dependentsOf(id: string): Promise<TaskView[]> {
    await this.ready();
    if (SETTLED_TASK_STATUSES.has((await this.get(id)).status)) return [];
    const all = await this.list({ includeSettled: false });
    const dependents = new Map<string, TaskView[]>();
    for (const t of all) for (const d of t.dependsOn) dependents.set(d, [...(dependents.get(d) ?? []), t]);
    return walk(id, (current) => dependents.get(current) ?? []);
  }

  /**
   * What blocks this task: the tasks it waits for, directly or through others, that have not
   * settled yet (a succeeded dependency blocks nothing; a failed one has already skipped this
   * task). The other direction is `dependentsOf`.
   */
  async dependenciesOf(id: string): Promise<TaskView[]> {
    await this.ready();
    await this.get(id);
    const unsettled = new Map((await this.list({ includeSettled: false })).map((t) => [t.id, t]));
    return walk(id, (current) => {
      const task = unsettled.get(current);
      return task ? task.dependsOn.flatMap((d) => unsettled.get(d) ?? []) : [];
    });
  }

  /** Resolves when the task settles (succeeded, dead-lettered, cancelled or skipped). */
  async wait(id: string): Promise<TaskView> {
    await this.ready();
    await this.get(id);
    return viewOf(await this.core.waitSettled(id));
  }

  /** The view with why it waits, for a task that has not started. */
  private explained(view: TaskView): TaskView {
    if (view.status === 'queued') view.waitingFor = this.core.dispatcher.whyWaiting(view.id);
    else if (view.status === 'waiting') {
      const why: string[] = [];
      if (view.notBefore !== null) why.push(`delayed until ${view.notBefore}`);
      if (view.pendingDependencies.length > 0) why.push(`dependencies ${view.pendingDependencies.join(', ')}`);
      view.waitingFor = why.length > 0 ? why.join('; ') : 'its phase to open';
    } else if (view.status === 'retrying') view.waitingFor = `retry backoff until ${view.retryAt}`;
    return view;
  }

  private async find(id: string): Promise<TaskView | undefined> {
    const live = this.core.host.getLive(id);
    if (live)
      return live.kind === 'task'
        ? this.explained(taskView(live.snapshot.value, live.snapshot.context as TaskContext))
        : undefined;
    const stored = await this.core.options.store.getActor(id);
    return stored?.kind === 'task' ? viewOf(stored) : undefined;
  }
}

/** Every task reachable from `start` through `next`, once each, `start` itself left out. */
function walk(start: string, next: (id: string) => TaskView[]): TaskView[] {
  const seen = new Set<string>([start]);
  const out: TaskView[] = [];
  const stack = [start];
  while (stack.length > 0) {
    for (const t of next(stack.pop() as string)) {
      if (seen.has(t.id) || SETTLED_TASK_STATUSES.has(t.status)) continue;
      seen.add(t.id);
      out.push(t);
      stack.push(t.id);
    }
  }
  return out;
}

export function viewOf(record: StoredActor): TaskView {
  const { value, context } = stateOf(record);
  return taskView(value, context as TaskContext);
}
