import type { TroupeEvent } from '../../engine/event-bus.js';

/** What `wait` and `isSettled` know how to follow: a task, a ticket or a pattern run. */
export type EntityKind = 'task' | 'ticket' | 'run';

/** Options of `client.wait(id, options)`. */
export interface WaitOptions {
  /** Every event of the entity as it arrives (progress displays use this). */
  onEvent?: (event: TroupeEvent) => void;
  signal?: AbortSignal;
}

/** Statuses after which nothing more happens (unless someone reworks the task). */
const SETTLED: Record<EntityKind, ReadonlySet<string>> = {
  task: new Set(['succeeded', 'dead_lettered', 'cancelled', 'skipped']),
  ticket: new Set(['completed', 'failed', 'cancelled']),
  run: new Set(['completed', 'failed', 'timed_out', 'escalated', 'cancelled']),
};

/** The events that may settle an entity: after one, the entity is read again. */
const SETTLING: Record<EntityKind, ReadonlySet<string>> = {
  task: new Set(['task.completed', 'task.dead_lettered', 'task.cancelled', 'task.skipped']),
  ticket: new Set(['ticket.completed', 'ticket.failed', 'ticket.cancelled']),
  run: new Set(['pattern.completed', 'pattern.failed', 'pattern.timed_out', 'pattern.escalated', 'pattern.cancelled']),
};

/**
 * Whether a task, ticket or run has reached a status after which nothing more happens to it.
 *
 * @example
 * ```ts
 * import { createClient, isSettled } from 'troupe/client';
 * const troupe = createClient({ url: 'http://127.0.0.1:7411', token: process.env.TROUPE_TOKEN! });
 * if (!isSettled('task', await troupe.tasks.get('job-7'))) console.log('still going');
 * ```
 */
export function isSettled(kind: EntityKind, view: { status: string }): boolean {
  return SETTLED[kind].has(view.status);
}

function filterOf(kind: EntityKind, id: string): Omit<EventStreamQuery, 'after' | 'signal'> {
  if (kind === 'task') return { task: id };
  if (kind === 'ticket') return { ticket: id };
  return { types: ['pattern.*', 'task.*'] };
}

/** Whether an event belongs to the entity (runs are matched by the `runId` of their events and tasks). */
function belongs(kind: EntityKind, id: string, event: TroupeEvent): boolean {
  if (kind !== 'run') return true;
  return event.data.runId === id || (event.taskId !== null && event.taskId.startsWith(`${id}/`));
}

/**
 * Follows the event stream until the entity settles. The stream is opened before the entity is
 * read, so a settlement between the two is seen either in the read or on the stream; a dropped
 * stream is resumed after the last seq seen, and the entity read again.
 */
export async function followUntilSettled<V extends { status: string }>(
  kind: EntityKind,
  id: string,
  first: V,
  io: { read: (id: string) => Promise<V>; open: (query: EventStreamQuery) => Promise<AsyncGenerator<TroupeEvent>> },
  options: WaitOptions,
): Promise<V> {
  if (isSettled(kind, first)) return first;
  let after: number | undefined;
  for (;;) {
    const controller = new AbortController();
    const abort = () => controller.abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      // Open (the server has subscribed) before reading: nothing can settle unseen in between.
      const events = await io.open({
        ...filterOf(kind, id),
        ...(after !== undefined ? { after } : {}),
        signal: controller.signal,
      });
      const view = await io.read(id);
      if (isSettled(kind, view)) return view;
      for await (const event of events) {
        after = event.seq;
        if (!belongs(kind, id, event)) continue;
        options.onEvent?.(event);
        if (SETTLING[kind].has(event.type)) {
          const now = await io.read(id);
          if (isSettled(kind, now)) return now;
        }
      }
    } finally {
      controller.abort();
      options.signal?.removeEventListener('abort', abort);
    }
    if (options.signal?.aborted) throw new Error('wait aborted');
  }
}

/** What `events.stream` follows: filters, and where to resume. */
export interface EventStreamQuery {
  types?: string[];
  ticket?: string;
  task?: string;
  agent?: string;
  /** Resume after this seq (stored events first, then live ones). Absent: live from now. */
  after?: number;
  signal?: AbortSignal;
}
