/**
 * Slots shared by several connections of one worker (`ConnectAgentOptions.slots`): a task takes
 * one while its handler runs, and an assignment that finds none free is rejected as busy, so the
 * worker never runs more at once than the pool holds, whichever connection the work came by.
 *
 * @example
 * ```ts
 * const slots = new SlotPool(2);
 * const a = await connectAgent({ url: urlA, token, id: 'w@a', capacity: 2, slots, handler });
 * const b = await connectAgent({ url: urlB, token, id: 'w@b', capacity: 2, slots, handler });
 * // at most two handlers run at once over both connections
 * ```
 */
export class SlotPool {
  private taken = 0;

  /** @param size how many tasks may run at once over every connection that shares the pool (1 or more) */
  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a slot pool holds 1 or more slots, got ${size}`);
  }

  /** Slots in use now. */
  get used(): number {
    return this.taken;
  }

  /** Takes a slot if one is free. */
  take(): boolean {
    if (this.taken >= this.size) return false;
    this.taken += 1;
    return true;
  }

  /** Gives back a slot taken before. */
  give(): void {
    if (this.taken > 0) this.taken -= 1;
  }
}
