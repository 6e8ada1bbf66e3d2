import { jsonEqual } from '../../../core/canonical-json.js';
import { TroupeError } from '../../../core/errors.js';
import { DEFAULT_MAX_ROUNDS } from '../../../core/machines/phase-machine.js';
import { DEFAULT_PHASES, type TicketContext } from '../../../core/machines/ticket-machine.js';
import type { TaskContext } from '../../../core/machines/task-types.js';
import { ticketCreateSchema, type TicketCreateInput } from '../../../engine/api/ticket-api.js';
import type { TaskCreateInput } from '../../../engine/api/task-input.js';
import type { TicketView } from '../../../engine/api/views.js';
import type { Runtime } from '../../../runtime.js';
import { HttpError } from '../shared/http-errors.js';
import { actorAt, sameTask } from './task-submission.js';

/**
 * Whether a stored ticket is what this request asks for: title, description, context, each
 * phase's plan, and every task of the plan that has an id. (Tasks of the plan without an id get
 * a new one each time, so they cannot be compared; give them ids for exact resubmission.)
 */
async function sameTicket(runtime: Runtime, stored: TicketContext, input: TicketCreateInput): Promise<boolean> {
  const value = ticketCreateSchema.parse(input);
  const phases = (value.phases ?? [...DEFAULT_PHASES]).map((p) =>
    typeof p === 'string'
      ? { name: p, gate: {}, maxRounds: DEFAULT_MAX_ROUNDS, tasks: [] }
      : { name: p.name, gate: p.gate ?? {}, maxRounds: p.maxRounds ?? DEFAULT_MAX_ROUNDS, tasks: p.tasks ?? [] },
  );
  const plans = phases.map(({ name, gate, maxRounds }) => ({ name, gate, maxRounds }));
  if (
    stored.title !== value.title ||
    stored.description !== (value.description ?? '') ||
    !jsonEqual(stored.context, value.context ?? {}) ||
    !jsonEqual(stored.phases, plans)
  ) {
    return false;
  }
  for (const phase of phases) {
    for (const task of phase.tasks) {
      if (task.id === undefined) continue;
      const found = await actorAt(runtime, task.id);
      const asked: TaskCreateInput = { ...(task as TaskCreateInput), ticketId: stored.id, phase: phase.name };
      if (found?.kind !== 'task' || !sameTask(runtime, found.context as TaskContext, asked)) return false;
    }
  }
  return true;
}

/**
 * Creates a ticket, idempotently by id: a ticket that exists with the same body is answered as
 * it is now (`created: false`); another body under a used id is 409 `E_DUPLICATE_ID`.
 */
export async function submitTicket(
  runtime: Runtime,
  input: TicketCreateInput,
): Promise<{ ticket: TicketView; created: boolean }> {
  for (let round = 0; ; round++) {
    if (input.id !== undefined) {
      const found = await actorAt(runtime, input.id);
      if (found && found.kind !== 'ticket')
        throw new HttpError('E_DUPLICATE_ID', `id "${input.id}" is taken by a ${found.kind}`, ['body', 'id']);
      if (found) {
        if (!(await sameTicket(runtime, found.context as TicketContext, input))) {
          throw new HttpError(
            'E_DUPLICATE_ID',
            `ticket "${input.id}" exists with another body; resubmit the same body, or choose another id`,
            ['body', 'id'],
          );
        }
        return { ticket: await runtime.tickets.get(input.id), created: false };
      }
    }
    try {
      return { ticket: await runtime.tickets.create(input), created: true };
    } catch (error) {
      if (round === 0 && input.id !== undefined && error instanceof TroupeError && error.code === 'E_DUPLICATE_ID')
        continue;
      throw error;
    }
  }
}
