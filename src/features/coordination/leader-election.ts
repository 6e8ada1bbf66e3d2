import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { TroupeError } from '../../core/errors.js';
import type { Clock } from '../../engine/clock.js';
import type { LeaseStore } from '../../engine/store/store.js';

/** Options of `runtime.coordination.leader(name, options)`: how long a term lasts and how often it is renewed. */
export interface LeaderOptions {
  /** How long a term lasts without a renewal, in ms. Default 15,000. */
  ttlMs?: number;
  /** How often the leader renews, in ms. Default a third of `ttlMs`, so two renewals may fail. */
  renewEveryMs?: number;
  /** Who is asking; unique per process by default (`<prefix>-<uuid>`), so a restart is a new holder. */
  holder?: string;
}

/** A term of leadership: the epoch is the fencing token to carry with work done as leader. */
export interface LeaderTerm {
  name: string;
  holder: string;
  epoch: number;
}

/** The events a `Leadership` emits when leadership comes to or leaves this process. */
export interface LeaderEvents {
  /** This process became the leader. */
  elected: [LeaderTerm];
  /** This process is no longer the leader: the lease was taken, ran out, the store failed, or `stop`. */
  lost: [LeaderTerm & { reason: 'taken' | 'expired' | 'store-error' | 'stopped' }];
  /** A store error while asking (the leader also gets `lost`); the election goes on. */
  error: [TroupeError];
}

/**
 * Leader election for work that must run on one node only (sweeping, retention, redriving dead
 * letters, a user's job): a lease in the store, taken and renewed by whoever asks, with the epoch
 * growing at every change of holder. On one process (memory, SQLite) it elects that process; on
 * PostgreSQL one node of all that ask, decided by the database on its own clock.
 *
 * A leader steps down on its own when it cannot renew in time (its local timer runs out, or a
 * renewal finds someone else holding the lease), so after a pause (SIGSTOP, a long GC) it hears
 * `lost` before anything else; work it does should still carry `epoch` where it writes, since a
 * pause can fall between a check and a write.
 *
 * @example
 * ```ts
 * const sweeper = runtime.coordination.leader('sweeper', { ttlMs: 10_000 });
 * sweeper.on('elected', ({ epoch }) => startSweeping(epoch));
 * sweeper.on('lost', () => stopSweeping());
 * ```
 */
export class Leadership extends EventEmitter<LeaderEvents> {
  readonly name: string;
  readonly holder: string;
  private readonly ttlMs: number;
  private readonly renewEveryMs: number;
  private term: LeaderTerm | undefined;
  private renewTimer: unknown;
  private expiryTimer: unknown;
  private stopped = false;

  constructor(
    private readonly store: LeaseStore,
    private readonly clock: Clock,
    name: string,
    options: LeaderOptions = {},
    holderPrefix = 'troupe',
  ) {
    super();
    const ttlMs = options.ttlMs ?? 15_000;
    if (!(ttlMs > 0)) throw new TroupeError('E_INVALID_INPUT', `ttlMs must be positive, got ${ttlMs}`);
    const renewEveryMs = options.renewEveryMs ?? ttlMs / 3;
    if (!(renewEveryMs > 0 && renewEveryMs < ttlMs)) {
      throw new TroupeError(
        'E_INVALID_INPUT',
        `renewEveryMs must be positive and below ttlMs (${ttlMs}), got ${renewEveryMs}`,
      );
    }
    if (name.length === 0) throw new TroupeError('E_INVALID_INPUT', 'a leader election needs a name');
    this.name = name;
    this.ttlMs = ttlMs;
    this.renewEveryMs = renewEveryMs;
    this.holder = options.holder ?? `${holderPrefix}-${randomUUID()}`;
  }

  /** True while this process holds the lease (as far as it knows; see the class note). */
  get isLeader(): boolean {
    return this.term !== undefined;
  }

  /** The epoch of the current term, or undefined when not the leader. */
  get epoch(): number | undefined {
    return this.term?.epoch;
  }

  /** Starts asking: now, then every `renewEveryMs`. Resolves after the first answer. */
  start(): Promise<void> {
    return this.ask();
  }

  /** Stops asking and lets the lease go at once if held, so another node can take over. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clock.clear(this.renewTimer);
    // An ask still in flight is not awaited (the store may hang); its answer is ignored.
    const term = this.term;
    if (term !== undefined) {
      this.stepDown('stopped');
      await this.store.releaseLease(this.name, this.holder, term.epoch).catch(() => undefined);
    }
  }

  private ask(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return this.attempt().finally(() => {
      if (!this.stopped) this.renewTimer = this.clock.schedule(this.renewEveryMs, () => void this.ask());
    });
  }

  private async attempt(): Promise<void> {
    const startedAt = this.clock.now();
    let lease;
    try {
      lease = await this.store.tryLease(this.name, this.holder, this.ttlMs, startedAt);
    } catch (error) {
      const failure =
        error instanceof TroupeError
          ? error
          : new TroupeError('E_STORE', `leader election ${this.name}: ${(error as Error).message}`, { cause: error });
      if (this.term !== undefined) this.stepDown('store-error');
      if (this.listenerCount('error') > 0) this.emit('error', failure);
      return;
    }
    if (this.stopped) return;
    if (lease === undefined) {
      if (this.term !== undefined) this.stepDown('taken');
      return;
    }
    if (this.term !== undefined && this.term.epoch !== lease.epoch) this.stepDown('expired');
    // The term is good until ttl after the request was sent, on this process's clock.
    this.clock.clear(this.expiryTimer);
    this.expiryTimer = this.clock.schedule(Math.max(0, startedAt + this.ttlMs - this.clock.now()), () =>
      this.stepDown('expired'),
    );
    if (this.term === undefined) {
      this.term = { name: this.name, holder: this.holder, epoch: lease.epoch };
      this.emit('elected', { ...this.term });
    }
  }

  private stepDown(reason: 'taken' | 'expired' | 'store-error' | 'stopped'): void {
    this.clock.clear(this.expiryTimer);
    const term = this.term;
    if (term === undefined) return;
    this.term = undefined;
    this.emit('lost', { ...term, reason });
  }
}
