import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock, type Runtime, type TaskCreateInput } from '../src/index.js';
import { SqliteStore } from '../src/engine/store/sqlite-store.js';

/**
 * A restart with a large backlog: 10,000 unfinished tasks on a SQLite file are all restored,
 * their timers re-armed, the ones waiting on dependencies still wait, and the queued ones are
 * dispatched once agents come. `start()` reports the counts and logs them. (How long the restart
 * takes is measured by `npm run bench -- --only sqlite-restart`, not asserted here.)
 */
const QUEUED = 9_000;
const WAITING = 1_000;
const WITH_TIMER_EVERY = 10;
const HOUR = 3_600_000;

function capture(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

describe('restart with 10,000 unfinished tasks in the store', () => {
  let dir: string;
  let path: string;
  const runtimes: Runtime[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-restart-'));
    path = join(dir, 'troupe.db');
  });
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function open(clock: SimulatedClock, logger: Logger = pino({ level: 'silent' })): Runtime {
    const runtime = createRuntime({ store: new SqliteStore({ path }), clock, logger });
    runtimes.push(runtime);
    return runtime;
  }

  it('restores every task and timer, reports and logs the counts, then runs the backlog to the end', async () => {
    const clock = new SimulatedClock(1_000_000);
    const first = open(clock);
    // 9,000 queued (every 10th with a start deadline an hour away: a durable timer), and 1,000
    // waiting for a task that is itself queued.
    const queued: TaskCreateInput[] = Array.from({ length: QUEUED }, (_, i) => ({
      id: `q-${i}`,
      type: 'work',
      input: { n: i },
      ...(i % WITH_TIMER_EVERY === 0 ? { timeouts: { start: HOUR } } : {}),
    }));
    const waiting: TaskCreateInput[] = Array.from({ length: WAITING }, (_, i) => ({
      id: `w-${i}`,
      type: 'work',
      input: { n: QUEUED + i },
      dependsOn: [`q-${i % 10}`],
    }));
    for (let i = 0; i < queued.length; i += 1_000) await first.tasks.createMany(queued.slice(i, i + 1_000));
    await first.tasks.createMany(waiting);
    await first.idle();
    await first.stop();
    runtimes.splice(0);

    const { logger, lines } = capture();
    const second = open(new SimulatedClock(clock.now() + 1_000), logger);
    const report = await second.start();
    expect(report).toEqual({ actors: QUEUED + WAITING, timers: QUEUED / WITH_TIMER_EVERY, lostAgents: 0 });
    const logged = lines.filter((l) => l['msg'] === 'recovered unfinished work');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: 30,
      store: `sqlite:${path}`,
      actors: QUEUED + WAITING,
      timers: QUEUED / 10,
      lostAgents: 0,
    });

    // Restored as they were: queued in the dispatcher's index, the others still waiting.
    expect(second.core.host.liveCount()).toBe(QUEUED + WAITING);
    expect(second.core.dispatcher.queuedCount()).toBe(QUEUED);
    expect(second.core.host.timerCount()).toBe(QUEUED / WITH_TIMER_EVERY);
    expect((await second.tasks.get('w-3')).status).toBe('waiting');
    expect((await second.tasks.get('q-10')).status).toBe('queued');

    let done = 0;
    second.events.subscribe({ types: ['task.completed'] }, () => (done += 1));
    for (let i = 0; i < 4; i++) {
      await second.agents.register({
        id: `a${i}`,
        capacity: 8,
        handler: (task) => (task.input as { n: number }).n * 2,
      });
    }
    await second.idle();
    expect(done).toBe(QUEUED + WAITING);
    expect(second.core.host.liveCount()).toBe(4); // the agents
    // Every task timer is gone; what is left are the agents' own heartbeat deadlines.
    expect((await second.store.loadTimers()).map((t) => t.name)).toEqual(['stale', 'stale', 'stale', 'stale']);
    expect((await second.tasks.get('w-999')).result).toBe((QUEUED + 999) * 2);
    const stored = await second.store.listActors({ kind: 'task', settled: false });
    expect(stored).toEqual([]);
  });

  it('lets an agent register again under its old id after a restart; what it held is retried', async () => {
    const clock = new SimulatedClock(0);
    const first = open(clock);
    let release: () => void = () => {};
    await first.agents.register({
      id: 'coder',
      capacity: 2,
      handler: () => new Promise<string>((r) => (release = () => r('first'))),
    });
    await first.tasks.createMany([
      { id: 'held', type: 'work', retry: { backoff: { baseMs: 100 } } },
      { id: 'later', type: 'work', dependsOn: ['held'] },
    ]);
    await first.idle();
    expect((await first.tasks.get('held')).status).toBe('running');
    // The process "dies": nothing more is committed, the handler's result never arrives.
    first.core.host.stop();
    await first.store.close();
    runtimes.splice(0);
    release();

    const secondClock = new SimulatedClock(clock.now());
    const second = open(secondClock);
    expect(await second.start()).toMatchObject({ lostAgents: 1 });
    expect(await second.agents.get('coder')).toMatchObject({
      status: 'gone',
      reason: 'the process that ran it restarted',
    });
    const held = await second.tasks.get('held');
    expect(held.status).toBe('retrying');
    expect(held.attempts[0]?.error).toMatchObject({ category: 'agent-lost', code: 'E_AGENT_LOST' });

    const view = await second.agents.register({ id: 'coder', capacity: 2, handler: (task) => `second:${task.id}` });
    expect(view).toMatchObject({ id: 'coder', status: 'idle' });
    await secondClock.advance(100);
    expect(await second.tasks.wait('later')).toMatchObject({ status: 'succeeded', result: 'second:later' });
    expect(await second.tasks.get('held')).toMatchObject({ status: 'succeeded', result: 'second:held', attempt: 2 });
    expect((await second.tasks.get('held')).attempts.map((a) => a.agentId)).toEqual(['coder', 'coder']);
  });
});
