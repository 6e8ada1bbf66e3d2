/**
 * Work a coordinator is owed that runs after a commit: a store read of tasks it watches, the
 * collection of a join's results, a split's answer to a join. Counted per coordinator, from the
 * moment the work is asked for (inside the batch) until the message it ends with has been
 * processed, so that an API call can answer with what is true once everything that was already
 * decidable when it was made has been decided (a join over settled sources is `ready`, not
 * `waiting`). Work that waits on the future (a task still running) is not in flight: that is
 * waiting, and the view says so.
 */
export class InFlightWork {
  private readonly counts = new Map<string, number>();
  private readonly waiters = new Map<string, Array<() => void>>();

  /** Work for `id` was asked for. */
  begin(id: string): void {
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
  }

  /** Work for `id` is done (its last message processed). */
  end(id: string): void {
    const left = (this.counts.get(id) ?? 1) - 1;
    if (left > 0) {
      this.counts.set(id, left);
      return;
    }
    this.counts.delete(id);
    const waiting = this.waiters.get(id);
    this.waiters.delete(id);
    for (const resolve of waiting ?? []) resolve();
  }

  /** Resolves once no work for `id` is in flight. */
  quiet(id: string): Promise<void> {
    if (!this.counts.has(id)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]));
  }

  /**
   * Lets every waiter go: once the host failed or the runtime stopped, work asked for in a batch
   * that never committed will never end (the caller then learns why from the call it makes next).
   */
  releaseAll(): void {
    const all = [...this.waiters.values()].flat();
    this.waiters.clear();
    this.counts.clear();
    for (const resolve of all) resolve();
  }
}
