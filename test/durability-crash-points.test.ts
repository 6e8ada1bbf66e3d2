import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  createRuntime,
  MemoryStore,
  NonRetryableError,
  SimulatedClock,
  type RecoveryReport,
  type Store,
} from '../src/index.js';
import { CrashableStore } from './fixtures/durability/crashable-store.js';
import { checkHistory, readOutcome, type Outcome } from './fixtures/durability/outcome.js';
import {
  ensureLate,
  ensureWorkflow,
  taskCount,
  workflowSettled,
  workHandler,
  type WorkflowShape,
} from './fixtures/durability/workflow.js';

/**
 * Crash at every commit boundary, in process and on a simulated clock: a run stops after its
 * i-th commit (every later commit fails, as if the process had died right there), a new runtime
 * starts on what was stored and carries on, for every i. Whatever was committed last, the
 * ticket completes with the results of a run that never crashed, each task's completion is
 * recorded once, and the event history has no gap.
 */
const SHAPE: WorkflowShape = {
  splits: 2,
  children: 4,
  failEvery: 3,
  slowEvery: 3,
  finishMs: 50,
  retry: { maxAttempts: 10, backoff: { baseMs: 10, factor: 2, capMs: 80, jitter: 0 } },
};
const AGENTS = 2;
const silent = pino({ level: 'silent' });

interface RunResult {
  crashed: boolean;
  commits: number;
  endedAt: number;
  report: RecoveryReport | undefined;
}

/** Runs (or resumes) the workflow on `store` until it settles or the store "crashes". */
async function run(store: Store, startAt: number, crashAfter?: number): Promise<RunResult> {
  const crashable = new CrashableStore(store, crashAfter);
  const clock = new SimulatedClock(startAt);
  let n = Math.floor(startAt) + 1;
  const random = () => (n = (n * 9301 + 49297) % 233280) / 233280;
  const runtime = createRuntime({ store: crashable, clock, random, logger: silent, retry: SHAPE.retry });
  let report: RecoveryReport | undefined;
  try {
    report = await runtime.start();
    await ensureWorkflow(runtime, SHAPE);
    for (let i = 0; i < AGENTS; i++) await runtime.agents.register({ id: `a${i}`, capacity: 1, handler: workHandler });
    for (let step = 0; step < 5_000 && !crashable.crashed; step++) {
      if (await workflowSettled(runtime)) break;
      await ensureLate(runtime, SHAPE);
      await clock.advance(5);
    }
  } catch (error) {
    if (!crashable.crashed) throw error;
  }
  await runtime.stop();
  return { crashed: crashable.crashed, commits: crashable.commits, endedAt: clock.now(), report };
}

async function expectSameAsBaseline(store: Store, baseline: Outcome, label: string): Promise<void> {
  expect(await readOutcome(store), label).toEqual(baseline);
  const history = await checkHistory(store);
  expect(history.gaps, label).toEqual([]);
  expect(history.completedNotOnce, label).toEqual({});
  expect(history.unsettled, label).toEqual([]);
  expect(history.completedEvents, label).toBe(taskCount(SHAPE));
}

