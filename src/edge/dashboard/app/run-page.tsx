import type { TroupeEvent } from './api.js';
import { dataOf, eventsAbout } from './actor-events.js';
import { EventsList } from './events-list.js';
import { clock, json } from './format.js';
import { useLive } from './live.js';
import { href } from './route.js';
import { StatechartPanel } from './statechart-panel.js';
import { TaskTable } from './task-table.js';
import type { ActorChart, ActorSummary, RunView, TaskView } from './views.js';
import { NotLoaded } from './load-state.js';

/** One step of the path a run took: the step, what became of it last, and when it started. */
interface PathStep {
  step: string;
  outcome: string;
  at: number;
}

/** The steps a run went through, in the order they started, from its `pattern.step.*` events. */
function pathOf(events: TroupeEvent[]): PathStep[] {
  const steps = new Map<string, PathStep>();
  for (const e of events) {
    const match = /^pattern\.step\.(\w+)$/.exec(e.type);
    const step = dataOf(e)['step'];
    if (!match || typeof step !== 'string') continue;
    const known = steps.get(step);
    if (known) known.outcome = match[1]!;
    else steps.set(step, { step, outcome: match[1]!, at: e.at });
  }
  return [...steps.values()];
}

/**
 * A pattern run: its statechart (compiled from the pattern) with the current state lit, the path
 * of steps it took, its tasks with their attempts, the coordinators it started (joins, sync
 * points) with what they wait for, its results and failure, and its events in order.
 */
export function RunPage({ id }: { id: string }) {
  const { data, error } = useLive(
    async (api) => {
      const enc = encodeURIComponent(id);
      const run = await api.get<RunView>(`/v1/runs/${enc}`);
      const ticket = run.ticketId === null ? null : encodeURIComponent(run.ticketId);
      const ours = (x: string | null | undefined) => typeof x === 'string' && x.startsWith(`${id}/`);
      const [actor, tasks, coordinators, events] = await Promise.all([
        api.get<ActorChart>(`/v1/actors/${encodeURIComponent(run.kind)}/${enc}`),
        api.all<TaskView>(ticket ? `/v1/tasks?ticket=${ticket}&order=oldest` : '/v1/tasks?order=oldest'),
        ticket
          ? api.get<{ items: ActorSummary[] }>(`/v1/actors?ticket=${ticket}`).then((r) => r.items)
          : Promise.resolve([] as ActorSummary[]),
        eventsAbout(
          api,
          run.ticketId,
          (e) => dataOf(e)['runId'] === id || ours(e.taskId) || ours(dataOf(e)['id'] as string),
        ),
      ]);
      return {
        run,
        actor,
        tasks: tasks.filter((t) => ours(t.id)),
        coordinators: coordinators.filter((c) => c.kind.startsWith('coordination.') && ours(c.id)),
        events,
      };
    },
    [id],
  );
  if (error || !data) return <NotLoaded error={error} />;
  const { run, actor, tasks, coordinators, events } = data;
  const path = pathOf(events);
  return (
    <article class="entity" data-testid="run-page" data-id={run.id} data-status={run.status}>
      <h2>
        Pattern run <code>{run.id}</code>{' '}
        <span class={`badge s-${run.status}`} data-testid="run-status">
          {run.status}
        </span>
      </h2>
      <dl class="facts">
        <dt>Pattern</dt>
        <dd>{run.pattern}</dd>
        <dt>Ticket</dt>
        <dd>
          {run.ticketId ? <a href={href.ticket(run.ticketId)}>{run.ticketId}</a> : '—'}{' '}
          {run.phase ? `/ ${run.phase}` : ''}
        </dd>
        <dt>Started</dt>
        <dd>{clock(run.startedAt)}</dd>
        <dt>Settled</dt>
        <dd>{clock(run.settledAt)}</dd>
      </dl>
      <StatechartPanel actor={actor} events={events} />
      <h3>Path</h3>
      {path.length === 0 ? (
        <p>No step has started.</p>
      ) : (
        <ol class="path" data-testid="path">
          {path.map((p) => (
            <li key={p.step} data-step={p.step} data-outcome={p.outcome}>
              <code>{p.step}</code> <span class={`badge s-${p.outcome}`}>{p.outcome}</span> <time>{clock(p.at)}</time>
            </li>
          ))}
        </ol>
      )}
      <h3>Tasks</h3>
      <TaskTable tasks={tasks} testId="run-tasks" withResult />
      {coordinators.length > 0 ? (
        <>
          <h3>Coordinators</h3>
          <ul data-testid="run-coordinators">
            {coordinators.map((c) => (
              <li key={c.id} data-id={c.id}>
                <a href={href.actor(c.kind, c.id)}>{c.id}</a> {String(c.view?.['kind'] ?? c.kind)}{' '}
                <span class={`badge s-${String(c.view?.['status'] ?? '')}`}>
                  {String(c.view?.['status'] ?? c.state)}
                </span>{' '}
                in <code>{c.state}</code>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <h3>Results of merges and votes, failure</h3>
      <pre data-testid="run-result">{json({ results: run.results, rounds: run.rounds, failure: run.failure })}</pre>
      <h3>Events</h3>
      <EventsList events={events} withTask />
    </article>
  );
}
