import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createRuntime,
  SimulatedClock,
  TroupeError,
  type Runtime,
  type RuntimeOptions,
  type StoredActor,
} from '../src/index.js';
import { SqliteStore } from '../src/engine/store/sqlite-store.js';
import { emptyBatch } from '../src/engine/store/store.js';

/**
 * Snapshots carry the machine id and version that wrote them. A runtime refuses, on start, a
 * snapshot written by another version of a machine unless a migration from that version is
 * registered; it never guesses. Here the older version is "troupe.task v0": the same task with its
 * pending dependencies under another name and no rework round.
 */
const silent = pino({ level: 'silent' });

/** What v0 stored: `waitingFor` instead of `pendingDeps`, and no `round` / `feedback`. */
function toV0(record: StoredActor): StoredActor {
  const { pendingDeps, round: _round, feedback: _feedback, ...rest } = record.context as Record<string, unknown>;
  return { ...record, version: 0, context: { ...rest, waitingFor: pendingDeps } };
}

const fromV0 = ({ state, context }: { state: unknown; context: unknown }) => {
  const { waitingFor, ...rest } = context as Record<string, unknown>;
  return { state, context: { ...rest, pendingDeps: waitingFor, round: 1, feedback: null } };
};

describe('snapshots written by another machine version', () => {
  let dir: string;
  let path: string;
  const runtimes: Runtime[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-versions-'));
    path = join(dir, 'troupe.db');
    // A task stored by the current version, then rewritten as v0 would have stored it.
    const first = open();
    await first.tasks.create({ id: 'base', type: 'work' });
    await first.tasks.create({ id: 'old', type: 'work', dependsOn: ['base'], input: { n: 21 } });
    await first.stop();
    await rewrite('old', toV0);
  });

  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function open(options: RuntimeOptions = {}): Runtime {
    const runtime = createRuntime({
      store: new SqliteStore({ path }),
      clock: new SimulatedClock(0),
      logger: silent,
      ...options,
    });
    runtimes.push(runtime);
    return runtime;
  }

  /** Writes a stored record directly through the store, as an older Troupe would have. */
  async function rewrite(id: string, change: (r: StoredActor) => StoredActor): Promise<void> {
    const store = new SqliteStore({ path });
    await store.open();
    const record = await store.getActor(id);
    if (!record) throw new Error(`no record ${id}`);
    await store.commit({ ...emptyBatch(), actors: [change(record)] });
    await store.close();
  }

  async function stored(id: string): Promise<StoredActor | undefined> {
    const store = new SqliteStore({ path, readonly: true });
    await store.open();
    const record = await store.getActor(id);
    await store.close();
    return record;
  }

  async function startError(runtime: Runtime): Promise<TroupeError> {
    const error = await runtime.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TroupeError);
    return error as TroupeError;
  }

  it('refuses to start without a migration: E_VERSION_MISMATCH naming the actor and both versions', async () => {
    const runtime = open();
    const error = await startError(runtime);
    expect(error.code).toBe('E_VERSION_MISMATCH');
    expect(error.message).toBe(
      'actor old was stored by troupe.task v0; this runtime runs v2 and has no migration from v0',
    );
    expect(error.details).toEqual({ actorId: 'old', storedVersion: 0, runningVersion: 2 });
    // Every call gets the same answer; nothing runs on a half-restored store.
    await expect(runtime.tasks.get('base')).rejects.toMatchObject({ code: 'E_VERSION_MISMATCH' });
    await expect(runtime.tasks.create({ type: 'new' })).rejects.toMatchObject({ code: 'E_VERSION_MISMATCH' });
    await runtime.stop();
    // The record is left exactly as v0 wrote it.
    expect(await stored('old')).toMatchObject({ version: 0, context: { waitingFor: ['base'] } });
  });

  it('applies a registered migration, and the task carries on as the current version', async () => {
    const migrated: string[] = [];
    const runtime = open({
      migrations: [
        {
          kind: 'task',
          fromVersion: 0,
          migrate: (s) => {
            migrated.push((s.context as { id: string }).id);
            return fromV0(s);
          },
        },
      ],
    });
    expect(await runtime.start()).toMatchObject({ actors: 2 });
    expect(migrated).toEqual(['old']);
    const old = await runtime.tasks.get('old');
    expect(old).toMatchObject({ status: 'waiting', pendingDependencies: ['base'], round: 1, feedback: null });
    await runtime.agents.register({ id: 'a', handler: (task) => ((task.input as { n?: number } | null)?.n ?? 0) * 2 });
    expect(await runtime.tasks.wait('old')).toMatchObject({ status: 'succeeded', result: 42 });
    await runtime.stop();
    // Written back by the current version (v0 -> v1 by the registered migration, v1 -> v2 built in).
    expect(await stored('old')).toMatchObject({
      version: 2,
      state: 'succeeded',
      context: { pendingDeps: [], round: 1 },
    });
  });

  it('refuses a version newer than its own, even with migrations from older ones', async () => {
    await rewrite('base', (r) => ({ ...r, version: 3 }));
    const error = await startError(open({ migrations: [{ kind: 'task', fromVersion: 0, migrate: fromV0 }] }));
    expect(error.code).toBe('E_VERSION_MISMATCH');
    expect(error.message).toContain('actor base was stored by troupe.task v3; this runtime runs v2');
  });

  it('refuses a snapshot written by another machine altogether', async () => {
    await rewrite('base', (r) => ({ ...r, machineId: 'acme.job' }));
    const error = await startError(open({ migrations: [{ kind: 'task', fromVersion: 0, migrate: fromV0 }] }));
    expect(error.code).toBe('E_VERSION_MISMATCH');
    expect(error.message).toBe('actor base was stored by machine "acme.job", expected "troupe.task"');
  });

  it('refuses a message to a settled snapshot of another version, loaded on demand, and carries on', async () => {
    // Settled actors are not restored on start, only when a message reaches them.
    const runtime = open({ migrations: [{ kind: 'task', fromVersion: 0, migrate: fromV0 }] });
    await runtime.agents.register({ id: 'a', handler: () => 'ok' });
    await runtime.tasks.wait('old');
    await runtime.stop();
    runtimes.splice(0);
    await rewrite('base', (r) => ({ ...r, version: 0 }));

    const next = open();
    expect(await next.start()).toMatchObject({ actors: 1 }); // only the agent
    await expect(next.tasks.cancel('base')).rejects.toMatchObject({
      code: 'E_VERSION_MISMATCH',
      message: expect.stringContaining('actor base was stored by troupe.task v0') as unknown,
    });
    expect(await next.tasks.create({ id: 'after', type: 'work' })).toMatchObject({ status: 'queued' });
    expect(await stored('base')).toMatchObject({ version: 0, state: 'succeeded' });
  });
});
