import type { TaskCreateInput } from '../../engine/api/task-input.js';
import type { TicketCreateInput } from '../../engine/api/ticket-api.js';
import type { AgentView, TaskView, TicketView } from '../../engine/api/views.js';
import type { TroupeEvent } from '../../engine/event-bus.js';
import type { PatternRunView } from '../../features/patterns/run/run-view.js';
import type { AgentListQuery } from '../http/schemas/agent-schemas.js';
import type { EventQuery } from '../http/schemas/event-schemas.js';
import type { RunCreateBody, RunListQuery } from '../http/schemas/run-schemas.js';
import type { ScheduleCreateBody } from '../http/schemas/schedule-schemas.js';
import type { ScheduleView } from '../../features/schedules/schedule-api.js';
import type { TaskListQuery } from '../http/schemas/task-schemas.js';
import type { TicketListQuery } from '../http/schemas/ticket-schemas.js';
import { ApiError, apiErrorOf } from './api-error.js';
import { readSse } from './sse-reader.js';
import { followUntilSettled, type EntityKind, type EventStreamQuery, type WaitOptions } from './wait.js';
export type { EventStreamQuery } from './wait.js';

/** Where `createClient` finds the server, and the token it sends. */
export interface ClientOptions {
  /** The server's HTTP base, e.g. `http://127.0.0.1:7411`. */
  url: string;
  /** A client token (reads and writes) or an observer token (reads only). */
  token: string;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
}

/** A page of a list: `nextCursor` goes back as `cursor` for the next page (null: the last). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type { TaskView, TicketView, AgentView, PatternRunView, ScheduleView, TroupeEvent };

/** What a stream of events may be asked for (the filters of `GET /v1/events`, and where to resume). */

function queryString(query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    params.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  const text = params.toString();
  return text.length > 0 ? `?${text}` : '';
}

const idPath = (id: string) => encodeURIComponent(id);

/**
 * A typed client of a Troupe server's HTTP API (docs/api.md): one method per route, refusals as
 * `ApiError`s with the server's code, and `wait(id)` that follows the event stream until the
 * task, ticket or run has settled.
 *
 * @example
 * ```ts
 * import { createClient } from 'troupe/client';
 *
 * const troupe = createClient({ url: 'http://127.0.0.1:7411', token: process.env.TROUPE_TOKEN! });
 * const { tasks } = await troupe.tasks.submit({ id: 'build-42', type: 'build', requires: ['node'] });
 * const done = await troupe.wait(tasks[0].id);
 * console.log(done.status); // 'succeeded'
 * ```
 */
