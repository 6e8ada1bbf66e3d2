import { useState } from 'preact/hooks';
import type { TroupeEvent } from './api.js';
import { EventsList } from './events-list.js';
import { json } from './format.js';
import { GraphView, type GraphNode } from './graph-view.js';
import { useLive, useSession } from './live.js';
import { href } from './route.js';
import { isSettledStatus, isUndecided, membersOf } from './coordinator-members.js';
import type { ActorSummary, CoordinatorView, RunView, TaskView, TicketView } from './views.js';
import { NotLoaded } from './load-state.js';

const CORE_KINDS = new Set(['task', 'agent', 'phase', 'ticket']);

/** The ticket's tasks as a dependency graph, each coloured by its status and linked to its page. */
function TaskGraph({ tasks }: { tasks: TaskView[] }) {
  const ids = new Set(tasks.map((t) => t.id));
  const nodes: GraphNode[] = tasks.map((t) => ({
    id: t.id,
    label: `${t.id} · ${t.status}`,
    className: `s-${t.status}`,
    href: href.task(t.id),
    title: `${t.type}: ${t.status}`,
  }));
  const edges = tasks.flatMap((t) => t.dependsOn.filter((d) => ids.has(d)).map((d) => ({ from: d, to: t.id })));
  return <GraphView nodes={nodes} edges={edges} label="tasks of this ticket by dependency" />;
}

/** Gate criteria as written on the phase (minimum quality, required artifacts, a validator). */
function GateCriteria({ gate }: { gate: unknown }) {
  if (!gate || typeof gate !== 'object' || Object.keys(gate).length === 0) return <span>no gate criteria</span>;
  return <code class="gate">{JSON.stringify(gate)}</code>;
}

/** One ticket: phases with their gates and verdicts, tasks by dependency, coordinators and events. */
export function TicketPage({ id }: { id: string }) {
  const { api, canAct } = useSession();
  const [message, setMessage] = useState<string | null>(null);
  const { data, error } = useLive(
    async (a) => {
      const enc = encodeURIComponent(id);
      const [ticket, tasks, actors, runs, events] = await Promise.all([
        a.get<TicketView>(`/v1/tickets/${enc}`),
        a.all<TaskView>(`/v1/tasks?ticket=${enc}&order=oldest`),
        a.get<{ items: ActorSummary[] }>(`/v1/actors?ticket=${enc}`),
        a.all<RunView>(`/v1/runs?ticket=${enc}&order=oldest`),
        a.get<{ events: TroupeEvent[] }>(`/v1/events?ticket=${enc}&limit=500`),
      ]);
      return { ticket, tasks, actors: actors.items, runs, events: events.events };
    },
    [id],
  );
  if (error || !data) return <NotLoaded error={error} />;
  const { ticket, tasks, actors, runs, events } = data;
  const phaseActors = new Map(
    actors
      .filter((a) => a.kind === 'phase')
      .map((a) => [String((a.view as { name?: string } | null)?.name ?? a.id), a]),
  );
  const statusOf = new Map(tasks.map((t) => [t.id, t.status]));
  // Pattern runs have their own section (and page); every other kind is a coordinator.
  const coordinators = actors.filter((a) => !CORE_KINDS.has(a.kind) && !a.kind.startsWith('pattern:'));
  const cancel = async () => {
    try {
      await api.post(`/v1/tickets/${encodeURIComponent(id)}/cancel`, {});
      setMessage('cancel requested');
    } catch (err) {
      setMessage(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <article class="entity" data-testid="ticket-page" data-status={ticket.status}>
      <h2>
        {ticket.title || ticket.id}{' '}
        <span class={`badge s-${ticket.status}`} data-testid="ticket-status">
          {ticket.status}
        </span>
      </h2>
      {canAct && ticket.status === 'active' ? (
        <div class="actions">
          <button type="button" onClick={cancel}>
            Cancel ticket
          </button>
          {message ? <span role="status">{message}</span> : null}
        </div>
      ) : null}
      <p>{ticket.description}</p>
      <h3>Phases</h3>
      <ol class="phases" data-testid="phases">
        {ticket.phases.map((p) => {
          const actor = phaseActors.get(p.name);
          const gate = (actor?.view as { gate?: unknown } | null)?.gate;
          return (
            <li
              key={p.name}
              class={`phase s-${p.status} ${p.name === ticket.currentPhase ? 'current' : ''}`}
              data-phase={p.name}
              data-status={p.status}
            >
              <h4>
                {p.name} <span class={`badge s-${p.status}`}>{p.status}</span>
                {actor ? (
                  <a class="small" href={href.actor('phase', actor.id)}>
                    statechart
                  </a>
                ) : null}
              </h4>
              <p>
                round {p.round} of {p.maxRounds}; tasks {json(p.tasks)}; quality {p.quality ?? '—'}
              </p>
              <p>
                gate: <GateCriteria gate={gate} />
              </p>
              {p.reasons.length ? <p class="verdict">verdict: {p.reasons.join('; ')}</p> : null}
              {p.feedback ? <p class="feedback">feedback: {p.feedback}</p> : null}
            </li>
          );
        })}
      </ol>
      <h3>Tasks</h3>
      <div class="scroll" data-testid="task-graph">
        <TaskGraph tasks={tasks} />
      </div>
      {runs.length ? (
        <>
          <h3>Pattern runs</h3>
          <ul data-testid="ticket-runs">
            {runs.map((r) => (
              <li key={r.id} data-id={r.id} data-status={r.status}>
                <a href={href.run(r.id)}>{r.id}</a> {r.pattern}
                {r.phase ? ` for phase ${r.phase}` : ''} <span class={`badge s-${r.status}`}>{r.status}</span> in{' '}
                <code>{r.state}</code>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {coordinators.length ? (
        <>
          <h3>Coordinators</h3>
          <table data-testid="coordinators">
            <thead>
              <tr>
                <th>Coordinator</th>
                <th>Kind</th>
                <th>Status</th>
                <th>State</th>
                <th>Waiting for</th>
              </tr>
            </thead>
            <tbody>
              {coordinators.map((c) => {
                const view = c.view as CoordinatorView | null;
                const open =
                  view && isUndecided(view)
                    ? membersOf(view).filter((t) => !isSettledStatus(statusOf.get(t) ?? 'waiting'))
                    : [];
                return (
                  <tr key={c.id} data-id={c.id} data-state={c.state}>
                    <td>
                      <a href={href.actor(c.kind, c.id)}>{c.id}</a>
                    </td>
                    <td>{view?.kind ?? c.kind}</td>
                    <td>{view ? <span class={`badge s-${view.status}`}>{view.status}</span> : '—'}</td>
                    <td>
                      <code>{c.state}</code>
                    </td>
                    <td data-testid="coordinator-waiting" data-open={open.join(' ')}>
                      {open.length === 0
                        ? '—'
                        : open.map((t, i) => (
                            <span key={t}>
                              {i > 0 ? ', ' : ''}
                              <a href={href.task(t)}>{t}</a>
                            </span>
                          ))}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      ) : null}
      <h3>Events</h3>
      <EventsList events={events} withTask />
    </article>
  );
}
