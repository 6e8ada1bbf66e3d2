import { BinaryHeap } from '../core/binary-heap.js';
import type { Clock } from './clock.js';

interface HeapEntry {
  key: string;
  at: number;
}

/**
 * The in-memory side of durable timers: which actor timer is due next, armed as one clock
 * callback for the earliest. The store keeps the same timers so a restart can re-arm them.
 */
export class TimerWheel {
  private readonly due = new Map<string, { actorId: string; name: string; at: number }>();
  private readonly heap = new BinaryHeap<HeapEntry>((a, b) => a.at < b.at);
  private armedAt: number | null = null;
  private armedHandle: unknown = null;

  constructor(
    private readonly clock: Clock,
    private readonly fire: (actorId: string, name: string, at: number) => void,
  ) {}

  set(actorId: string, name: string, at: number): void {
    const key = `${actorId}\u0000${name}`;
    this.due.set(key, { actorId, name, at });
    this.heap.push({ key, at });
    if (this.armedAt === null || at < this.armedAt) this.arm();
  }

  clear(actorId: string, name: string): boolean {
    return this.due.delete(`${actorId}\u0000${name}`);
  }

  has(actorId: string, name: string): boolean {
    return this.due.has(`${actorId}\u0000${name}`);
  }

  size(): number {
    return this.due.size;
  }

  stop(): void {
    if (this.armedHandle !== null) this.clock.clear(this.armedHandle);
    this.armedHandle = null;
    this.armedAt = null;
  }

  private arm(): void {
    this.dropStale();
    const top = this.heap.peek();
    if (this.armedHandle !== null) this.clock.clear(this.armedHandle);
    this.armedHandle = null;
    this.armedAt = null;
    if (!top) return;
    this.armedAt = top.at;
    this.armedHandle = this.clock.schedule(top.at - this.clock.now(), () => this.onAlarm());
  }

  private onAlarm(): void {
    this.armedHandle = null;
    this.armedAt = null;
    const now = this.clock.now();
    for (;;) {
      this.dropStale();
      const top = this.heap.peek();
      if (!top || top.at > now) break;
      this.heap.pop();
      const timer = this.due.get(top.key);
      if (!timer) continue;
      this.due.delete(top.key);
      this.fire(timer.actorId, timer.name, timer.at);
    }
    this.arm();
  }

  /** Heap entries whose timer was cleared or re-set at another time are skipped lazily. */
  private dropStale(): void {
    for (;;) {
      const top = this.heap.peek();
      if (!top) return;
      const live = this.due.get(top.key);
      if (live && live.at === top.at) return;
      this.heap.pop();
    }
  }
}
