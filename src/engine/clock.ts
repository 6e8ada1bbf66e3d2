/**
 * Time as a dependency. The runtime never reads `Date.now()` or arms `setTimeout` itself: it
 * asks its clock, so that tests move time by hand and nothing in them sleeps.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` once `delayMs` has passed on this clock; returns a handle for `clear`. */
  schedule(delayMs: number, fn: () => void): unknown;
  clear(handle: unknown): void;
}

/** The longest delay `setTimeout` takes as given (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMEOUT_MS = 2_147_483_647;

/** A timeout longer than `MAX_TIMEOUT_MS`, made of hops; `current` is the hop armed now. */
interface LongTimeout {
  current: NodeJS.Timeout | undefined;
}

/**
 * Wall-clock time from the operating system: the default clock of `createRuntime`.
 *
 * @example
 * ```ts
 * const runtime = createRuntime({ clock: new SystemClock() });
 * ```
 */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  schedule(delayMs: number, fn: () => void): unknown {
    // Not unref'd: a program waiting on a deadline (a retry backoff) must stay alive for it;
    // `runtime.stop()` clears every pending deadline.
    if (delayMs <= MAX_TIMEOUT_MS) return setTimeout(fn, Math.max(0, delayMs));
    // Node fires a longer timeout at once (it overflows a 32-bit int): hop towards it instead.
    // A monthly schedule's next fire time is further away than that.
    const long: LongTimeout = { current: undefined };
    const at = Date.now() + delayMs;
    const hop = () => {
      const left = at - Date.now();
      long.current = left > MAX_TIMEOUT_MS ? setTimeout(hop, MAX_TIMEOUT_MS) : setTimeout(fn, Math.max(0, left));
    };
    hop();
    return long;
  }
  clear(handle: unknown): void {
    if (typeof handle === 'object' && handle !== null && 'current' in handle)
      clearTimeout((handle as LongTimeout).current);
    else clearTimeout(handle as NodeJS.Timeout);
  }
}

interface SimulatedTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to. `advance(ms)` fires every callback due within the span,
 * in due order, each seeing `now()` equal to its own due time.
 *
 * @example
 * ```ts
 * const clock = new SimulatedClock(0);
 * const runtime = createRuntime({ clock });
 * await clock.advance(30_000); // deadlines in the next 30 s fire
 * await runtime.idle();
 * ```
 */
export class SimulatedClock implements Clock {
  private current: number;
  private nextId = 1;
  private timers: SimulatedTimer[] = [];
  /** Called after each fired callback so the owner can let work settle before time moves on. */
  private settle: () => Promise<void> = () => Promise.resolve();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  schedule(delayMs: number, fn: () => void): unknown {
    const timer = { id: this.nextId++, at: this.current + Math.max(0, delayMs), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clear(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Lets the runtime drain its work between fired timers (set by `createRuntime`). */
  onSettle(settle: () => Promise<void>): void {
    this.settle = settle;
  }

  /** Moves time forward by `ms`, firing due callbacks in order and letting work settle after each. */
  async advance(ms: number): Promise<void> {
    if (ms < 0) throw new RangeError('cannot move a clock backwards');
    const target = this.current + ms;
    await this.settle();
    for (;;) {
      const due = this.nextDue(target);
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = due.at;
      due.fn();
      await this.settle();
    }
    this.current = target;
    await this.settle();
  }

  /** Moves time to an absolute instant. */
  async advanceTo(at: number): Promise<void> {
    await this.advance(Math.max(0, at - this.current));
  }

  /** Number of callbacks waiting; useful in tests. */
  pending(): number {
    return this.timers.length;
  }

  private nextDue(target: number): SimulatedTimer | undefined {
    let best: SimulatedTimer | undefined;
    for (const t of this.timers) {
      if (t.at <= target && (!best || t.at < best.at || (t.at === best.at && t.id < best.id))) best = t;
    }
    return best;
  }
}
