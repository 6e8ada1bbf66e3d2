import { randomUUID } from 'node:crypto';

/**
 * API calls in this process waiting for an actor's answer (a lock being granted). The key
 * travels in the request; the actor's reply effect settles the promise once its batch has
 * committed. Only the waiting is in memory: the request itself is durable in the actor, and a
 * caller that lost its promise to a restart can ask again.
 */
export class PendingReplies<T> {
  private readonly waiting = new Map<string, (value: T) => void>();
  private readonly prefix = randomUUID().slice(0, 8);
  private seq = 0;

  open(): { key: string; promise: Promise<T> } {
    const key = `${this.prefix}:${++this.seq}`;
    const promise = new Promise<T>((resolve) => this.waiting.set(key, resolve));
    return { key, promise };
  }

  /** Settles a waiting call; an unknown key (another process, or already answered) is ignored. */
  settle(key: string, value: T): void {
    const resolve = this.waiting.get(key);
    if (!resolve) return;
    this.waiting.delete(key);
    resolve(value);
  }
}
