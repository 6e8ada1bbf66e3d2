import type { TaskSettledEvent } from '../../core/coordination/coordination-types.js';
import type { TaskContext } from '../../core/machines/task-types.js';
import type { HostEvent } from '../../engine/host-types.js';
import type { RuntimeCore } from '../../engine/runtime-core.js';
import type { RecentOutcomes, WatchIndex } from './watch-index.js';

/**
 * Telling coordinators when the tasks they watch settle. A settlement is reported inside the
 * batch that settled the task (through the core's settle listener), so the report and the
 * settlement commit together and a restart can never lose one without the other.
 */

/** Where a report goes: within the open batch (`scope`) or as a new message (`host`). */
export interface Outbox {
  send(to: string, event: HostEvent): void;
  /**
   * Runs after the current batch commits (or at once when there is no batch): work for
   * coordinator `forId`, counted as in flight for it until `fn` resolves (see `InFlightWork`).
   */
  later(forId: string, fn: () => Promise<void>): void;
}

/** The report for a settled task. Outputs only when asked for: most watchers only count. */
export function settledEvent(task: TaskContext, index: number, withOutput: boolean): TaskSettledEvent {
  const event: TaskSettledEvent = {
    type: 'coordination.task_settled',
    index,
    taskId: task.id,
    status: task.outcome ?? 'missing',
  };
  if (withOutput) {
    event.output = task.output ? { result: task.output.result, quality: task.output.quality } : null;
    event.attempt = task.attempt;
    event.error = task.error ? { code: task.error.code, message: task.error.message } : null;
  }
  return event;
}

/**
 * Starts watching tasks for a coordinator. A task that already settled is reported at once:
 * from its live snapshot if it settled in this very batch, from the recent outcomes if it
 * settled lately (and no output is wanted), else from the store after the commit. A task not found anywhere yet is assumed to be on its way (created later in this
 * batch by the same coordinator) and stays watched.
 */
export function watchTasks(
  core: RuntimeCore,
  watches: WatchIndex,
  recent: RecentOutcomes,
  out: Outbox,
  coordinatorId: string,
  taskIds: readonly string[],
  indexes: readonly number[] | undefined,
  withOutput: boolean,
): void {
  const notLive: string[] = [];
  taskIds.forEach((taskId, i) => {
    const index = indexes?.[i] ?? i;
    const live = core.host.getLive(taskId);
    const context = live?.kind === 'task' ? (live.snapshot.context as TaskContext) : undefined;
    if (context?.outcome) {
      out.send(coordinatorId, settledEvent(context, index, withOutput) as unknown as HostEvent);
      return;
    }
    const known = live || withOutput ? undefined : recent.get(taskId);
    if (known) {
      out.send(coordinatorId, { type: 'coordination.task_settled', index, taskId, status: known });
      return;
    }
    watches.watchTask(taskId, { coordinatorId, index, withOutput });
    if (!live) notLive.push(taskId);
  });
  if (notLive.length === 0) return;
  out.later(coordinatorId, async () => {
    const stored = await core.options.store.getActors(notLive);
    const reports: Array<Promise<unknown>> = [];
    for (const taskId of notLive) {
      const record = stored.get(taskId);
      if (!record || record.kind !== 'task' || !record.settled || core.host.getLive(taskId)) continue;
      // Taking the watch first means a report is sent once even if the task also settles now.
      const watch = watches.takeOne(taskId, coordinatorId);
      if (!watch || core.host.failed) continue;
      reports.push(
        core.host.request(
          coordinatorId,
          settledEvent(record.context as TaskContext, watch.index, watch.withOutput) as unknown as HostEvent,
        ),
      );
    }
    await Promise.all(reports);
  });
}
