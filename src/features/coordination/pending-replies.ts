import { randomUUID } from 'node:crypto';
import type { TroupeError } from '../../core/errors.js';

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: TroupeError) => void;
}

/**
 * API calls in this process waiting for an actor's answer (a lock being granted). The key
 * travels in the request; the actor's reply effect settles the promise once its batch has
 * committed. Only the waiting is in memory: the request itself is durable in the actor, and a
 * caller that lost its promise to a restart can ask again.
 */
export class PendingReplies<T> {
  private readonly waiting = new Map<string, Waiter<T>>();
  private readonly prefix = randomUUID().slice(0, 8);
  private seq = 0;
  private failure: TroupeError | null = null;

  open(): { key: string; promise: Promise<T> } {
    const key = `${this.prefix}:${++this.seq}`;
    const failure = this.failure;
    const promise = failure
      ? Promise.reject(failure)
      : new Promise<T>((resolve, reject) => this.waiting.set(key, { resolve, reject }));
    // A caller whose request could not be sent (the host refused it) throws that error and never
    // awaits this promise; its later rejection must not become an unhandled rejection.
    promise.catch(() => undefined);
    return { key, promise };
  }

  /** Settles a waiting call; an unknown key (another process, or already answered) is ignored. */
  settle(key: string, value: T): void {
    const waiter = this.waiting.get(key);
    if (!waiter) return;
    this.waiting.delete(key);
    waiter.resolve(value);
  }

  /**
   * Rejects every waiting call with `error`, and every later `open()` at once: no answer can
   * come any more (the host failed, or the runtime stopped). The first error is kept, so a
   * runtime that failed and was then stopped keeps reporting the failure.
   */
  failAll(error: TroupeError): void {
    if (this.failure) return;
    this.failure = error;
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const waiter of waiting) waiter.reject(error);
  }
}
