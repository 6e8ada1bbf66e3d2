import { z } from 'zod';
import { TroupeError } from '../../core/errors.js';
import type { TaskContext } from '../../core/machines/task-types.js';
import {
  deadLetterOf,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterIndex,
} from '../controls/dead-letter-index.js';
import type { RuntimeCore } from '../runtime-core.js';
import { assertStorablePayload, parseOrThrow } from '../validation.js';
import { resolveRetry, taskCreateSchema, type TaskCreateInput } from './task-input.js';
import { viewOf } from './task-api.js';
import { taskView, type TaskView } from './views.js';

/** What a redrive may change: the input, the retry policy; and why it was done (kept in the history). */
export interface RedriveChanges {
  input?: unknown;
  retry?: TaskCreateInput['retry'];
  reason?: string;
}

const filterSchema = z
  .object({
    ids: z.array(z.string()).optional(),
    type: z.string().optional(),
    category: z.string().optional(),
    code: z.string().optional(),
    ticketId: z.string().optional(),
    since: z.number().optional(),
    until: z.number().optional(),
    limit: z.number().int().min(0).optional(),
  })
  .strict();

/**
 * The dead-letter queue: tasks that ran out of attempts or failed for good. List them by type,
 * error category, ticket and time; redrive one or many (optionally with a changed input or retry
 * policy) with a fresh retry budget, every earlier attempt and the redrive kept in the task's
 * history; discard them by hand. How long they are kept is retention's (`deadLetteredMs`,
 * `deadLetteredMaxCount`: docs/operations.md).
 *
 * @example
 * ```ts
 * const dead = await runtime.deadLetters.list({ type: 'summarize', category: 'timeout' });
 * await runtime.deadLetters.redrive({ type: 'summarize' }, { retry: { maxAttempts: 5 }, reason: 'provider back' });
 * ```
 */
export class DeadLetterApi {
  constructor(
    private readonly core: RuntimeCore,
    private readonly ready: () => Promise<void>,
    private readonly index: DeadLetterIndex,
    private readonly maxPayloadBytes: number,
  ) {}

  /** Dead letters matching the filter, oldest first. */
  async list(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    await this.prepare();
    return this.current(parseOrThrow(filterSchema, filter, 'dead-letter filter'));
  }

  /**
   * Sends dead letters back to the queue: those with the given id(s), or all that match a filter.
   * Each gets a fresh retry budget; `changes` may replace its input or retry policy. Tasks of a
   * ticket's phase are refused (the phase has counted them: rework the phase instead).
   */
  async redrive(target: string | string[] | DeadLetterFilter, changes: RedriveChanges = {}): Promise<TaskView[]> {
    const chosen = await this.choose(target);
    const retry =
      changes.retry === undefined
        ? undefined
        : resolveRetry(parseOrThrow(taskCreateSchema.shape.retry, changes.retry, 'retry'), this.core.options.retry);
    if (changes.input !== undefined) assertStorablePayload(changes.input, 'redrive input', this.maxPayloadBytes);
    for (const d of chosen) {
      if (d.phase !== null) {
        throw new TroupeError(
          'E_INVALID_STATE',
          `task ${d.id} belongs to phase "${d.phase}" of ticket ${d.ticketId}, which counted it as failed: rework the phase instead`,
        );
      }
    }
    const outcomes = await Promise.all(
      chosen.map((d) => {
        const event: Record<string, unknown> = { type: 'task.redrive', reason: changes.reason ?? null };
        if (changes.input !== undefined) event.input = structuredClone(changes.input);
        if (retry !== undefined) event.retry = retry;
        return this.core.host.request(d.id, event as { type: string }, 'task');
      }),
    );
    const views: TaskView[] = [];
    outcomes.forEach((o, i) => {
      const d = chosen[i] as DeadLetter;
      if (o.error) throw o.error;
      if (o.applied) this.index.delete(d.id);
      if (o.snapshot) views.push(taskView(o.snapshot.value, o.snapshot.context as TaskContext));
    });
    return views;
  }

  /** Discards dead letters for good (status `discarded`); returns their ids. */
  async discard(target: string | string[] | DeadLetterFilter, reason = 'discarded by request'): Promise<string[]> {
    return this.discardAll(await this.choose(target), reason);
  }

  /**
   * @internal Retention removed these units (or found them changed and left them): the dead
   * letters of those whose rows are gone leave the index.
   */
  async forgetUnits(units: ReadonlyArray<{ kind: 'ticket' | 'actor'; id: string }>): Promise<void> {
    if (!this.index.loaded) return;
    for (const unit of units) {
      const held = this.index.idsOfUnit(unit.kind, unit.id);
      if (held.length === 0) continue;
      if ((await this.core.options.store.getActor(unit.id)) !== undefined) continue;
      for (const id of held) this.index.delete(id);
    }
  }

  /** Fills the index from the store once. */
  async prepare(): Promise<void> {
    await this.ready();
    if (this.index.loaded) return;
    const stored = await this.core.options.store.listActors({ kind: 'task', state: 'dead_lettered' });
    for (const record of stored) this.index.add(deadLetterOf(record.context as TaskContext));
    this.index.loaded = true;
  }

  /** Index entries that are still dead letters (a reworked or redriven task is live again). */
  private current(filter: DeadLetterFilter): DeadLetter[] {
    const out: DeadLetter[] = [];
    for (const d of this.index.list({ ...filter, limit: undefined })) {
      if (this.core.host.getLive(d.id)) {
        this.index.delete(d.id);
        continue;
      }
      out.push(d);
      if (filter.limit !== undefined && out.length >= filter.limit) break;
    }
    return out;
  }

  private async choose(target: string | string[] | DeadLetterFilter): Promise<DeadLetter[]> {
    await this.prepare();
    if (typeof target === 'string' || Array.isArray(target)) {
      const ids = [target].flat();
      const found = this.current({ ids });
      for (const id of ids) {
        if (found.some((d) => d.id === id)) continue;
        const stored = await this.core.options.store.getActor(id);
        if (!stored || stored.kind !== 'task') throw new TroupeError('E_UNKNOWN_TASK', `no task has id "${id}"`);
        throw new TroupeError('E_INVALID_STATE', `task ${id} is ${viewOf(stored).status}, not dead-lettered`);
      }
      return found;
    }
    return this.current(parseOrThrow(filterSchema, target, 'dead-letter filter'));
  }

  private async discardAll(chosen: DeadLetter[], reason: string): Promise<string[]> {
    const outcomes = await Promise.all(
      chosen.map((d) => this.core.host.request(d.id, { type: 'task.discard', reason }, 'task')),
    );
    const ids: string[] = [];
    outcomes.forEach((o, i) => {
      const id = (chosen[i] as DeadLetter).id;
      this.index.delete(id);
      if (o.applied) ids.push(id);
    });
    return ids;
  }
}
