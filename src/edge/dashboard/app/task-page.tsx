import { useState } from 'preact/hooks';
import type { TroupeEvent } from './api.js';
import { EventsList } from './events-list.js';
import { clock, duration, json } from './format.js';
import { useLive, useSession } from './live.js';
import { href } from './route.js';
import { StatechartPanel } from './statechart-panel.js';
import type { ActorChart, TaskView } from './views.js';
import { NotLoaded } from './load-state.js';

/**
 * For client tokens: cancel a live task, retry (redrive) a dead-lettered one with a fresh retry
 * budget (`POST /v1/dead-letters/redrive`). Observer tokens see neither.
 */
function TaskActions({ task }: { task: TaskView }) {
  const { api, canAct } = useSession();
  const [message, setMessage] = useState<string | null>(null);
  if (!canAct) return null;
  const live = !['succeeded', 'dead_lettered', 'cancelled', 'skipped'].includes(task.status);
  const act = async (path: string, done: string, body: unknown = {}) => {
    try {
      await api.post(path, body);
      setMessage(done);
    } catch (err) {
      setMessage(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <div class="actions">
      {live ? (
        <button
          type="button"
          onClick={() => act(`/v1/tasks/${encodeURIComponent(task.id)}/cancel`, 'cancel requested')}
        >
          Cancel task
        </button>
      ) : null}
      {task.status === 'dead_lettered' ? (
        <button
          type="button"
          onClick={() =>
            act('/v1/dead-letters/redrive', 'sent back to the queue', {
              ids: [task.id],
              reason: 'retried from the dashboard',
            })
          }
        >
          Retry task
        </button>
      ) : null}
      {message ? <span role="status">{message}</span> : null}
    </div>
  );
}

/** One task: its statechart with the current state lit, attempts, result, artifacts and events. */
export function TaskPage({ id }: { id: string }) {
  const { data, error } = useLive(
    async (api) => {
      const enc = encodeURIComponent(id);
      const [task, actor, events] = await Promise.all([
        api.get<TaskView>(`/v1/tasks/${enc}`),
        api.get<ActorChart>(`/v1/actors/task/${enc}`),
        api.get<{ events: TroupeEvent[] }>(`/v1/events?task=${enc}&limit=500`),
      ]);
      return { task, actor, events: events.events };
    },
    [id],
  );
  if (error || !data) return <NotLoaded error={error} />;
  const { task, actor, events } = data;
  return (
    <article class="entity" data-testid="task-page" data-id={task.id} data-status={task.status}>
      <h2>
        Task <code>{task.id}</code>{' '}
        <span class={`badge s-${task.status}`} data-testid="task-status">
          {task.status}
        </span>
      </h2>
      <TaskActions task={task} />
      <dl class="facts">
        <dt>Type</dt>
        <dd>{task.type}</dd>
        <dt>Ticket</dt>
        <dd>
          {task.ticketId ? <a href={href.ticket(task.ticketId)}>{task.ticketId}</a> : '—'}{' '}
          {task.phase ? `/ ${task.phase}` : ''}
        </dd>
        <dt>Agent</dt>
        <dd>{task.agentId ?? '—'}</dd>
        <dt>Attempt</dt>
        <dd>
          {task.attempt} of {task.maxAttempts}
          {task.retryAt ? `, next at ${clock(task.retryAt)}` : ''}
        </dd>
        <dt>Depends on</dt>
        <dd>
          {task.dependsOn.length
            ? task.dependsOn.map((d) => (
                <a key={d} href={href.task(d)}>
                  {d}{' '}
                </a>
              ))
            : '—'}
        </dd>
        <dt>Created</dt>
        <dd>{clock(task.createdAt)}</dd>
        <dt>Queue wait</dt>
        <dd>{task.startedAt && task.queuedAt ? duration(task.startedAt - task.queuedAt) : '—'}</dd>
        <dt>Run time</dt>
        <dd>{task.settledAt && task.startedAt ? duration(task.settledAt - task.startedAt) : '—'}</dd>
        {task.reason ? (
          <>
            <dt>Reason</dt>
            <dd>{task.reason}</dd>
          </>
        ) : null}
      </dl>
      <StatechartPanel actor={actor} events={events} />
      <h3>Attempts</h3>
      <table data-testid="attempts">
        <thead>
          <tr>
            <th>#</th>
            <th>Agent</th>
            <th>Started</th>
            <th>Ended</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          {task.attempts.map((a) => (
            <tr key={a.attempt}>
              <td>{a.attempt}</td>
              <td>{a.agentId ?? '—'}</td>
              <td>{clock(a.startedAt ?? null)}</td>
              <td>{clock(a.endedAt ?? null)}</td>
              <td>{a.error ? `${a.error.code ?? ''} ${a.error.category ?? ''}: ${a.error.message ?? ''}` : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Input</h3>
      <pre>{json(task.input)}</pre>
      <h3>Result</h3>
      <pre data-testid="result">{json(task.result)}</pre>
      <h3>Artifacts</h3>
      <pre>{json(task.artifacts)}</pre>
      <h3>Events</h3>
      <EventsList events={events} />
    </article>
  );
}
