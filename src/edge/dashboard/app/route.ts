import { useEffect, useState } from 'preact/hooks';

/** A page of the dashboard, read from the URL's hash (`#/tasks/t1`), so links and Back work without a server router. */
export type Route =
  | { page: 'overview' }
  | { page: 'ticket'; id: string }
  | { page: 'task'; id: string }
  | { page: 'run'; id: string }
  | { page: 'actor'; kind: string; id: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const [head, a, b] = parts;
  if (head === 'tickets' && a) return { page: 'ticket', id: a };
  if (head === 'tasks' && a) return { page: 'task', id: a };
  if (head === 'runs' && a) return { page: 'run', id: a };
  if (head === 'actors' && a && b) return { page: 'actor', kind: a, id: b };
  return { page: 'overview' };
}

export const href = {
  ticket: (id: string) => `#/tickets/${encodeURIComponent(id)}`,
  task: (id: string) => `#/tasks/${encodeURIComponent(id)}`,
  run: (id: string) => `#/runs/${encodeURIComponent(id)}`,
  actor: (kind: string, id: string) => `#/actors/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`,
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
