import type { BreakerStatus } from '../../core/controls/breaker-machine.js';
import { bulkheadAdmits, type BulkheadDefinition } from '../../core/controls/bulkhead-rules.js';
import {
  availableAt,
  availableUnits,
  spendUnits,
  unitsNeeded,
  type RateBudgetState,
  type RateLimitDefinition,
} from '../../core/controls/rate-budget.js';
import type { TaskControls } from '../../core/machines/task-types.js';

/** Why a task may not start now: the gate's key (to park it under) and words for its view. */
export interface GateRefusal {
  /** `ratelimit:<key>`, `breaker:<key>`, `bulkhead:<name>` or `bulkhead:*reserved`. */
  gate: string;
  reason: string;
  /** When it may pass, if known (a rate limit's refill). */
  until: number | null;
}

/** A spend to persist on the rate limit's actor. */
export interface Spend {
  key: string;
  units: number;
  at: number;
}

/** What the gates know of one task: its controls and the keys it answers to. */
export interface GatedTask {
  controls: TaskControls;
  type: string;
  requires: readonly string[];
}

const NO_KEYS: readonly string[] = Object.freeze([]);

interface BreakerView {
  status: BreakerStatus;
  probes: number;
  /** Probe tasks let through since it went half-open. */
  probing: number;
}

/**
 * The dispatcher's view of the production controls (rate limits, circuit breakers, bulkheads):
 * whether a task may start now, and what starting it spends. The durable truth lives in one actor
 * per limit, breaker and bulkhead; this holds copies the actors' effects keep current, plus the
 * running counts per bulkhead, which follow from the leases.
 */
export class ControlGates {
  private readonly limits = new Map<string, { def: RateLimitDefinition; budget: RateBudgetState }>();
  /**
   * Units admitted since the last `takeSpends`, per key, all at one instant (one match). They are
   * applied to the copy and sent to the limit's actor as one spend per key: both then compute the
   * same `spendUnits` on the same numbers, so the copy and the durable budget stay equal to the bit.
   */
  private readonly pending = new Map<string, { units: number; at: number }>();
  private readonly breakers = new Map<string, BreakerView>();
  readonly bulkheads = new Map<string, BulkheadDefinition>();
  private readonly bulkheadRunning = new Map<string, number>();
  /** How many keys of any kind are declared: with none, a task needs no checks at all. */
  get declared(): number {
    return this.limits.size + this.breakers.size + this.bulkheads.size;
  }

  setLimit(def: RateLimitDefinition, budget: RateBudgetState): void {
    this.limits.set(def.key, { def, budget });
  }

  limitOf(key: string): { def: RateLimitDefinition; budget: RateBudgetState } | undefined {
    return this.limits.get(key);
  }

  limitKeys(): string[] {
    return [...this.limits.keys()];
  }

  setBreaker(key: string, status: BreakerStatus, probes: number): void {
    const previous = this.breakers.get(key);
    this.breakers.set(key, { status, probes, probing: previous?.status === status ? previous.probing : 0 });
  }

  breakerStatus(key: string): BreakerStatus | undefined {
    return this.breakers.get(key)?.status;
  }

  setBulkhead(def: BulkheadDefinition): void {
    this.bulkheads.set(def.name, def);
  }

  /** Breaker keys a task answers to: its own, its rate-limit keys, `type:<type>`, `capability:<c>`, where declared. */
  breakerKeys(task: GatedTask): readonly string[] {
    if (this.breakers.size === 0) return NO_KEYS;
    const keys: string[] = [];
    const consider = (key: string): void => {
      if (this.breakers.has(key) && !keys.includes(key)) keys.push(key);
    };
    for (const k of task.controls.breakers ?? []) consider(k);
    for (const r of task.controls.rateLimits ?? []) consider(r.key);
    consider(`type:${task.type}`);
    for (const c of task.requires) consider(`capability:${c}`);
    return keys;
  }

  /** Whether the task may start now; `capacity` and `load` are of all agents taking work. */
  check(task: GatedTask, now: number, capacity: number, load: number): GateRefusal | null {
    for (const key of this.breakerKeys(task)) {
      const b = this.breakers.get(key) as BreakerView;
      if (b.status === 'open')
        return { gate: `breaker:${key}`, reason: `circuit breaker "${key}" is open`, until: null };
      if (b.status === 'half_open' && b.probing >= b.probes) {
        return {
          gate: `breaker:${key}`,
          reason: `circuit breaker "${key}" is half-open and its ${b.probes} probe(s) are out`,
          until: null,
        };
      }
    }
    if (this.bulkheads.size > 0) {
      const verdict = bulkheadAdmits(
        task.controls.bulkhead ?? null,
        this.bulkheads,
        this.bulkheadRunning,
        capacity,
        load,
      );
      if (!verdict.ok) return { gate: `bulkhead:${verdict.blockedBy}`, reason: verdict.reason, until: null };
    }
    for (const r of task.controls.rateLimits ?? []) {
      const limit = this.limits.get(r.key);
      if (!limit) continue;
      const need = unitsNeeded(limit.def, r.units);
      const pending = this.pending.get(r.key);
      const have = availableUnits(limit.def, limit.budget, now) - (pending?.units ?? 0);
      if (have < need) {
        const budget = pending ? spendUnits(limit.def, limit.budget, pending.units, pending.at) : limit.budget;
        const until = availableAt(limit.def, budget, r.units, now);
        const shown = Math.floor(have * 100) / 100;
        return {
          gate: `ratelimit:${r.key}`,
          reason: `rate limit "${r.key}": needs ${need} unit(s), ${shown} available; enough at ${until}`,
          until,
        };
      }
    }
    return null;
  }

  /**
   * The task starts: its rate-limit units count as spent (pending until `takeSpends`) and a
   * half-open breaker counts a probe. Every admit between two `takeSpends` must be at one `now`.
   */
  admit(task: GatedTask, now: number): void {
    if (this.breakers.size > 0) {
      for (const key of this.breakerKeys(task)) {
        const b = this.breakers.get(key) as BreakerView;
        if (b.status === 'half_open') b.probing += 1;
      }
    }
    for (const r of task.controls.rateLimits ?? []) {
      if (!this.limits.has(r.key)) continue;
      const pending = this.pending.get(r.key);
      if (pending) pending.units += r.units;
      else this.pending.set(r.key, { units: r.units, at: now });
    }
  }

  /**
   * The units admitted since the last call, one spend per key with their sum, now applied to the
   * copies: to be persisted on the limits' actors in the same batch as the assignments.
   */
  takeSpends(): Spend[] {
    if (this.pending.size === 0) return [];
    const spends: Spend[] = [];
    for (const [key, { units, at }] of this.pending) {
      const limit = this.limits.get(key);
      if (limit) limit.budget = spendUnits(limit.def, limit.budget, units, at);
      spends.push({ key, units, at });
    }
    this.pending.clear();
    return spends;
  }

  /** A probe ended without an outcome (cancelled, agent lost): a half-open breaker may send another. */
  probeReturned(key: string): boolean {
    const b = this.breakers.get(key);
    if (!b || b.status !== 'half_open' || b.probing === 0) return false;
    b.probing -= 1;
    return true;
  }

  /** A task of a bulkhead holds a slot (assigned, or restored as held after a restart). */
  running(bulkhead: string | undefined, delta: 1 | -1): void {
    if (bulkhead === undefined) return;
    this.bulkheadRunning.set(bulkhead, (this.bulkheadRunning.get(bulkhead) ?? 0) + delta);
  }

  runningIn(bulkhead: string): number {
    return this.bulkheadRunning.get(bulkhead) ?? 0;
  }
}
