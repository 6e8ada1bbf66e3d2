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
  /** Ticket id -> its dead letters' ids: what retention asks when it removes a ticket. */
  private readonly byTicket = new Map<string, Set<string>>();
  loaded = false;

  add(d: DeadLetter): void {
    this.delete(d.id);
    this.byId.set(d.id, d);
    if (d.ticketId === null) return;
    let ids = this.byTicket.get(d.ticketId);
    if (ids === undefined) this.byTicket.set(d.ticketId, (ids = new Set()));
    ids.add(d.id);
  }

  delete(id: string): void {
    const d = this.byId.get(id);
    if (d === undefined) return;
    this.byId.delete(id);
    if (d.ticketId === null) return;
    const ids = this.byTicket.get(d.ticketId);
    ids?.delete(id);
    if (ids?.size === 0) this.byTicket.delete(d.ticketId);
  }

  /** The ids of the dead letters a retention unit holds: a free-standing task, or a ticket's. */
  idsOfUnit(kind: 'ticket' | 'actor', id: string): string[] {
    if (kind === 'ticket') return [...(this.byTicket.get(id) ?? [])];
    const d = this.byId.get(id);
    return d !== undefined && d.ticketId === null ? [id] : [];
  }

  get size(): number {
    return this.byId.size;
  }

  /** Oldest first (then by id), filtered. */
  list(filter: DeadLetterFilter = {}): DeadLetter[] {
    const out = [...this.byId.values()]
      .filter((d) => matchesFilter(d, filter))
      .sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
    return filter.limit === undefined ? out : out.slice(0, filter.limit);
  }
}