export function createClient(options: ClientOptions) {
  const base = options.url.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const headers = { Authorization: `Bearer ${options.token}` };

  async function request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const init: RequestInit = {
      method,
      headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await doFetch(`${base}${path}`, init);
    if (!response.ok) throw await apiErrorOf(response);
    return { status: response.status, body: (await response.json()) as T };
  }
  const get = async <T>(path: string): Promise<T> => (await request<T>('GET', path)).body;
  const post = async <T>(path: string, body: unknown = {}): Promise<T> => (await request<T>('POST', path, body)).body;
  const cancelBody = (reason?: string) => (reason === undefined ? {} : { reason });

  /**
   * Opens an event stream and resolves once the server has answered (from then on it delivers
   * every matching event that commits); iterate the result to read them.
   */
  async function openStream(query: EventStreamQuery = {}): Promise<AsyncGenerator<TroupeEvent>> {
    const { signal, after, ...filter } = query;
    const response = await doFetch(`${base}/v1/events${queryString({ ...filter, after })}`, {
      headers: { ...headers, Accept: 'text/event-stream' },
      ...(signal ? { signal } : {}),
    });
    if (!response.ok) throw await apiErrorOf(response);
    const body = response.body;
    return (async function* events() {
      if (!body) return;
      try {
        for await (const message of readSse(body)) yield JSON.parse(message.data) as TroupeEvent;
      } catch (error) {
        if (signal?.aborted) return;
        throw error;
      }
    })();
  }

  /** Live events (after `after`, when given) until the signal aborts or the server ends the stream. */
  async function* stream(query: EventStreamQuery = {}): AsyncGenerator<TroupeEvent> {
    yield* await openStream(query);
  }

  const tasks = {
    /** Creates one task, or several together (all or none). Idempotent by id. */
    submit: (input: TaskCreateInput | TaskCreateInput[]) =>
      post<{ tasks: TaskView[]; created: string[] }>('/v1/tasks', Array.isArray(input) ? { tasks: input } : input),
    list: (query: TaskListQuery = {}) => get<Page<TaskView>>(`/v1/tasks${queryString(query)}`),
    get: (id: string) => get<TaskView>(`/v1/tasks/${idPath(id)}`),
    cancel: (id: string, reason?: string) => post<TaskView>(`/v1/tasks/${idPath(id)}/cancel`, cancelBody(reason)),
  };
  const tickets = {
    /** Creates a ticket with its phases and plan. Idempotent by id. */
    create: (input: TicketCreateInput) => post<TicketView>('/v1/tickets', input),
    list: (query: TicketListQuery = {}) => get<Page<TicketView>>(`/v1/tickets${queryString(query)}`),
    get: (id: string) => get<TicketView>(`/v1/tickets/${idPath(id)}`),
    cancel: (id: string, reason?: string) => post<TicketView>(`/v1/tickets/${idPath(id)}/cancel`, cancelBody(reason)),
  };
  const runs = {
    /** Applies a pattern (a name or YAML text) with its inputs. Idempotent by `runId`. */
    apply: (input: RunCreateBody) => post<PatternRunView>('/v1/runs', input),
    list: (query: RunListQuery = {}) => get<Page<PatternRunView>>(`/v1/runs${queryString(query)}`),
    get: (id: string) => get<PatternRunView>(`/v1/runs/${idPath(id)}`),
    cancel: (id: string, reason?: string) => post<PatternRunView>(`/v1/runs/${idPath(id)}/cancel`, cancelBody(reason)),
  };
  const schedules = {
    /** Creates a cron schedule that creates a task, a ticket or a pattern run at each fire time. */
    create: (input: ScheduleCreateBody) => post<ScheduleView>('/v1/schedules', input),
    /** Every active schedule, by id. */
    list: async () => (await get<{ items: ScheduleView[] }>('/v1/schedules')).items,
    get: (id: string) => get<ScheduleView>(`/v1/schedules/${idPath(id)}`),
    /** Removes it: no later fire time gets a run. */
    remove: async (id: string) => (await request<ScheduleView>('DELETE', `/v1/schedules/${idPath(id)}`)).body,
  };
  const agents = {
    list: (query: AgentListQuery = {}) => get<Page<AgentView>>(`/v1/agents${queryString(query)}`),
    get: (id: string) => get<AgentView>(`/v1/agents/${idPath(id)}`),
  };
  const events = {
    /** Stored events after `after`, oldest first; `lastSeq` is the `after` of the next page. */
    list: (query: EventQuery = {}) =>
      get<{ events: TroupeEvent[]; lastSeq: number }>(`/v1/events${queryString(query)}`),
    stream,
    open: openStream,
  };

  /** Which kind of entity an id names (a task, a ticket, or a pattern run), read as it is now. */
  async function find(
    id: string,
  ): Promise<
    { kind: 'task'; view: TaskView } | { kind: 'ticket'; view: TicketView } | { kind: 'run'; view: PatternRunView }
  > {
    const attempts = [
      () => tasks.get(id).then((view) => ({ kind: 'task' as const, view })),
      () => tickets.get(id).then((view) => ({ kind: 'ticket' as const, view })),
      () => runs.get(id).then((view) => ({ kind: 'run' as const, view })),
    ];
    for (const attempt of attempts) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
      }
    }
    throw new ApiError('E_NOT_FOUND', `no task, ticket or pattern run has id "${id}"`, 404, ['path', 'id']);
  }

  const readers: Record<EntityKind, (id: string) => Promise<TaskView | TicketView | PatternRunView>> = {
    task: tasks.get,
    ticket: tickets.get,
    run: runs.get,
  };

  return {
    tasks,
    tickets,
    runs,
    schedules,
    agents,
    events,
    find,
    /**
     * Resolves with the task, ticket or run once it has settled (succeeded, failed, cancelled...),
     * following the event stream (and resuming it after a dropped connection); `onEvent` sees
     * every event of the entity on the way.
     */
    async wait(id: string, waitOptions: WaitOptions = {}): Promise<TaskView | TicketView | PatternRunView> {
      const found = await find(id);
      return followUntilSettled(
        found.kind,
        id,
        found.view,
        { read: readers[found.kind], open: openStream },
        waitOptions,
      );
    },
    /** `GET /healthz` and `/readyz`: true when 200. */
    health: async () => (await doFetch(`${base}/healthz`)).ok,
    ready: async () => (await doFetch(`${base}/readyz`)).ok,
    /** `GET /v1/openapi.json`. */
    openapi: () => get<Record<string, unknown>>('/v1/openapi.json'),
  };
}

/** The client `createClient` returns. */
export type TroupeClient = ReturnType<typeof createClient>;
