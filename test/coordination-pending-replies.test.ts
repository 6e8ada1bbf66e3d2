import { afterEach, describe, expect, it } from 'vitest';
import { TroupeError } from '../src/index.js';
import { PendingReplies } from '../src/features/coordination/pending-replies.js';
import { failingHarness, type Harness } from './runtime/helpers.js';

/** Whether a promise has settled yet (after the runtime went idle). */
async function settled(h: Harness, p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await h.runtime.idle().catch(() => undefined);
  return done;
}

describe('calls waiting for an actor answer when no answer can come', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  /** B waits in line for the lock A holds. */
  async function waitingBehindHolder() {
    const failing = await failingHarness();
    h = failing.h;
    const res = h.runtime.coordination.resources;
    await res.acquire({ resource: 'schema', owner: 'A' });
    const waiting = res.acquire({ resource: 'schema', owner: 'B' });
    expect(await settled(h, waiting)).toBe(false);
    return { store: failing.store, failStore: failing.failStore, res, waiting };
  }

  it('an acquire waiting in line rejects with the store error when a later commit fails', async () => {
    const { store, res, waiting } = await waitingBehindHolder();
    store.crashed = true;
    // The release would grant B, but that batch is never stored: B must not wait for it.
    await expect(res.release('schema', 'A')).rejects.toMatchObject({ code: 'E_STORE' });
    const error = await waiting.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TroupeError);
    expect(error).toBe(h.runtime.core.host.failed);
    expect(error).toMatchObject({ code: 'E_STORE' });
  });

  it('an acquire waiting in line rejects with E_RUNTIME_STOPPED when the runtime stops', async () => {
    const { waiting } = await waitingBehindHolder();
    await h.runtime.stop();
    await expect(waiting).rejects.toMatchObject({ code: 'E_RUNTIME_STOPPED' });
  });

  it('a runtime that failed and then stopped still reports the store failure to the waiting acquire', async () => {
    const { failStore, waiting } = await waitingBehindHolder();
    await failStore();
    await h.runtime.stop();
    await expect(waiting).rejects.toMatchObject({ code: 'E_STORE' });
  });

  it('an acquire called after the store failed rejects at once with the failure', async () => {
    const { failStore, res } = await waitingBehindHolder();
    await failStore();
    const late = res.acquire({ resource: 'schema', owner: 'C' });
    expect(await settled(h, late)).toBe(true);
    await expect(late).rejects.toMatchObject({ code: 'E_STORE' });
  });
});

describe('PendingReplies', () => {
  it('failAll rejects every waiting call, and every call opened after it at once, with the first error', async () => {
    const replies = new PendingReplies<string>();
    const answered = replies.open();
    const first = replies.open();
    const second = replies.open();
    replies.settle(answered.key, 'granted');
    const failure = new TroupeError('E_STORE', 'disk on fire');
    replies.failAll(failure);
    replies.failAll(new TroupeError('E_RUNTIME_STOPPED', 'stopped'));
    await expect(answered.promise).resolves.toBe('granted');
    await expect(first.promise).rejects.toBe(failure);
    await expect(second.promise).rejects.toBe(failure);
    const late = replies.open();
    replies.settle(late.key, 'too late');
    await expect(late.promise).rejects.toBe(failure);
  });
});
