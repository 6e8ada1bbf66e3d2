import { BinaryHeap } from '../../core/binary-heap.js';

/** What a key's queue holds: enough to order it and to hand it to the dispatcher. */
export interface KeyedEntry {
  taskId: string;
  priority: number;
  order: number;
}

interface KeyState<E extends KeyedEntry> {
  max: number;
  waiting: BinaryHeap<E>;
  /** The one entry of this key in the dispatcher's queues now (one at a time: round-robin). */
  admitted: E | null;
  running: number;
}

const before = (a: KeyedEntry, b: KeyedEntry): boolean =>
  a.priority > b.priority || (a.priority === b.priority && a.order < b.order);

/**
 * Concurrency keys: at most `max` running tasks per key, and fairness between keys. Each key's
 * tasks wait in a queue of their own (priority, then age); one at a time is admitted to the
 * dispatcher's queues, with a fresh place at the back. A key with a burst of 1,000 tasks therefore
 * gets one turn per round like a key with one, instead of the next 1,000 turns.
 */
export class ConcurrencyKeys<E extends KeyedEntry> {
  private readonly keys = new Map<string, KeyState<E>>();

  /**
   * @param live whether an entry still waits (cancelled ones are skipped when they come up)
   * @param admit hands an admitted entry to the dispatcher's queues
   */
  constructor(
    private readonly live: (entry: E) => boolean,
    private readonly admit: (entry: E) => void,
  ) {}

  get size(): number {
    return this.keys.size;
  }

  /** A task of `key` joins the key's queue; admitted at once if the key has room. */
  add(key: string, max: number, entry: E): void {
    let state = this.keys.get(key);
    if (!state) {
      state = { max, waiting: new BinaryHeap<E>(before), admitted: null, running: 0 };
      this.keys.set(key, state);
    }
    state.max = max;
    state.waiting.push(entry);
    this.next(key, state);
  }

  /** The key's admitted task was assigned: it runs, and the key's next task may be admitted. */
  started(key: string, entry: E): void {
    const state = this.keys.get(key);
    if (!state) return;
    if (state.admitted === entry) state.admitted = null;
    state.running += 1;
    this.next(key, state);
  }

  /** A task of the key holds a slot without passing through the queue (restored after a restart). */
  restoreRunning(key: string, max: number): void {
    let state = this.keys.get(key);
    if (!state) {
      state = { max, waiting: new BinaryHeap<E>(before), admitted: null, running: 0 };
      this.keys.set(key, state);
    }
    state.running += 1;
  }

  /** A running task of the key let go of its slot. */
  stopped(key: string): void {
    const state = this.keys.get(key);
    if (!state) return;
    state.running = Math.max(0, state.running - 1);
    this.next(key, state);
  }

  /** The admitted task left the queue without starting (cancelled): the key's next may come. */
  withdrawn(key: string, entry: E): void {
    const state = this.keys.get(key);
    if (!state || state.admitted !== entry) return;
    state.admitted = null;
    this.next(key, state);
  }

  /** Whether the entry is the one its key has in the dispatcher's queues. */
  isAdmitted(key: string, entry: E): boolean {
    return this.keys.get(key)?.admitted === entry;
  }

  /** Words for a task's view: why a task of this key waits. */
  reason(key: string): string {
    const state = this.keys.get(key);
    if (!state) return `concurrency key "${key}"`;
    return state.running >= state.max
      ? `concurrency key "${key}": ${state.running} of ${state.max} running`
      : `concurrency key "${key}": waiting for its turn among the keys`;
  }

  private next(key: string, state: KeyState<E>): void {
    while (state.admitted === null && state.running < state.max) {
      const head = state.waiting.peek();
      if (!head) break;
      state.waiting.pop();
      if (!this.live(head)) continue;
      state.admitted = head;
      this.admit(head);
    }
    if (state.admitted === null && state.running === 0 && state.waiting.size === 0) this.keys.delete(key);
  }
}
