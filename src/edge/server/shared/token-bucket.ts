import type { Clock } from '../../../engine/clock.js';

/**
 * A token bucket on the runtime's clock: `capacity` tokens, refilled at `perMs` tokens per ms.
 * Used for per-connection message rates and for counting protocol violations; on a
 * `SimulatedClock` it refills only when the test moves time, so limits are tested exactly.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly clock: Clock,
    private readonly capacity: number,
    private readonly perMs: number,
  ) {
    this.tokens = capacity;
    this.last = clock.now();
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
      this.last = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
