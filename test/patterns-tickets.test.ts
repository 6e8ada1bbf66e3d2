import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskHandler } from '../src/engine/api/task-handler.js';
import { SimulatedClock } from '../src/engine/clock.js';
import { createRuntime, type Runtime } from '../src/runtime.js';
import { MemoryStore } from '../src/engine/store/memory-store.js';

const CAPABILITIES = [
  'code',
  'review',
  'testing',
  'python',
  'react',
  'architecture',
  'ci',
  'research',
  'analysis',
  'writing',
  'ops',
];
const silent = pino({ level: 'silent' });
let runtimes: Runtime[] = [];

async function start(handler: TaskHandler, store = new MemoryStore()): Promise<Runtime> {
  const runtime = createRuntime({
    store,
    clock: new SimulatedClock(0),
    logger: silent,
    heartbeatIntervalMs: 3_600_000,
    staleAfterMs: 1_000 * 3_600_000,
  });
  runtimes.push(runtime);
  await runtime.agents.register({ id: 'agent', capabilities: CAPABILITIES, capacity: 100, handler });
  return runtime;
}

afterEach(async () => {
  for (const r of runtimes) await r.stop();
  runtimes = [];
});

const approveAll: TaskHandler = (task) =>
  task.type.endsWith('review') ? { approved: true } : { choice: 'A', ok: true };

const WAIT_PATTERN = `
name: approval_gate
steps:
  - id: draft
    task: { type: draft, requires: [writing] }
  - id: approval
    timeout: 2h
    wait: { signal: approved }
  - id: publish
    task: { type: publish, requires: [ops] }
`;

