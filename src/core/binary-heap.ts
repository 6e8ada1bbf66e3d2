/**
 * A binary heap ordered by `before` (true when `a` must come out before `b`): the dispatcher's
 * task queues (priority, then arrival) and the timer wheel (earliest first) share it.
 */
export class BinaryHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const h = this.items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(item, h[parent] as T)) break;
      h[i] = h[parent] as T;
      i = parent;
    }
    h[i] = item;
  }

  /** Removes the first item. */
  pop(): void {
    const h = this.items;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      let bestItem: T = last;
      if (l < h.length && this.before(h[l] as T, bestItem)) {
        best = l;
        bestItem = h[l] as T;
      }
      if (r < h.length && this.before(h[r] as T, bestItem)) best = r;
      if (best === i) break;
      h[i] = h[best] as T;
      i = best;
    }
    h[i] = last;
  }
}
