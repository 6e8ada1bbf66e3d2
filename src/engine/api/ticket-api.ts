import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { TroupeError } from '../../core/errors.js';
import { DEFAULT_MAX_ROUNDS, type PhaseContext } from '../../core/machines/phase-machine.js';
import { DEFAULT_PHASES, type PhasePlan, type TicketContext } from '../../core/machines/ticket-machine.js';
import { phaseIdOf, type RuntimeCore } from '../runtime-core.js';
import type { SpawnRequest } from '../host-types.js';
import type { TaskApi } from './task-api.js';
import { throwIfRefused } from './task-creation.js';
import { taskCreateSchema, type TaskCreateInput } from './task-input.js';
import { assertJson } from '../../core/json-value.js';
import { parseOrThrow } from '../validation.js';
import { phaseView, stateOf, ticketView, type PhaseView, type TicketView } from './views.js';
import { isReservedId, RESERVED_ID_RULE } from '../../core/reserved-ids.js';
import { pageViews, type PageRequest, type ViewPage } from './view-paging.js';

const gateSchema = z
  .object({
    allTasksSucceeded: z.boolean().optional(),
    requiredArtifacts: z.array(z.string().min(1)).optional(),
    minQuality: z.number().optional(),
    validator: z
      .object({
        type: z.string().min(1),
        description: z.string().optional(),
        requires: z.array(z.string().min(1)).optional(),
        input: z.unknown().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const phaseSchema = z.union([
  z.string().min(1),
  z
    .object({
      name: z
        .string()
        .min(1)
        .regex(/^[A-Za-z0-9._-]+$/, 'phase names use letters, digits and . _ - only'),
      gate: gateSchema.optional(),
      maxRounds: z.number().int().min(1).max(100).optional(),
      tasks: z.array(taskCreateSchema.omit({ ticketId: true, phase: true })).optional(),
    })
    .strict(),
]);

export const ticketCreateSchema = z
  .object({
    id: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9._:@-]+$/)
      .refine((id) => !isReservedId(id), RESERVED_ID_RULE)
      .optional(),
    title: z.string().min(1).max(1_000),
    description: z.string().max(100_000).optional(),
    phases: z.array(phaseSchema).min(1).optional(),
    context: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** What `runtime.tickets.create` accepts. */
export type TicketCreateInput = z.input<typeof ticketCreateSchema>;

/**
 * Tickets: a piece of work that moves through phases, each ending only when its gate passes.
 *
 * @example
 * ```ts
 * const ticket = await runtime.tickets.create({
 *   title: 'Add user roles',
 *   phases: [
 *     { name: 'design', tasks: [{ id: 'spec', type: 'write-spec', requires: ['architect'] }] },
 *     { name: 'build', gate: { requiredArtifacts: ['patch'], minQuality: 0.8 },
 *       tasks: [{ id: 'code', type: 'implement', requires: ['coder'] }] },
 *   ],
 * });
 * const done = await runtime.tickets.wait(ticket.id);
 * ```
 */
export class TicketApi {
  constructor(
    private readonly core: RuntimeCore,
    private readonly tasks: TaskApi,
    private readonly ready: () => Promise<void>,
  ) {}

  /**
   * Creates a ticket with its phases (the default list when none are given) and the tasks named
   * in them, all in one step; the first phase opens at once.
   */
  async create(input: TicketCreateInput): Promise<TicketView> {
    await this.ready();
    const value = parseOrThrow(ticketCreateSchema, input, 'ticket');
    if (value.context !== undefined) assertJson(value.context, 'ticket context');
    const id = value.id ?? `ticket-${randomUUID()}`;
    if (this.core.host.getLive(id) || (await this.core.options.store.getActor(id))) {
      throw new TroupeError('E_DUPLICATE_ID', `a ticket with id "${id}" already exists`);
    }
    const phases = (value.phases ?? [...DEFAULT_PHASES]).map((p) =>
      typeof p === 'string'
        ? { name: p, gate: {}, maxRounds: DEFAULT_MAX_ROUNDS, tasks: [] }
        : { ...p, gate: p.gate ?? {}, maxRounds: p.maxRounds ?? DEFAULT_MAX_ROUNDS, tasks: p.tasks ?? [] },
    );
    const names = new Set<string>();
    for (const p of phases) {
      if (names.has(p.name)) throw new TroupeError('E_INVALID_INPUT', `phase "${p.name}" is named twice`);
      names.add(p.name);
    }
    const plans: PhasePlan[] = phases.map((p) => ({
      name: p.name,
      gate: p.gate as PhasePlan['gate'],
      maxRounds: p.maxRounds,
    }));
    const phaseIds = plans.map((plan) => phaseIdOf(id, plan.name));
    const planned: TaskCreateInput[] = phases.flatMap((p) =>
      p.tasks.map((t) => ({ ...(t as TaskCreateInput), ticketId: id, phase: p.name })),
    );
    // Checked before anything is created: a refused plan leaves no ticket behind.
    const tasks = await this.tasks.prepareWithTicket(planned, {
      ticketId: id,
      phases: names,
      actorIds: [id, ...phaseIds],
    });
    const spawns: SpawnRequest[] = [
      ...plans.map((plan, index) => ({
        kind: 'phase' as const,
        id: phaseIds[index] as string,
        input: {
          id: phaseIds[index],
          ticketId: id,
          name: plan.name,
          index,
          gate: plan.gate,
          maxRounds: plan.maxRounds,
        },
        ticketId: id,
      })),
      {
        kind: 'ticket',
        id,
        input: {
          id,
          title: value.title,
          description: value.description ?? '',
          phases: plans,
          context: value.context ?? {},
        },
        ticketId: id,
      },
      ...tasks.spawns,
    ];
    // One group: the ticket, its phases and its tasks are created together or not at all, even
    // if the process dies on the way or an id is taken meanwhile.
    throwIfRefused(await this.core.host.spawnAll(spawns));
    return this.get(id);
  }

  async get(id: string): Promise<TicketView> {
    await this.ready();
    const ticket = this.core.host.getLive(id) ?? (await this.core.options.store.getActor(id));
    if (!ticket || ticket.kind !== 'ticket') throw new TroupeError('E_UNKNOWN_TICKET', `no ticket has id "${id}"`);
    const { value, context } = 'snapshot' in ticket ? stateOf(ticket.snapshot) : stateOf(ticket);
    const c = context as TicketContext;
    const phases: PhaseView[] = [];
    const storedPhases = await this.core.options.store.getActors(c.phases.map((p) => phaseIdOf(id, p.name)));
    for (const plan of c.phases) {
      const phaseId = phaseIdOf(id, plan.name);
      const live = this.core.host.getLive(phaseId);
      const source = live
        ? stateOf(live.snapshot)
        : storedPhases.has(phaseId)
          ? stateOf(storedPhases.get(phaseId)!)
          : undefined;
      if (source) phases.push(phaseView(source.value, source.context as PhaseContext));
    }
    return ticketView(value, c, phases);
  }

  async list(): Promise<TicketView[]> {
    await this.ready();
    const records = await this.core.options.store.listActors({ kind: 'ticket' });
    return Promise.all(records.map((r) => this.get(r.id)));
  }

  /**
   * One page of tickets with their phases, live and settled, in creation order (then id), read
   * by keyset from the store (`GET /v1/tickets`); `statuses` narrows it.
   */
  async page(statuses: readonly string[] | undefined, request: PageRequest): Promise<ViewPage<TicketView>> {
    await this.ready();
    const wanted = statuses === undefined ? undefined : new Set(statuses);
    return pageViews(this.core.options.store, { kinds: ['ticket'] }, request, async (stored) => {
      const view = await this.get(stored.id);
      return wanted === undefined || wanted.has(view.status) ? view : undefined;
    });
  }

  /** Cancels the ticket and every unfinished task and phase of it. */
  async cancel(id: string, reason = 'cancelled by request'): Promise<TicketView> {
    const ticket = await this.get(id);
    const outcome = await this.core.host.request(id, { type: 'ticket.cancel', reason }, 'ticket');
    if (outcome.error) throw outcome.error;
    if (!outcome.applied)
      throw new TroupeError('E_INVALID_STATE', `ticket ${id} is ${ticket.status} and cannot be cancelled`);
    await this.core.host.idle();
    return this.get(id);
  }

  /** Sets a key of the ticket's shared state, which every task of the ticket receives. */
  async setShared(id: string, key: string, value: unknown): Promise<void> {
    await this.get(id);
    assertJson(value, `shared value "${key}"`);
    const outcome = await this.core.host.request(id, { type: 'ticket.set_shared', key, value }, 'ticket');
    if (outcome.error) throw outcome.error;
    if (!outcome.applied) throw new TroupeError('E_INVALID_STATE', `ticket ${id} has settled`);
  }

  /** Resolves when the ticket completes, fails or is cancelled. */
  async wait(id: string): Promise<TicketView> {
    await this.get(id);
    await this.core.waitSettled(id);
    return this.get(id);
  }
}