describe('patterns on tickets and phases', () => {
  it('creates a ticket whose phases each use a pattern; each run starts when its phase opens and holds the phase open', async () => {
    const order: string[] = [];
    const runtime = await start((task, ctx) => {
      order.push(`${task.phase}:${task.type}`);
      if (task.type === 'implement') expect(Object.keys(ctx.ticket?.phases ?? {})).toEqual(['design']);
      return approveAll(task, ctx);
    });
    const { ticket, runs } = await runtime.patterns.tickets.create({
      id: 'pay',
      title: 'Payments',
      phases: [
        { name: 'design', pattern: 'majority_vote', inputs: { question: 'Which provider?' } },
        { name: 'build', pattern: 'primary_with_reviewers', inputs: { description: 'Payment API' } },
      ],
    });
    expect(runs).toEqual({ design: 'pay/design/run', build: 'pay/build/run' });
    expect(ticket.id).toBe('pay');
    const done = await runtime.tickets.wait('pay');
    expect(done.status).toBe('completed');
    expect(order).toEqual([
      'design:evaluate_option',
      'design:evaluate_option',
      'design:evaluate_option',
      'design:record_decision',
      'build:implement',
      'build:architecture_review',
      'build:test_review',
    ]);
    expect((await runtime.patterns.get('pay/build/run')).status).toBe('completed');
    // Each phase passed only once its run had ended; the build run started after design passed.
    const events = runtime.events
      .history({ ticketId: 'pay', types: ['phase.passed', 'pattern.started', 'pattern.completed'] })
      .reverse()
      .map((e) => `${e.type}:${e.phase}`);
    expect(events).toEqual([
      'pattern.started:design',
      'pattern.completed:design',
      'phase.passed:design',
      'pattern.started:build',
      'pattern.completed:build',
      'phase.passed:build',
    ]);
  });

  it('fails the phase and the ticket when its run fails', async () => {
    const runtime = await start((task) => (task.type.endsWith('review') ? { approved: false } : { ok: true }));
    await runtime.patterns.tickets.create({
      id: 't',
      title: 'x',
      phases: [{ name: 'build', pattern: 'primary_with_reviewers', maxRounds: 1 }],
    });
    const done = await runtime.tickets.wait('t');
    expect(done.status).toBe('failed');
    expect((await runtime.patterns.get('t/build/run')).status).toBe('escalated');
  });

  it('applies a pattern to a phase of an existing ticket, and to a ticket as a whole', async () => {
    const runtime = await start(approveAll);
    // The first phase cannot finish before a 'gatekeeping' agent arrives: the second is not open yet.
    await runtime.tickets.create({
      id: 'tk',
      title: 'x',
      phases: [{ name: 'first', tasks: [{ id: 'tk-a', type: 'x', requires: ['gatekeeping'] }] }, 'second'],
    });
    const run = await runtime.patterns.apply({
      pattern: 'parallel_independent',
      ticketId: 'tk',
      phase: 'second',
      runId: 'tk/second/run',
    });
    expect(run.status).toBe('pending');
    await runtime.agents.register({ id: 'gatekeeper', capabilities: ['gatekeeping'], handler: approveAll });
    expect((await runtime.tickets.wait('tk')).status).toBe('completed');
    expect((await runtime.tasks.get('tk/second/run/work/0')).phase).toBe('second');
    const whole = await runtime.patterns.wait(
      (await runtime.patterns.apply({ pattern: 'majority_vote', ticketId: 'tk', runId: 'r2' })).id,
    );
    expect(whole).toMatchObject({ status: 'completed', ticketId: 'tk', phase: null });
    expect(await runtime.tasks.get('r2/record')).toMatchObject({ ticketId: 'tk', phase: null });
    await expect(runtime.patterns.apply({ pattern: 'majority_vote', ticketId: 'nope' })).rejects.toThrow(/nope/);
    await expect(runtime.patterns.apply({ pattern: 'majority_vote', ticketId: 'tk', phase: 'third' })).rejects.toThrow(
      /no phase "third"/,
    );
  });

  it('refuses and cancels a run whose phase ends between the check and the join', async () => {
    const runtime = await start(approveAll);
    await runtime.tickets.create({
      id: 'race',
      title: 'x',
      phases: [{ name: 'only', tasks: [{ id: 'race-a', type: 'x', requires: ['gatekeeping'] }] }],
    });
    // The run's check reads the ticket while its phase is active; before the run joins it, the
    // phase's last task finishes and the phase passes (the window a busy server leaves open).
    const readTicket = runtime.tickets.get.bind(runtime.tickets);
    runtime.tickets.get = async (id: string) => {
      const seen = await readTicket(id);
      runtime.tickets.get = readTicket;
      await runtime.agents.register({ id: 'gatekeeper', capabilities: ['gatekeeping'], handler: approveAll });
      expect((await runtime.tickets.wait(id)).status).toBe('completed');
      return seen;
    };
    const applying = runtime.patterns.apply({
      pattern: 'parallel_independent',
      ticketId: 'race',
      phase: 'only',
      runId: 'late-run',
    });
    await expect(applying).rejects.toMatchObject({
      code: 'E_INVALID_STATE',
      message: expect.stringMatching(/phase "only" of ticket race ended before run late-run could join it/),
    });
    // The run never started, and none of its work was made.
    expect((await runtime.patterns.get('late-run')).status).toBe('cancelled');
    expect(runtime.events.history({ types: ['pattern.started'] })).toEqual([]);
    await runtime.idle();
    expect((await runtime.tasks.list({})).map((t) => t.id)).toEqual(['race-a']);
  });

  it('waits for a signal, and times out without one', async () => {
    const runtime = await start(() => ({ ok: true }));
    expect(runtime.patterns.add(WAIT_PATTERN, 'approval.yaml').problems).toEqual([]);
    const signalled = await runtime.patterns.apply({ pattern: 'approval_gate', runId: 's1' });
    await runtime.idle();
    expect((await runtime.patterns.get(signalled.id)).state).toBe('approval');
    await expect(runtime.patterns.signal('s1', 'rejected')).rejects.toThrow(/not waiting for signal "rejected"/);
    await runtime.patterns.signal('s1', 'approved');
    expect((await runtime.patterns.wait('s1')).status).toBe('completed');
    await runtime.patterns.apply({ pattern: 'approval_gate', runId: 's2' });
    await runtime.idle();
    await (runtime.clock as SimulatedClock).advance(2 * 3_600_000);
    expect(await runtime.patterns.get('s2')).toMatchObject({ status: 'timed_out', failure: { step: 'approval' } });
  });

  it('cancels a run with its unfinished tasks, and the runs of a cancelled ticket', async () => {
    const runtime = await start(
      (_task, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stop')))),
    );
    await runtime.patterns.apply({ pattern: 'parallel_independent', runId: 'c1' });
    await runtime.idle();
    const cancelled = await runtime.patterns.cancel('c1', 'not needed');
    expect(cancelled).toMatchObject({ status: 'cancelled', failure: { reason: 'not needed' } });
    expect((await runtime.tasks.list({ status: 'cancelled' })).map((t) => t.id)).toEqual(['c1/work/0', 'c1/work/1']);
    await runtime.patterns.tickets.create({
      id: 'tc',
      title: 'x',
      phases: [{ name: 'only', pattern: 'parallel_independent' }],
    });
    await runtime.idle();
    await runtime.tickets.cancel('tc');
    expect((await runtime.patterns.wait('tc/only/run')).status).toBe('cancelled');
  });

  it('merges with a custom function registered on the runtime', async () => {
    const runtime = await start((task) => ({ score: Number(task.id.slice(-1)) }));
    runtime.patterns.registerMerge(
      'best',
      (inputs) =>
        inputs.reduce((a, b) => ((b.result as { score: number }).score > (a.result as { score: number }).score ? b : a))
          .result,
    );
    const report = runtime.patterns.add(
      'name: best_of\nsteps:\n  - id: tries\n    split: { count: 3, task: { type: try, requires: [code] } }\n  - id: all_in\n    join: { from: tries }\n  - id: pick\n    merge: { from: tries, strategy: custom, function: best }\n',
      'best.yaml',
    );
    expect(report.problems).toEqual([]);
    const done = await runtime.patterns.wait((await runtime.patterns.apply({ pattern: 'best_of' })).id);
    expect(done.results.pick).toEqual({ score: 2 });
  });

  it('resumes an unfinished run after a restart, once its pattern is registered again', async () => {
    const store = new MemoryStore();
    const first = await start(
      (_task, ctx) =>
        new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped')))),
      store,
    );
    await first.patterns.apply({ pattern: 'primary_with_reviewers', runId: 'again' });
    await first.idle();
    expect((await first.patterns.get('again')).state).toBe('reviewed_work.work');
    await first.stop();
    const second = createRuntime({
      store,
      clock: new SimulatedClock(0),
      logger: silent,
      heartbeatIntervalMs: 3_600_000,
      staleAfterMs: 1_000 * 3_600_000,
    });
    runtimes.push(second);
    second.patterns.register('primary_with_reviewers');
    await second.start();
    await second.agents.register({ id: 'agent-2', capabilities: CAPABILITIES, capacity: 100, handler: approveAll });
    // The work task's agent was lost with the old process: it is retried after its backoff.
    await (second.clock as SimulatedClock).advance(1_000);
    expect(await second.patterns.wait('again')).toMatchObject({ status: 'completed', rounds: { reviewed_work: 1 } });
    expect((await second.tasks.get('again/reviewed_work/work/r1')).attempt).toBe(2);
  });
});
