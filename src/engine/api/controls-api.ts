import { z } from 'zod';
import { breakerIdOf, type BreakerContext, type BreakerStatus } from '../../core/controls/breaker-machine.js';
import { BREAKER_DEFAULTS, type BreakerPolicy } from '../../core/controls/breaker-window.js';
import { bulkheadIdOf } from '../../core/controls/bulkhead-machine.js';
import type { BulkheadDefinition } from '../../core/controls/bulkhead-rules.js';
import { availableUnits, type RateLimitDefinition } from '../../core/controls/rate-budget.js';
import { rateLimitIdOf, type RateLimitContext } from '../../core/controls/rate-limit-machine.js';
import { TroupeError } from '../../core/errors.js';
import type { HostEvent, MessageOutcome } from '../host-types.js';
import type { RuntimeCore } from '../runtime-core.js';
import { parseOrThrow } from '../validation.js';
import { controlKeySchema } from './task-input.js';

export const rateLimitSchema = z
  .object({
    key: controlKeySchema,
    limit: z.number().positive().max(1e12),
    per: z.number().int().positive(),
    kind: z.enum(['token-bucket', 'sliding-window']).optional(),
  })
  .strict();

export const breakerSchema = z
  .object({
    key: controlKeySchema,
    failureThreshold: z.number().int().min(1).optional(),
    failureRate: z.number().gt(0).max(1).optional(),
    minRequests: z.number().int().min(1).optional(),
    windowMs: z.number().int().positive().optional(),
    cooldownMs: z.number().int().positive().optional(),
    probes: z.number().int().min(1).max(1_000).optional(),
  })
  .strict();

export const bulkheadSchema = z
  .object({
    name: controlKeySchema,
    max: z.number().int().min(0).optional(),
    maxShare: z.number().gt(0).max(1).optional(),
    reserved: z.number().int().min(0).optional(),
  })
  .strict();

/** A rate limit as `controls.setRateLimit` takes it: `{ key, limit, per, algorithm? }`. */
export type RateLimitInput = z.input<typeof rateLimitSchema>;
/** A circuit breaker as `controls.setBreaker` takes it: its key and trip policy. */
export type BreakerInput = z.input<typeof breakerSchema>;
/** A bulkhead as `controls.setBulkhead` takes it: a class of work and the capacity it may hold or keeps reserved. */
export type BulkheadInput = z.input<typeof bulkheadSchema>;

/** A rate limit as `controls.rateLimit(key)` shows it. */
export interface RateLimitView extends RateLimitDefinition {
  /** Units that may be spent now (negative while an overspend is paid back). */
  available: number;
}

/** A circuit breaker as `controls.breaker(key)` shows it. */
export interface BreakerView {
  key: string;
  status: BreakerStatus;
  policy: BreakerPolicy;
  trips: number;
  openedAt: number | null;
  failures: number;
  outcomes: number;
}

/**
 * Declares and reads the production controls: rate limits by key, circuit breakers, bulkheads
 * (docs/controls.md). Each is a durable actor; declaring one again changes it at run time.
 *
 * @example
 * ```ts
 * await runtime.controls.setRateLimit({ key: 'openai', limit: 60, per: 60_000 });
 * await runtime.tasks.create({ type: 'summarize', rateLimits: [{ key: 'openai', units: 1 }] });
 * await runtime.controls.reportUnits('openai', 3); // spent after the fact; counts against the next window
 * ```
 */
export class ControlsApi {
  constructor(
    private readonly core: RuntimeCore,
    private readonly ready: () => Promise<void>,
  ) {}

  /** Declares or changes a rate limit (`kind` defaults to `token-bucket`). */
  async setRateLimit(input: RateLimitInput): Promise<RateLimitView> {
    const p = parseOrThrow(rateLimitSchema, input, 'rate limit');
    const def: RateLimitDefinition = { key: p.key, limit: p.limit, per: p.per, kind: p.kind ?? 'token-bucket' };
    await this.upsert('ratelimit', rateLimitIdOf(def.key), { def }, { type: 'ratelimit.define', def });
    return this.rateLimit(def.key);
  }

