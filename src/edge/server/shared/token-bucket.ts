import type { Clock } from '../../../engine/clock.js';

/**
 * A token bucket on the runtime's clock: `capacity` tokens, refilled at `perMs` tokens per ms.
 * Used for per-connection message rates and for counting protocol violations; on a
 * `SimulatedClock` it refills only when the test moves time, so limits are tested exactly.
 */
export class TokenBucket {
  private tokens: number;
  private credit = 0;
  private last: number;

  constructor(
    private readonly clock: Clock,
    private readonly capacity: number,
    private readonly perMs: number,
  ) {
    this.tokens = capacity;
    this.last = clock.now();
  }

  /**
   * Credit for `count` takes that the other side was asked for (answers to work it was given),
   * spent before the tokens, up to `maxCredit`: what is granted is not lost to a full bucket,
   * and cannot pile up for ever.
   */
  give(count: number, maxCredit: number): void {
    this.credit = Math.min(maxCredit, this.credit + count);
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const now = this.clock.now();
    if (this.credit >= 1) {
      this.credit -= 1;
      return true;
    }
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
      this.last = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
