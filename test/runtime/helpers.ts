import { pino } from 'pino';
import { expect } from 'vitest';
import {
  createRuntime,
  MemoryStore,
  SimulatedClock,
  type Runtime,
  type RuntimeOptions,
  type TroupeEvent,
} from '../../src/index.js';
import { CrashableStore } from '../fixtures/durability/crashable-store.js';

export interface Harness {
  runtime: Runtime;
  clock: SimulatedClock;
  events: TroupeEvent[];
  /** Events of one type, oldest first. */
  of(type: string): TroupeEvent[];
}

/** A runtime on a simulated clock starting at 0, recording every event. */
export async function harness(options: RuntimeOptions = {}): Promise<Harness> {
  const clock = new SimulatedClock(0);
  let n = 0;
  // A fixed sequence instead of Math.random: lease ids and jitter become reproducible.
  const random = options.random ?? (() => (n = (n * 9301 + 49297) % 233280) / 233280);
  const runtime = createRuntime({ clock, random, ...options });
  const events: TroupeEvent[] = [];
  runtime.events.subscribe({}, (e) => events.push(e));
  await runtime.start();
  return { runtime, clock, events, of: (type) => events.filter((e) => e.type === type) };
}

/** A promise with its resolve and reject exposed, for handlers the test finishes by hand. */
export function deferred<T = unknown>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A promise that settles when the signal aborts, rejecting with its reason. */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
}

/**
 * A harness on a store that can be made to fail, its error log silenced (the failure is what the
 * test wants). `failStore()` makes the store fail a commit, so the runtime stops accepting work.
 */
export async function failingHarness(
  options: RuntimeOptions = {},
): Promise<{ h: Harness; store: CrashableStore; failStore: () => Promise<void> }> {
  const store = new CrashableStore(new MemoryStore());
  const h = await harness({ store, logger: pino({ level: 'silent' }), ...options });
  const failStore = async (): Promise<void> => {
    store.crashed = true;
    await expect(h.runtime.tasks.create({ id: 'lost-to-the-failure', type: 't' })).rejects.toMatchObject({
      code: 'E_STORE',
    });
  };
  return { h, store, failStore };
}