  /** The limit and what is available now; throws `E_INVALID_INPUT` for an undeclared key. */
  async rateLimit(key: string): Promise<RateLimitView> {
    await this.ready();
    const c = this.context<RateLimitContext>(rateLimitIdOf(key), `no rate limit has key "${key}"`);
    return { ...c.def, available: availableUnits(c.def, c.budget, this.core.options.clock.now()) };
  }

  /** Units spent after the fact (tokens a model call used): they count against the next window. */
  async reportUnits(key: string, units: number): Promise<RateLimitView> {
    await this.ready();
    parseOrThrow(z.number().positive().max(1e12), units, 'units');
    this.context<RateLimitContext>(rateLimitIdOf(key), `no rate limit has key "${key}"`);
    const now = this.core.options.clock.now();
    await this.core.host.request(rateLimitIdOf(key), { type: 'ratelimit.spend', units, at: now, reported: true });
    return this.rateLimit(key);
  }

  /** Declares or changes a circuit breaker (defaults: 5 failures in 60 s, 30 s cooldown, 1 probe). */
  async setBreaker(input: BreakerInput): Promise<BreakerView> {
    const p = parseOrThrow(breakerSchema, input, 'circuit breaker');
    const policy: BreakerPolicy = {
      key: p.key,
      failureThreshold: p.failureThreshold ?? BREAKER_DEFAULTS.failureThreshold,
      minRequests: p.minRequests ?? BREAKER_DEFAULTS.minRequests,
      windowMs: p.windowMs ?? BREAKER_DEFAULTS.windowMs,
      cooldownMs: p.cooldownMs ?? BREAKER_DEFAULTS.cooldownMs,
      probes: p.probes ?? BREAKER_DEFAULTS.probes,
      ...(p.failureRate !== undefined ? { failureRate: p.failureRate } : {}),
    };
    await this.upsert('breaker', breakerIdOf(p.key), { key: p.key, policy }, { type: 'breaker.configure', policy });
    return this.breaker(p.key);
  }

  async breaker(key: string): Promise<BreakerView> {
    await this.ready();
    const live = this.core.host.getLive(breakerIdOf(key));
    if (!live) throw new TroupeError('E_INVALID_INPUT', `no circuit breaker has key "${key}"`);
    const c = live.snapshot.context as BreakerContext;
    return {
      key,
      status: live.snapshot.value as BreakerStatus,
      policy: c.policy,
      trips: c.trips,
      openedAt: c.openedAt,
      failures: c.window.filter(([, ok]) => !ok).length,
      outcomes: c.window.length,
    };
  }

  /** Closes a breaker by hand. */
  async resetBreaker(key: string): Promise<BreakerView> {
    await this.breaker(key);
    await this.core.host.request(breakerIdOf(key), { type: 'breaker.reset' });
    return this.breaker(key);
  }

  /** Declares or changes a bulkhead. */
  async setBulkhead(input: BulkheadInput): Promise<BulkheadDefinition & { running: number }> {
    const p = parseOrThrow(bulkheadSchema, input, 'bulkhead');
    const def: BulkheadDefinition = { name: p.name };
    if (p.max !== undefined) def.max = p.max;
    if (p.maxShare !== undefined) def.maxShare = p.maxShare;
    if (p.reserved !== undefined) def.reserved = p.reserved;
    await this.upsert('bulkhead', bulkheadIdOf(def.name), { def }, { type: 'bulkhead.define', def });
    return { ...def, running: this.core.dispatcher.gates.runningIn(def.name) };
  }

  /** Why a queued task has not started (a rate limit, a breaker, a bulkhead, its concurrency key, no agent); null if not queued. */
  whyWaiting(taskId: string): string | null {
    return this.core.dispatcher.whyWaiting(taskId);
  }

  private context<C>(id: string, missing: string): C {
    const live = this.core.host.getLive(id);
    if (!live) throw new TroupeError('E_INVALID_INPUT', missing);
    return live.snapshot.context as C;
  }

  /** Creates the control's actor, or sends the change to the one that exists. */
  private async upsert(kind: string, id: string, input: Record<string, unknown>, change: HostEvent): Promise<void> {
    await this.ready();
    const live = this.core.host.getLive(id);
    const outcome: MessageOutcome = live
      ? await this.core.host.request(id, change)
      : await this.core.host.spawn(kind, id, input, null);
    if (outcome.error) throw outcome.error;
  }
}
