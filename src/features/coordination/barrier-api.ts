import { randomUUID } from 'node:crypto';
import { TroupeError } from '../../core/errors.js';
import type { BarrierInput } from '../../core/coordination/barrier-machine.js';
import { COORDINATOR_KINDS } from '../../core/coordination/coordination-types.js';
import { parseOrThrow } from '../../engine/validation.js';
import { barrierSchema, type BarrierRequest } from './coordination-input.js';
import { spawnCoordinator, type CoordinationEnv } from './coordination-env.js';
import { coordinatorView, type BarrierView } from './coordinator-views.js';
import { findActor } from './template-resolution.js';

/**
 * Barriers: `parties` arrive and all go on together; with a timeout a barrier short of parties
 * breaks and every waiting party is told (`E_TIMEOUT`).
 *
 * @example
 * ```ts
 * const barrier = await runtime.coordination.barriers.create({ parties: 3, timeoutMs: 60_000 });
 * // in each of three task handlers:
 * await runtime.coordination.barriers.arrive(barrier.id, task.id);
 * ```
 */
export class BarrierApi {
  constructor(private readonly env: CoordinationEnv) {}

  async create(request: BarrierRequest): Promise<BarrierView> {
    await this.env.ready();
    const r = parseOrThrow(barrierSchema, request, 'barrier');
    const id = r.id ?? `barrier-${randomUUID()}`;
    const input: Omit<BarrierInput, 'now'> = {
      id,
      ticketId: r.ticketId ?? null,
      parties: r.parties,
      timeoutMs: r.timeoutMs ?? null,
    };
    const created = await spawnCoordinator(this.env, {
      kind: COORDINATOR_KINDS.barrier,
      id,
      input: input as unknown as Record<string, unknown>,
      ticketId: input.ticketId,
    });
    return coordinatorView(COORDINATOR_KINDS.barrier, created.value, created.context) as BarrierView;
  }

  /**
   * Arrives as `party` and resolves once the barrier lets everyone through. Arriving at a
   * released barrier passes at once; at a broken one it throws (`E_TIMEOUT` if it timed out,
   * else `E_CANCELLED`).
   */
  async arrive(id: string, party: string): Promise<BarrierView> {
    const view = await this.get(id);
    if (view.status === 'waiting') this.env.core.host.send(id, { type: 'barrier.arrive', party });
    const settled = view.status === 'waiting' ? await this.env.core.waitSettled(id) : null;
    const final = settled ? (coordinatorView(settled.kind, settled.state, settled.context) as BarrierView) : view;
    if (final.status === 'broken') {
      throw new TroupeError(final.timedOut ? 'E_TIMEOUT' : 'E_CANCELLED', final.reason ?? `barrier ${id} broke`, {
        details: { barrier: id, arrived: final.arrived },
      });
    }
    return final;
  }

  /** Breaks a waiting barrier: every party waiting at it is told `E_CANCELLED`. */
  async break(id: string, reason = 'broken by request'): Promise<BarrierView> {
    await this.get(id);
    const outcome = await this.env.core.host.request(id, { type: 'barrier.break', reason });
    if (outcome.error) throw outcome.error;
    return this.get(id);
  }

  async get(id: string): Promise<BarrierView> {
    await this.env.ready();
    const found = await findActor(this.env.core, id);
    const view = found ? coordinatorView(found.kind, found.state, found.context) : null;
    if (!view || view.kind !== 'barrier') throw new TroupeError('E_INVALID_INPUT', `no barrier has id "${id}"`);
    return view;
  }
}
