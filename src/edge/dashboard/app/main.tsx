import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ActorPage } from './actor-page.js';
import { Api, type TroupeEvent } from './api.js';
import { CoordinatorPage, hasCoordinatorPage } from './coordinator-page.js';
import { SessionContext, type Session } from './live.js';
import { Overview } from './overview.js';
import { useRoute } from './route.js';
import { RunPage } from './run-page.js';
import { TaskPage } from './task-page.js';
import { TicketPage } from './ticket-page.js';

const TOKEN_KEY = 'troupe.token';
const THEME_KEY = 'troupe.theme';

function SignIn({ onToken, problem }: { onToken: (token: string) => void; problem: string | null }) {
  const [token, setToken] = useState('');
  return (
    <form
      class="signin"
      onSubmit={(e) => {
        e.preventDefault();
        onToken(token.trim());
      }}
    >
      <h2>Sign in</h2>
      <p>An observer token shows the work; a client token can also cancel and retry it.</p>
      <label>
        Token{' '}
        <input
          type="password"
          name="token"
          autoComplete="off"
          required
          minLength={16}
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
        />
      </label>
      <button type="submit">Sign in</button>
      {problem ? (
        <p class="error" role="alert">
          {problem}
        </p>
      ) : null}
    </form>
  );
}

function useTheme(): [string, () => void] {
  const [theme, setTheme] = useState(
    () => localStorage.getItem(THEME_KEY) ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'),
  );
  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
    localStorage.setItem(THEME_KEY, theme);
  }, [theme]);
  return [theme, () => setTheme((t) => (t === 'dark' ? 'light' : 'dark'))];
}

function App() {
  const [token, setToken] = useState<string | null>(() => sessionStorage.getItem(TOKEN_KEY));
  const [role, setRole] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [recent, setRecent] = useState<TroupeEvent[]>([]);
  const [theme, toggleTheme] = useTheme();
  const route = useRoute();
  const api = useMemo(() => (token ? new Api(token) : null), [token]);

  useEffect(() => {
    if (!api) return;
    api.get<{ role: string }>('/v1/whoami').then(
      (who) => {
        setRole(who.role);
        sessionStorage.setItem(TOKEN_KEY, api.token);
      },
      (err: unknown) => {
        sessionStorage.removeItem(TOKEN_KEY);
        setToken(null);
        setProblem(err instanceof Error ? err.message : String(err));
      },
    );
  }, [api]);

  useEffect(() => {
    if (!api || !role) return;
    const controller = new AbortController();
    let pending: ReturnType<typeof setTimeout> | null = null;
    api.follow(
      '',
      (event) => {
        setRecent((r) => [event, ...r].slice(0, 200));
        pending ??= setTimeout(() => {
          pending = null;
          setTick((t) => t + 1);
        }, 400);
      },
      controller.signal,
    );
    return () => controller.abort();
  }, [api, role]);

  const session: Session | null = api && role ? { api, tick, recent, canAct: role === 'client' } : null;
  return (
    <>
      <header>
        <h1>
          <a href="#/">Troupe</a>
        </h1>
        <nav aria-label="main">
          <a href="#/">Overview</a>
        </nav>
        <span class="spacer" />
        {role ? (
          <span class="role" data-testid="role">
            {role}
          </span>
        ) : null}
        <button
          type="button"
          class="theme"
          onClick={toggleTheme}
          aria-label={`switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
        >
          {theme === 'dark' ? '☀' : '☾'}
        </button>
        {token ? (
          <button
            type="button"
            onClick={() => {
              sessionStorage.removeItem(TOKEN_KEY);
              setToken(null);
              setRole(null);
            }}
          >
            Sign out
          </button>
        ) : null}
      </header>
      <main>
        {!session ? (
          token && !problem ? (
            <p aria-busy="true">Signing in…</p>
          ) : (
            <SignIn
              onToken={(t) => {
                setProblem(null);
                setToken(t);
              }}
              problem={problem}
            />
          )
        ) : (
          <SessionContext.Provider value={session}>
            {route.page === 'overview' ? <Overview /> : null}
            {route.page === 'ticket' ? <TicketPage key={route.id} id={route.id} /> : null}
            {route.page === 'task' ? <TaskPage key={route.id} id={route.id} /> : null}
            {route.page === 'run' ? <RunPage key={route.id} id={route.id} /> : null}
            {route.page === 'actor' && hasCoordinatorPage(route.kind) ? (
              <CoordinatorPage key={`${route.kind}:${route.id}`} kind={route.kind} id={route.id} />
            ) : null}
            {route.page === 'actor' && !hasCoordinatorPage(route.kind) ? (
              <ActorPage key={`${route.kind}:${route.id}`} kind={route.kind} id={route.id} />
            ) : null}
          </SessionContext.Provider>
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