describe('a crash between any two commits loses nothing and repeats nothing', () => {
  it('resumes to the same outcome from every commit boundary of a run', async () => {
    const reference = new MemoryStore({ eventRetention: 1_000_000 });
    const uninterrupted = await run(reference, 0);
    expect(uninterrupted.crashed).toBe(false);
    const baseline = await readOutcome(reference);
    expect(baseline.ticket.state).toBe('completed');
    expect(Object.values(baseline.tasks).every((t) => t.state === 'succeeded')).toBe(true);
    expect(Object.keys(baseline.tasks)).toHaveLength(taskCount(SHAPE));
    const history = await checkHistory(reference);
    // The workflow does retry and time out: the comparison is not of a trivial run.
    expect(history.failedAttempts['transient']).toBeGreaterThan(0);
    expect(history.failedAttempts['timeout']).toBeGreaterThan(0);
    await expectSameAsBaseline(reference, baseline, 'uninterrupted');

    const total = uninterrupted.commits;
    expect(total).toBeGreaterThan(10);
    let lostAgentsSeen = 0;
    for (let crashAfter = 0; crashAfter < total; crashAfter++) {
      const store = new MemoryStore({ eventRetention: 1_000_000 });
      const crashed = await run(store, 0, crashAfter);
      expect(crashed.crashed, `crash after commit ${crashAfter}`).toBe(true);
      const live = await store.loadLive();
      const timers = await store.loadTimers();
      const resumed = await run(store, crashed.endedAt);
      expect(resumed.crashed).toBe(false);
      // What start() reports is what the store held.
      expect(resumed.report?.actors, `crash after commit ${crashAfter}`).toBe(live.length);
      expect(resumed.report?.timers, `crash after commit ${crashAfter}`).toBe(timers.length);
      lostAgentsSeen += resumed.report?.lostAgents ?? 0;
      await expectSameAsBaseline(store, baseline, `crash after commit ${crashAfter}`);
    }
    expect(lostAgentsSeen).toBeGreaterThan(0);
  });

  it('resumes to the same outcome after a second crash during the restart itself', async () => {
    const reference = new MemoryStore({ eventRetention: 1_000_000 });
    const total = (await run(reference, 0)).commits;
    const baseline = await readOutcome(reference);
    // A crash at every third boundary, then another within the first commits of the restart
    // (marking the old agents lost, re-registering them, the work that follows).
    let doubleCrashes = 0;
    let tries = 0;
    for (let crashAfter = 1; crashAfter < total; crashAfter += 3) {
      for (const again of [0, 1, 2, 5]) {
        tries += 1;
        const store = new MemoryStore({ eventRetention: 1_000_000 });
        const first = await run(store, 0, crashAfter);
        const label = `crash after commit ${crashAfter}, then after ${again} more`;
        // Near the end, the restart may finish before its `again`-th commit.
        const second = await run(store, first.endedAt, again);
        if (second.crashed) {
          doubleCrashes += 1;
          const third = await run(store, second.endedAt);
          expect(third.crashed, label).toBe(false);
        }
        await expectSameAsBaseline(store, baseline, label);
      }
    }
    expect(doubleCrashes).toBeGreaterThan(tries / 2);
  });

  it('commits the messages one batch causes with it, even past the batch size (a crash cannot cut a cascade)', async () => {
    // 2,100 children wait for `src`; when it dead-letters, each is skipped and reports to the
    // phase: over 4,000 messages caused by one, more than a batch takes from the mailbox.
    const WIDE = 2_100;
    const store = new MemoryStore({ eventRetention: 1_000_000 });
    const srcDied = (batch: { events: Array<{ type: string; taskId: string | null }> }) =>
      batch.events.some((e) => e.type === 'task.dead_lettered' && e.taskId === 'src');
    const first = new CrashableStore(store, srcDied);
    const clock = new SimulatedClock(0);
    const runtime = createRuntime({ store: first, clock, logger: silent });
    const children = Array.from({ length: WIDE }, (_, i) => ({ id: `w-${i}`, type: 'child', dependsOn: ['src'] }));
    await runtime.tickets.create({
      id: 'W',
      title: 'wide',
      phases: [
        { name: 'work', maxRounds: 1, tasks: [{ id: 'src', type: 'src', retry: { maxAttempts: 1 } }, ...children] },
      ],
    });
    await runtime.agents.register({
      id: 'a',
      handler: () => {
        throw new NonRetryableError('src cannot succeed');
      },
    });
    for (let i = 0; i < 100 && !first.crashed; i++) await clock.advance(10);
    expect(first.crashed).toBe(true);
    await runtime.stop();
    // What the last commit stored holds the whole cascade: no child still waits for `src`.
    const waiting = (await store.listActors({ kind: 'task' })).filter((t) => t.state === 'waiting');
    expect(waiting.map((t) => t.id)).toEqual([]);

    const second = createRuntime({ store, clock: new SimulatedClock(clock.now()), logger: silent });
    const done = await second.tickets.wait('W');
    expect(done.status).toBe('failed');
    expect(done.phases[0]).toMatchObject({
      status: 'failed',
      tasks: { total: WIDE + 1, open: 0, dead_lettered: 1, skipped: WIDE },
    });
    await second.stop();
  });
});

