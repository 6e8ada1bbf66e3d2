import type { TaskStatus } from '../../core/machines/task-types.js';

/**
 * Which coordinators wait for which tasks to settle, and which guards wait for which quality
 * gates. Held in memory only: it is derived from the coordinators' snapshots and rebuilt from
 * them after a restart (`recovery.ts`), so it never needs writing.
 */

export interface TaskWatch {
  coordinatorId: string;
  /** The position the coordinator gave the task. */
  index: number;
  withOutput: boolean;
}

export class WatchIndex {
  /** One entry (the common case) or several per task: a lone object costs less than an array. */
  private readonly tasks = new Map<string, TaskWatch | TaskWatch[]>();
  private readonly gates = new Map<string, Set<string>>();

  watchTask(taskId: string, watch: TaskWatch): void {
    const existing = this.tasks.get(taskId);
    if (existing === undefined) this.tasks.set(taskId, watch);
    else if (Array.isArray(existing)) {
      if (!existing.some((w) => sameWatch(w, watch))) existing.push(watch);
    } else if (!sameWatch(existing, watch)) this.tasks.set(taskId, [existing, watch]);
  }

  /** Removes and returns every watch on a task (it settled). */
  takeTask(taskId: string): TaskWatch[] {
    const existing = this.tasks.get(taskId);
    if (existing === undefined) return [];
    this.tasks.delete(taskId);
    return Array.isArray(existing) ? existing : [existing];
  }

  /** Removes one coordinator's watch on a task and says whether there was one. */
  takeOne(taskId: string, coordinatorId: string): TaskWatch | undefined {
    const existing = this.tasks.get(taskId);
    if (existing === undefined) return undefined;
    if (!Array.isArray(existing)) {
      if (existing.coordinatorId !== coordinatorId) return undefined;
      this.tasks.delete(taskId);
      return existing;
    }
    const i = existing.findIndex((w) => w.coordinatorId === coordinatorId);
    if (i < 0) return undefined;
    const [found] = existing.splice(i, 1);
    if (existing.length === 0) this.tasks.delete(taskId);
    return found;
  }

  unwatchTasks(coordinatorId: string, taskIds: readonly string[]): void {
    for (const id of taskIds) this.takeOne(id, coordinatorId);
  }

  watchedTaskCount(): number {
    return this.tasks.size;
  }

  watchGate(gate: string, coordinatorId: string): void {
    let set = this.gates.get(gate);
    if (!set) {
      set = new Set();
      this.gates.set(gate, set);
    }
    set.add(coordinatorId);
  }

  unwatchGate(gate: string, coordinatorId: string): void {
    const set = this.gates.get(gate);
    if (!set) return;
    set.delete(coordinatorId);
    if (set.size === 0) this.gates.delete(gate);
  }

  gateWatchers(gate: string): string[] {
    return [...(this.gates.get(gate) ?? [])];
  }
}

function sameWatch(a: TaskWatch, b: TaskWatch): boolean {
  return a.coordinatorId === b.coordinatorId && a.index === b.index;
}

/**
 * How the most recently settled tasks ended, newest kept, oldest forgotten. Only a shortcut: a
 * coordinator watching a task that settled a moment ago (a join made right after its split's
 * children finished) learns the status without reading each task back from the store. Outputs
 * are not kept (they may be large); a forgotten task is read from the store as before.
 */
export class RecentOutcomes {
  /*
   * Two generations instead of one map trimmed from its oldest end: finding a Map's first key
   * skips every entry deleted before it, which grew costly at thousands of tasks per second.
   * Between capacity/2 and capacity outcomes are kept.
   */
  private current = new Map<string, TaskStatus>();
  private previous = new Map<string, TaskStatus>();

  constructor(private readonly capacity = 4_096) {}

  record(taskId: string, status: TaskStatus): void {
    // A reworked task's newer outcome is the one in `current`, which is read first.
    this.current.set(taskId, status);
    if (this.current.size >= this.capacity / 2) {
      this.previous = this.current;
      this.current = new Map();
    }
  }

  get(taskId: string): TaskStatus | undefined {
    return this.current.get(taskId) ?? this.previous.get(taskId);
  }
}
