import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { Api, TroupeEvent } from './api.js';

/** The signed-in API and the live event feed, shared by every page. */
export interface Session {
  api: Api;
  /** Bumped at most every 400 ms while events arrive: pages re-read what they show. */
  tick: number;
  /** The newest events, newest first (at most 200). */
  recent: TroupeEvent[];
  /** Whether the token may act (a client token), found by the server's answer to a probe. */
  canAct: boolean;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('no session');
  return session;
}

/** Loads `read()` now and again at every live tick; `null` while the first load runs. */
export function useLive<T>(
  read: (api: Api) => Promise<T>,
  deps: unknown[] = [],
): { data: T | null; error: string | null } {
  const { api, tick } = useSession();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    read(api).then(
      (value) => {
        if (!current) return;
        setData(value);
        setError(null);
      },
      (err: unknown) => current && setError(err instanceof Error ? err.message : String(err)),
    );
    return () => {
      current = false;
    };
  }, [api, tick, ...deps]);
  return { data, error };
}