describe('batch boundaries', () => {
  it('creates a task set larger than a batch in one commit, each task counted by its phase: a crash stores all or none', async () => {
    // 2,100 tasks for one phase are more than the host's 2,000 messages per batch; creation is
    // still one commit, so a crash cannot store part of the set, and each stored task is counted
    // by its phase in that same commit (or the phase would pass before its work is done).
    const WIDE = 2_100;
    const planned = Array.from({ length: WIDE }, (_, i) => ({
      id: `p-${i}`,
      type: 'part',
      ticketId: 'P',
      phase: 'work',
      input: i,
    }));
    const spawnsTasks = (batch: { actors: Array<{ kind: string }> }) => batch.actors.some((a) => a.kind === 'task');

    // A crash right after the creation's commit: every task is there, and counted.
    const kept = new MemoryStore({ eventRetention: 1_000_000 });
    const afterCreation = createRuntime({
      store: new CrashableStore(kept, spawnsTasks),
      clock: new SimulatedClock(0),
      logger: silent,
    });
    await afterCreation.tickets.create({ id: 'P', title: 'wide phase', phases: [{ name: 'work' }, { name: 'sum' }] });
    expect(await afterCreation.tasks.createMany(planned)).toHaveLength(WIDE);
    await afterCreation.stop();
    expect(await kept.listActors({ kind: 'task' })).toHaveLength(WIDE);
    expect(await kept.getActor('P/work')).toMatchObject({ context: { counts: { total: WIDE, open: WIDE } } });

    // A crash on the creation's commit: none is there, and none counted.
    const store = new MemoryStore({ eventRetention: 1_000_000 });
    const first = new CrashableStore(store);
    const runtime = createRuntime({ store: first, clock: new SimulatedClock(0), logger: silent });
    await runtime.tickets.create({ id: 'P', title: 'wide phase', phases: [{ name: 'work' }, { name: 'sum' }] });
    await runtime.idle();
    first.crashAfter = first.commits;
    await expect(runtime.tasks.createMany(planned)).rejects.toMatchObject({ code: 'E_STORE' });
    await runtime.stop();
    expect(await store.listActors({ kind: 'task' })).toHaveLength(0);
    expect(await store.getActor('P/work')).toMatchObject({ context: { counts: { total: 0, open: 0 } } });

    // The client creates what is missing, as after any crash, and the work runs.
    const second = createRuntime({ store, clock: new SimulatedClock(0), logger: silent });
    const existing = await store.getActors(planned.map((t) => t.id));
    await second.tasks.createMany(planned.filter((t) => !existing.has(t.id)));
    await second.tasks.create({ id: 'sum', type: 'sum', ticketId: 'P', phase: 'sum' });
    await second.agents.register({
      id: 'a',
      capacity: 16,
      handler: (task, ctx) =>
        task.type === 'sum'
          ? Object.values(ctx.ticket?.phases['work']?.results ?? {}).reduce((a: number, b) => a + Number(b), 0)
          : task.input,
    });
    expect(await second.tickets.wait('P')).toMatchObject({ status: 'completed' });
    expect((await second.tasks.get('sum')).result).toBe((WIDE * (WIDE - 1)) / 2);
    await second.stop();
  });

  it('dispatches after a batch that took exactly as many messages as a batch holds', async () => {
    // 2,000 spawns fill one batch to the brim with nothing left in the mailbox: the dispatcher
    // must still get its turn before the commit, or the tasks would sit queued next to an idle
    // agent until some unrelated message (a heartbeat, 30 s later) started another batch.
    const runtime = createRuntime({ store: new MemoryStore(), clock: new SimulatedClock(0), logger: silent });
    await runtime.agents.register({ id: 'a', capacity: 4, handler: () => 'ok' });
    await runtime.tasks.createMany(Array.from({ length: 2_000 }, (_, i) => ({ id: `t${i}`, type: 'noop' })));
    await runtime.idle();
    expect(await runtime.tasks.list({ status: 'succeeded' })).toHaveLength(2_000);
    await runtime.stop();
  });
});
