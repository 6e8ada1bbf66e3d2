import type { AttemptError, TaskContext } from '../../core/machines/task-types.js';

/** A dead-lettered task as the dead-letter queue lists it. */
export interface DeadLetter {
  id: string;
  type: string;
  ticketId: string | null;
  phase: string | null;
  /** When it was dead-lettered (clock ms). */
  at: number;
  attempts: number;
  redrives: number;
  error: AttemptError | null;
}

/** Which dead letters to list, redrive or discard; every field narrows. */
export interface DeadLetterFilter {
  ids?: string[];
  type?: string;
  /** The error category of the last attempt: `transient`, `permanent`, `timeout`, ... */
  category?: string;
  code?: string;
  ticketId?: string;
  /** Dead-lettered at or after this instant. */
  since?: number;
  /** Dead-lettered before this instant. */
  until?: number;
  limit?: number;
}

/** The dead-letter entry of a task's context. */
export function deadLetterOf(c: TaskContext): DeadLetter {
  return {
    id: c.id,
    type: c.spec.type,
    ticketId: c.spec.ticketId,
    phase: c.spec.phase,
    at: c.at.settledAt ?? c.spec.createdAt,
    attempts: c.attempt,
    redrives: c.redrives?.length ?? 0,
    error: c.error,
  };
}

export function matchesFilter(d: DeadLetter, f: DeadLetterFilter): boolean {
  return (
    (f.ids === undefined || f.ids.includes(d.id)) &&
    (f.type === undefined || d.type === f.type) &&
    (f.category === undefined || d.error?.category === f.category) &&
    (f.code === undefined || d.error?.code === f.code) &&
    (f.ticketId === undefined || d.ticketId === f.ticketId) &&
    (f.since === undefined || d.at >= f.since) &&
    (f.until === undefined || d.at < f.until)
  );
}

/**
 * The dead letters, in memory: filled from the store once (one query by state) and kept current
 * from settlements, so listing and retention never scan every settled task.
 */
export class DeadLetterIndex {
  private readonly byId = new Map<string, DeadLetter>();
  loaded = false;

  add(d: DeadLetter): void {
    this.byId.set(d.id, d);
  }

  delete(id: string): void {
    this.byId.delete(id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Oldest first (then by id), filtered. */
  list(filter: DeadLetterFilter = {}): DeadLetter[] {
    const out = [...this.byId.values()].filter((d) => matchesFilter(d, filter)).sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
    return filter.limit === undefined ? out : out.slice(0, filter.limit);
  }
}
