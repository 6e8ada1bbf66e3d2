import type { TroupeEvent } from './api.js';
import { EventsList } from './events-list.js';
import { json } from './format.js';
import { useLive } from './live.js';
import { href } from './route.js';
import { StatechartPanel } from './statechart-panel.js';
import type { ActorChart, RunView } from './views.js';

/** Events that name this actor: tasks and agents by their own filter, others by their ticket. */
function eventQuery(kind: string, id: string, ticketId: string | null): string | null {
  if (kind === 'task') return `task=${encodeURIComponent(id)}`;
  if (kind === 'agent') return `agent=${encodeURIComponent(id)}`;
  if (ticketId) return `ticket=${encodeURIComponent(ticketId)}`;
  return null;
}

/** Any actor (a coordinator, a phase, an agent, a pattern run) drawn as its statechart, with its view and events. */
export function ActorPage({ kind, id, run }: { kind: string; id: string; run?: boolean }) {
  const { data, error } = useLive(
    async (api) => {
      const enc = encodeURIComponent(id);
      const runView = run ? await api.get<RunView>(`/v1/runs/${enc}`) : null;
      const actorKind = runView ? runView.kind : kind;
      const actor = await api.get<ActorChart>(`/v1/actors/${encodeURIComponent(actorKind)}/${enc}`);
      const ticketId = (actor.context['ticketId'] as string | null | undefined) ?? runView?.ticketId ?? null;
      const q = eventQuery(actorKind, id, ticketId);
      const events = q ? (await api.get<{ events: TroupeEvent[] }>(`/v1/events?${q}&limit=500`)).events : [];
      return { actor, runView, events, ticketId };
    },
    [kind, id, run],
  );
  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (!data) return <p aria-busy="true">Loading…</p>;
  const { actor, runView, events, ticketId } = data;
  return (
    <article class="entity" data-testid="actor-page">
      <h2>
        {runView ? 'Pattern run' : actor.kind} <code>{actor.id}</code>{' '}
        <span class={`badge ${actor.settled ? 's-settled' : 's-live'}`}>{actor.settled ? 'settled' : 'live'}</span>
      </h2>
      {ticketId ? (
        <p>
          Ticket <a href={href.ticket(ticketId)}>{ticketId}</a>
        </p>
      ) : null}
      <StatechartPanel actor={actor} events={events} />
      <h3>View</h3>
      <pre>{json(runView ?? actor.view ?? actor.context)}</pre>
      <h3>Events</h3>
      <EventsList events={events} />
    </article>
  );
}
