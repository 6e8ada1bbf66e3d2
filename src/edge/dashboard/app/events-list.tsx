import type { TroupeEvent } from './api.js';
import { clock } from './format.js';

const SKIP = new Set(['seq', 'type', 'at', 'ticketId', 'taskId', 'agentId', 'phase']);

/**
 * An entity's events in order, each with the fields it carries; `withTask` names each event's
 * task, for pages whose events come from several tasks (a run, a coordinator).
 */
export function EventsList({ events, withTask = false }: { events: TroupeEvent[]; withTask?: boolean }) {
  if (events.length === 0) return <p>No events kept.</p>;
  return (
    <ol class="events" data-testid="events">
      {events.map((e) => {
        const rest = Object.fromEntries(
          Object.entries(e).filter(([k, v]) => !SKIP.has(k) && v !== null && v !== undefined),
        );
        return (
          <li key={e.seq} data-type={e.type}>
            <code>#{e.seq}</code> <time>{clock(e.at)}</time> <strong>{e.type}</strong>
            {withTask && e.taskId ? <code> {e.taskId}</code> : null}
            {Object.keys(rest).length > 0 ? <code class="data"> {JSON.stringify(rest)}</code> : null}
          </li>
        );
      })}
    </ol>
  );
}
