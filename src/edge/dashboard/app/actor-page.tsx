import type { TroupeEvent } from './api.js';
import { EventsList } from './events-list.js';
import { json } from './format.js';
import { useLive } from './live.js';
import { href } from './route.js';
import { StatechartPanel } from './statechart-panel.js';
import type { ActorChart } from './views.js';
import { NotLoaded } from './load-state.js';

/** Events that name this actor: tasks and agents by their own filter, others by their ticket. */
function eventQuery(kind: string, id: string, ticketId: string | null): string | null {
  if (kind === 'task') return `task=${encodeURIComponent(id)}`;
  if (kind === 'agent') return `agent=${encodeURIComponent(id)}`;
  if (ticketId) return `ticket=${encodeURIComponent(ticketId)}`;
  return null;
}

/**
 * Any other actor (a phase, an agent, a lock, a quality gate) drawn as its statechart, with its
 * view and events. Tasks, pattern runs and coordinators have pages of their own.
 */
export function ActorPage({ kind, id }: { kind: string; id: string }) {
  const { data, error } = useLive(
    async (api) => {
      const enc = encodeURIComponent(id);
      const actor = await api.get<ActorChart>(`/v1/actors/${encodeURIComponent(kind)}/${enc}`);
      const ticketId = (actor.context['ticketId'] as string | null | undefined) ?? null;
      const q = eventQuery(kind, id, ticketId);
      const events = q ? (await api.get<{ events: TroupeEvent[] }>(`/v1/events?${q}&limit=500`)).events : [];
      return { actor, events, ticketId };
    },
    [kind, id],
  );
  if (error || !data) return <NotLoaded error={error} />;
  const { actor, events, ticketId } = data;
  return (
    <article class="entity" data-testid="actor-page">
      <h2>
        {actor.kind} <code>{actor.id}</code>{' '}
        <span class={`badge ${actor.settled ? 's-settled' : 's-live'}`}>{actor.settled ? 'settled' : 'live'}</span>
      </h2>
      {ticketId ? (
        <p>
          Ticket <a href={href.ticket(ticketId)}>{ticketId}</a>
        </p>
      ) : null}
      <StatechartPanel actor={actor} events={events} />
      <h3>View</h3>
      <pre>{json(actor.view ?? actor.context)}</pre>
      <h3>Events</h3>
      <EventsList events={events} />
    </article>
  );
}
