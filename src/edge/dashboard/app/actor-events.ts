import type { Api, TroupeEvent } from './api.js';

/** The `data` object an event carries (a run's events name it as `data.runId`, a coordinator's as `data.id`). */
export const dataOf = (e: TroupeEvent): Record<string, unknown> =>
  e['data'] && typeof e['data'] === 'object' ? (e['data'] as Record<string, unknown>) : {};

/**
 * The events of something that has no event filter of its own (a pattern run, a coordinator):
 * its ticket's events when it has a ticket, else the pattern, coordination and task events, kept
 * when `mine` says they are about it. Oldest first, up to 1,000 read.
 */
export async function eventsAbout(
  api: Api,
  ticketId: string | null,
  mine: (e: TroupeEvent) => boolean,
): Promise<TroupeEvent[]> {
  const query = ticketId
    ? `ticket=${encodeURIComponent(ticketId)}`
    : `types=${encodeURIComponent('pattern.*,coordination.*,task.*')}`;
  const { events } = await api.get<{ events: TroupeEvent[] }>(`/v1/events?${query}&limit=1000`);
  return events.filter(mine);
}
