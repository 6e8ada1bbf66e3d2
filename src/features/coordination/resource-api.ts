import { TroupeError } from '../../core/errors.js';
import type { Grant, ResourceReplyParams } from '../../core/coordination/coordinator-effects.js';
import { COORDINATOR_KINDS } from '../../core/coordination/coordination-types.js';
import { resourceIdOf, type ResourceContext, type ResourceInput } from '../../core/coordination/resource-machine.js';
import { currentHolder } from '../../core/coordination/resource-rules.js';
import { parseOrThrow } from '../../engine/validation.js';
import {
  acquireSchema,
  defineResourceSchema,
  type AcquireRequest,
  type DefineResourceRequest,
} from './coordination-input.js';
import type { CoordinationEnv } from './coordination-env.js';
import { resourceView, type ResourceView } from './coordinator-views.js';
import type { PendingReplies } from './pending-replies.js';

/**
 * Shared resources: locks (exclusive or shared) and semaphores, with leases on the runtime
 * clock and fencing tokens. Each resource is a durable actor; a holder that is a task lets go
 * automatically when the task settles. A request that would close a wait-for cycle is refused
 * with `E_DEPENDENCY_CYCLE` naming the cycle.
 *
 * @example
 * ```ts
 * await runtime.coordination.resources.define({ name: 'db-schema', kind: 'semaphore', permits: 2 });
 * const grant = await runtime.coordination.resources.acquire({ resource: 'db-schema', owner: 'migrate-1', leaseMs: 30_000 });
 * await runtime.coordination.resources.assertFence('db-schema', grant.token); // before each protected write
 * await runtime.coordination.resources.release('db-schema', 'migrate-1');
 * ```
 */
export class ResourceApi {
  constructor(
    private readonly env: CoordinationEnv,
    private readonly replies: PendingReplies<ResourceReplyParams>,
  ) {}

  /** Defines a lock or a semaphore. Defining it again the same way is a no-op; differently, an error. */
  async define(request: DefineResourceRequest): Promise<ResourceView> {
    await this.env.ready();
    const r = parseOrThrow(defineResourceSchema, request, 'resource');
    const existing = this.context(r.name);
    const permits = r.permits ?? null;
    if (existing) {
      if (existing.kind !== r.kind || existing.permits !== permits) {
        throw new TroupeError(
          'E_INVALID_STATE',
          `resource "${r.name}" is already a ${existing.kind}${existing.permits === null ? '' : ` of ${existing.permits}`}`,
        );
      }
      return resourceView(existing, this.env.core.options.clock.now());
    }
    await this.spawn(r.name, r.kind, permits);
    return this.get(r.name);
  }

  /**
   * Acquires a resource for `owner`, waiting in line if needed; resolves with the grant and its
   * fencing token. A resource never defined is created as a lock. Asking again while holding
   * renews the lease and keeps the token.
   */
  async acquire(request: AcquireRequest): Promise<Grant> {
    await this.env.ready();
    const r = parseOrThrow(acquireSchema, request, 'acquire');
    if (!this.context(r.resource)) await this.spawn(r.resource, 'lock', null);
    const { key, promise } = this.replies.open();
    this.env.core.host.send(resourceIdOf(r.resource), {
      type: 'resource.acquire',
      owner: r.owner,
      mode: r.mode ?? null,
      leaseMs: r.leaseMs ?? null,
      waitMs: r.waitMs ?? null,
      replyTo: { actorId: null, index: 0, waiter: key },
    });
    const reply = await promise;
    if (reply.grant) return reply.grant;
    const error = reply.error ?? { code: 'E_INVALID_STATE' as const, message: 'refused' };
    throw new TroupeError(error.code, error.message, error.cycle ? { details: { cycle: error.cycle } } : {});
  }

  /** Lets go of a resource (or withdraws a waiting request). Releasing what one does not hold is a no-op. */
  async release(resource: string, owner: string, reason = 'released'): Promise<void> {
    await this.env.ready();
    if (!this.context(resource)) return;
    const outcome = await this.env.core.host.request(resourceIdOf(resource), {
      type: 'resource.release',
      owner,
      reason,
    });
    if (outcome.error) throw outcome.error;
  }

  async get(name: string): Promise<ResourceView> {
    await this.env.ready();
    const c = this.context(name);
    if (!c) throw new TroupeError('E_INVALID_INPUT', `no resource is named "${name}"`);
    return resourceView(c, this.env.core.options.clock.now());
  }

  /** True while `token` belongs to a current holder (its lease has not ended). */
  async checkFence(name: string, token: number): Promise<boolean> {
    await this.env.ready();
    const c = this.context(name);
    return c !== undefined && currentHolder(c, token, this.env.core.options.clock.now()) !== undefined;
  }

  /**
   * Throws `E_LEASE_MISMATCH` unless `token` is current: call it before each write the
   * resource protects, so a holder whose lease ran out cannot overwrite its successor's work.
   */
  async assertFence(name: string, token: number): Promise<void> {
    if (!(await this.checkFence(name, token))) {
      const fence = this.context(name)?.fence ?? 0;
      throw new TroupeError(
        'E_LEASE_MISMATCH',
        `fencing token ${token} of "${name}" is not current (the last issued is ${fence})`,
        {
          details: { resource: name, token, fence },
        },
      );
    }
  }

  /** Resources never settle, so a defined one is always live. */
  private context(name: string): ResourceContext | undefined {
    const live = this.env.core.host.getLive(resourceIdOf(name));
    return live?.kind === COORDINATOR_KINDS.resource ? (live.snapshot.context as ResourceContext) : undefined;
  }

  private async spawn(name: string, kind: ResourceContext['kind'], permits: number | null): Promise<void> {
    const id = resourceIdOf(name);
    const input: Omit<ResourceInput, 'now'> = { id, name, kind, permits };
    const outcome = await this.env.core.host.spawn(
      COORDINATOR_KINDS.resource,
      id,
      input as unknown as Record<string, unknown>,
      null,
    );
    // Two callers racing to create the same resource: the loser uses the winner's.
    if (outcome.error && outcome.error.code !== 'E_DUPLICATE_ID') throw outcome.error;
  }
}
