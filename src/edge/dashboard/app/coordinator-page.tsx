import type { Api } from './api.js';
import { dataOf, eventsAbout } from './actor-events.js';
import { heldOf, isSettledStatus, isUndecided, membersOf } from './coordinator-members.js';
import { EventsList } from './events-list.js';
import { json } from './format.js';
import { useLive } from './live.js';
import { href } from './route.js';
import { StatechartPanel } from './statechart-panel.js';
import { TaskTable } from './task-table.js';
import type { ActorChart, CoordinatorView, TaskView } from './views.js';
import { NotLoaded } from './load-state.js';

/** Actor kinds with a coordinator view (locks and quality gates have none: the generic actor page shows them). */
const VIEW_KINDS = new Set(['split', 'join', 'guard', 'route', 'saga', 'barrier'].map((k) => `coordination.${k}`));

export const hasCoordinatorPage = (kind: string): boolean => VIEW_KINDS.has(kind);

/**
 * The tasks by id: from the ticket's list (its first 2,000 tasks, re-read at every live tick, so
 * a page on a huge join stays cheap), else one read each (at most 200).
 */
async function tasksByIds(api: Api, ticketId: string | null, ids: string[]): Promise<TaskView[]> {
  const wanted = new Set(ids);
  if (ticketId) {
    const all = await api.all<TaskView>(`/v1/tasks?ticket=${encodeURIComponent(ticketId)}&order=oldest`);
    const byId = new Map(all.filter((t) => wanted.has(t.id)).map((t) => [t.id, t]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }
  const found = await Promise.all(
    ids.slice(0, 200).map((id) => api.get<TaskView>(`/v1/tasks/${encodeURIComponent(id)}`).catch(() => null)),
  );
  return found.filter((t): t is TaskView => t !== null);
}

/** One line on what a join or sync point still waits for, in its own terms. */
function WaitingFor({ view, tasks }: { view: CoordinatorView; tasks: TaskView[] }) {
  const open = tasks.filter((t) => !isSettledStatus(t.status)).map((t) => t.id);
  const decided = !isUndecided(view);
  return (
    <p data-testid="waiting-for" data-open={open.join(' ')}>
      {decided ? (
        <>
          Decided: <strong>{view.status}</strong>
          {view.reason ? `: ${view.reason}` : ''}.
        </>
      ) : open.length === 0 ? (
        <>Waiting, every task it watches has settled.</>
      ) : (
        <>
          Waiting for <strong>{open.length}</strong> of {tasks.length}:{' '}
          {open.map((id, i) => (
            <span key={id}>
              {i > 0 ? ', ' : ''}
              <a href={href.task(id)}>{id}</a>
            </span>
          ))}
          .
        </>
      )}
      {view.kind === 'join' || view.kind === 'sync' ? (
        <>
          {' '}
          Strategy <code>{view.strategy}</code>: needs {view.needed ?? '?'}, {view.succeeded} succeeded, {view.failed}{' '}
          failed{view.timedOut ? ', timed out' : ''}.
        </>
      ) : null}
    </p>
  );
}

/**
 * A coordinator (a join, sync point, split, guard, route, saga or barrier): its statechart with
 * the current state lit, what it waits for (each task with its status and attempts), the tasks it
 * holds back, its decision and result, and its events in order.
 */
export function CoordinatorPage({ kind, id }: { kind: string; id: string }) {
  const { data, error } = useLive(
    async (api) => {
      const actor = await api.get<ActorChart>(`/v1/actors/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`);
      const view = actor.view as unknown as CoordinatorView;
      const ticketId = view.ticketId ?? null;
      const members = membersOf(view);
      const held = heldOf(view);
      const watched = new Set([...members, ...held]);
      const [tasks, events] = await Promise.all([
        tasksByIds(api, ticketId, [...members, ...held]),
        eventsAbout(api, ticketId, (e) => dataOf(e)['id'] === id || (e.taskId != null && watched.has(e.taskId))),
      ]);
      const memberSet = new Set(members);
      return {
        actor,
        view,
        members: tasks.filter((t) => memberSet.has(t.id)),
        held: tasks.filter((t) => !memberSet.has(t.id)),
        events,
      };
    },
    [kind, id],
  );
  if (error || !data) return <NotLoaded error={error} />;
  const { actor, view, members, held, events } = data;
  const result = view.kind === 'join' || view.kind === 'sync' ? view.result : null;
  return (
    <article class="entity" data-testid="coordinator-page" data-id={actor.id} data-status={view.status}>
      <h2>
        {view.kind === 'sync' ? 'Sync point' : `Coordinator (${view.kind})`} <code>{actor.id}</code>{' '}
        <span class={`badge s-${view.status}`} data-testid="coordinator-status">
          {view.status}
        </span>
      </h2>
      {view.ticketId ? (
        <p>
          Ticket <a href={href.ticket(view.ticketId)}>{view.ticketId}</a>
        </p>
      ) : null}
      <WaitingFor view={view} tasks={members} />
      <StatechartPanel actor={actor} events={events} />
      <h3>{view.kind === 'split' ? 'Tasks it made' : 'Tasks it watches'}</h3>
      <TaskTable tasks={members} testId="coordinator-tasks" withResult />
      {held.length > 0 ? (
        <>
          <h3>Tasks it holds back</h3>
          <TaskTable tasks={held} testId="coordinator-held" withResult />
        </>
      ) : null}
      <h3>Result</h3>
      <pre data-testid="coordinator-result">{json(result ?? view.reason)}</pre>
      <h3>Events</h3>
      <EventsList events={events} withTask />
    </article>
  );
}
