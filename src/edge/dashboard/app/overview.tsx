import { ago } from './format.js';
import { useLive, useSession } from './live.js';
import { href } from './route.js';
import type { AgentView, RunView, TaskView, TicketView } from './views.js';
import { NotLoaded } from './load-state.js';
import { TaskTable } from './task-table.js';

const TASK_GROUPS: Array<{ label: string; statuses: string[] }> = [
  { label: 'waiting', statuses: ['waiting'] },
  { label: 'queued', statuses: ['queued', 'offered'] },
  { label: 'running', statuses: ['running'] },
  { label: 'retrying', statuses: ['retrying'] },
  { label: 'dead-lettered', statuses: ['dead_lettered'] },
  { label: 'succeeded', statuses: ['succeeded'] },
];
const MINUTES = 10;

/** Settled tasks per minute over the last `MINUTES` minutes, and the failed share. */
function rates(tasks: TaskView[], now: number) {
  const buckets = Array.from({ length: MINUTES }, () => ({ done: 0, failed: 0 }));
  for (const t of tasks) {
    if (t.settledAt === null) continue;
    const index = Math.floor((now - t.settledAt) / 60_000);
    const bucket = buckets[MINUTES - 1 - index];
    if (!bucket) continue;
    if (t.status === 'succeeded') bucket.done += 1;
    else if (t.status === 'dead_lettered') bucket.failed += 1;
  }
  return buckets;
}

function Sparkline({ buckets }: { buckets: Array<{ done: number; failed: number }> }) {
  const max = Math.max(1, ...buckets.map((b) => b.done + b.failed));
  return (
    <svg
      class="spark"
      width={MINUTES * 14}
      height="44"
      viewBox={`0 0 ${MINUTES * 14} 44`}
      role="img"
      aria-label="tasks settled per minute, last 10 minutes"
    >
      {buckets.map((b, i) => {
        const h = ((b.done + b.failed) / max) * 40;
        const f = (b.failed / max) * 40;
        return (
          <g key={i}>
            <rect class="ok" x={i * 14 + 1} y={42 - h} width="12" height={h - f} />
            <rect class="bad" x={i * 14 + 1} y={42 - f} width="12" height={f} />
          </g>
        );
      })}
    </svg>
  );
}

/** The overview: tickets by status and phase, agents with load, tasks by state, recent throughput. */
export function Overview() {
  const { recent } = useSession();
  const { data, error } = useLive(async (api) => {
    const [tickets, tasks, agents, runs] = await Promise.all([
      api.all<TicketView>('/v1/tickets'),
      api.all<TaskView>('/v1/tasks'),
      api.all<AgentView>('/v1/agents'),
      api.all<RunView>('/v1/runs').catch(() => [] as RunView[]),
    ]);
    return { tickets, tasks, agents, runs };
  });
  if (error || !data) return <NotLoaded error={error} />;
  const now = Date.now();
  const buckets = rates(data.tasks, now);
  const settled = buckets.reduce((s, b) => s + b.done + b.failed, 0);
  const failed = buckets.reduce((s, b) => s + b.failed, 0);
  const ticketStatuses = ['active', 'completed', 'failed', 'cancelled'];
  return (
    <div class="overview">
      <section aria-labelledby="h-tasks">
        <h2 id="h-tasks">Tasks</h2>
        <ul class="counts" data-testid="task-counts">
          {TASK_GROUPS.map((g) => (
            <li key={g.label} class={`count s-${g.statuses[0]}`} data-status={g.label}>
              <span class="n">{data.tasks.filter((t) => g.statuses.includes(t.status)).length}</span> {g.label}
            </li>
          ))}
        </ul>
        <div class="rates">
          <Sparkline buckets={buckets} />
          <p data-testid="throughput">
            {(settled / MINUTES).toFixed(1)} tasks/min settled over {MINUTES} min; failure rate{' '}
            {settled === 0 ? '0' : ((100 * failed) / settled).toFixed(1)}%
          </p>
        </div>
      </section>
      <section aria-labelledby="h-tickets">
        <h2 id="h-tickets">Tickets</h2>
        <ul class="counts" data-testid="ticket-counts">
          {ticketStatuses.map((s) => (
            <li key={s} class={`count s-${s}`} data-status={s}>
              <span class="n">{data.tickets.filter((t) => t.status === s).length}</span> {s}
            </li>
          ))}
        </ul>
        <table data-testid="tickets">
          <thead>
            <tr>
              <th>Ticket</th>
              <th>Status</th>
              <th>Phase</th>
              <th>Progress</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {data.tickets.map((t) => (
              <tr key={t.id} data-id={t.id}>
                <td>
                  <a href={href.ticket(t.id)}>{t.title || t.id}</a>
                </td>
                <td>
                  <span class={`badge s-${t.status}`}>{t.status}</span>
                </td>
                <td>{t.currentPhase ?? '—'}</td>
                <td>
                  {t.phases.filter((p) => p.status === 'passed').length}/{t.phases.length} phases
                </td>
                <td>{ago(t.createdAt, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="h-agents">
        <h2 id="h-agents">Agents</h2>
        <table data-testid="agents">
          <thead>
            <tr>
              <th>Agent</th>
              <th>Status</th>
              <th>Load</th>
              <th>Capabilities</th>
              <th>Last heartbeat</th>
            </tr>
          </thead>
          <tbody>
            {data.agents.map((a) => (
              <tr key={a.id} data-id={a.id} class={a.status === 'stale' ? 'stale' : ''}>
                <td>
                  <a href={href.actor('agent', a.id)}>{a.id}</a>
                </td>
                <td>
                  <span class={`badge s-${a.status}`}>{a.status === 'stale' ? '⚠ stale' : a.status}</span>
                </td>
                <td>
                  <meter min={0} max={a.capacity} value={a.load} aria-label={`load ${a.load} of ${a.capacity}`} />{' '}
                  {a.load}/{a.capacity}
                </td>
                <td>{a.capabilities.join(', ') || '—'}</td>
                <td>{ago(a.lastHeartbeatAt, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {data.runs.length > 0 ? (
        <section aria-labelledby="h-runs">
          <h2 id="h-runs">Pattern runs</h2>
          <table data-testid="runs">
            <thead>
              <tr>
                <th>Run</th>
                <th>Pattern</th>
                <th>Status</th>
                <th>State</th>
              </tr>
            </thead>
            <tbody>
              {data.runs.map((r) => (
                <tr key={r.id} data-id={r.id}>
                  <td>
                    <a href={href.run(r.id)}>{r.id}</a>
                  </td>
                  <td>{r.pattern}</td>
                  <td>
                    <span class={`badge s-${r.status}`}>{r.status}</span>
                  </td>
                  <td>
                    <code>{r.state}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
      <section aria-labelledby="h-tasks-list">
        <h2 id="h-tasks-list">Recent tasks</h2>
        <TaskTable tasks={data.tasks.slice(0, 50)} testId="tasks" withTicket />
      </section>
      <section aria-labelledby="h-events">
        <h2 id="h-events">Live events</h2>
        <ol class="events" data-testid="live-events">
          {recent.slice(0, 20).map((e) => (
            <li key={e.seq}>
              <code>{e.seq}</code> {e.type} {e.taskId ?? e.ticketId ?? e.agentId ?? ''}
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}
