import { href } from './route.js';
import type { TaskView } from './views.js';

/** The last error of a task's attempts, as one line. */
function lastError(task: TaskView): string {
  const error = task.attempts.findLast((a) => a.error)?.error;
  return error ? `${error.code ?? ''} ${error.category ?? ''}: ${error.message ?? ''}`.trim() : '—';
}

/** A result as one short line (the task's page has it whole). */
function resultLine(task: TaskView): string {
  if (task.result === null || task.result === undefined) return '—';
  const text = JSON.stringify(task.result);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/**
 * Tasks as rows: each linked to its page, with its status, attempts, agent (now, or of the last
 * attempt) and last error; `withTicket` adds each task's ticket (lists of many tickets),
 * `withResult` its result in one line (the parts of a run or a join).
 */
export function TaskTable({
  tasks,
  testId,
  withTicket = false,
  withResult = false,
}: {
  tasks: TaskView[];
  testId: string;
  withTicket?: boolean;
  withResult?: boolean;
}) {
  if (tasks.length === 0) return <p>No tasks.</p>;
  return (
    <table data-testid={testId}>
      <thead>
        <tr>
          <th>Task</th>
          <th>Type</th>
          <th>Status</th>
          {withTicket ? <th>Ticket</th> : null}
          <th>Attempts</th>
          <th>Agent</th>
          <th>Last error</th>
          {withResult ? <th>Result</th> : null}
        </tr>
      </thead>
      <tbody>
        {tasks.map((t) => (
          <tr key={t.id} data-id={t.id} data-status={t.status}>
            <td>
              <a href={href.task(t.id)}>{t.id}</a>
            </td>
            <td>{t.type}</td>
            <td>
              <span class={`badge s-${t.status}`}>{t.status}</span>
            </td>
            {withTicket ? <td>{t.ticketId ? <a href={href.ticket(t.ticketId)}>{t.ticketId}</a> : '—'}</td> : null}
            <td>
              {t.attempts.length} of {t.maxAttempts}
            </td>
            <td>{t.agentId ?? t.attempts.at(-1)?.agentId ?? '—'}</td>
            <td>{lastError(t)}</td>
            {withResult ? (
              <td>
                <code>{resultLine(t)}</code>
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
