import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NonRetryableError } from '../src/core/errors.js';
import type { TaskHandler, TaskHandlerContext } from '../src/engine/api/task-handler.js';
import type { SimulatedClock } from '../src/engine/clock.js';
import type { Runtime } from '../src/runtime.js';
import type { TaskView } from '../src/engine/api/views.js';
import { nextEvent } from './agent-conformance-helpers.js';

/** One way of running agents (in-process, WebSocket), as the conformance suite drives it. */
export interface AgentHarness {
  runtime: Runtime;
  clock: SimulatedClock;
  /** Adds an agent; resolves once it can take work. */
  addAgent(spec: { id: string; capabilities?: string[]; capacity?: number; handler: TaskHandler }): Promise<void>;
  close(): Promise<void>;
}

/** A promise with its resolver, to hear from inside a handler. */
function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * The contract every agent transport keeps, whatever carries the work: the same scenarios and
 * the same expectations for in-process agents and for agents connected over WebSocket.
 */
export function describeAgentConformance(name: string, create: () => Promise<AgentHarness>): void {
  describe(`agent conformance: ${name}`, () => {
    let h: AgentHarness;
    beforeEach(async () => {
      h = await create();
    });
    afterEach(async () => h.close());

    it('completes a task with what the handler returns, showing it the task and its context', async () => {
      const seen = signal<{ task: TaskView; context: TaskHandlerContext }>();
      await h.addAgent({
        id: 'worker',
        capabilities: ['code'],
        handler: (task, context) => {
          seen.resolve({ task, context });
          return { echoed: task.input };
        },
      });
      const created = await h.runtime.tasks.create({ id: 't1', type: 'echo', requires: ['code'], input: { n: 7 } });
      const done = await h.runtime.tasks.wait(created.id);
      expect(done).toMatchObject({ status: 'succeeded', result: { echoed: { n: 7 } }, attempt: 1 });
      const { task, context } = await seen.promise;
      expect(task).toMatchObject({
        id: 't1',
        type: 'echo',
        status: 'running',
        input: { n: 7 },
        attempt: 1,
        agentId: 'worker',
      });
      expect(context).toMatchObject({
        ticket: null,
        dependencies: {},
        artifacts: {},
        attempt: 1,
        round: 1,
        feedback: null,
      });
      expect(context.signal.aborted).toBe(false);
    });

    it('retries a failed attempt after its backoff, then succeeds', async () => {
      let calls = 0;
      await h.addAgent({
        id: 'flaky',
        handler: () => {
          calls += 1;
          if (calls === 1) throw new Error('first try fails');
          return 'second try works';
        },
      });
      const retrying = nextEvent(h.runtime, { types: ['task.retrying'] });
      const created = await h.runtime.tasks.create({ id: 't2', type: 'flaky', retry: { maxAttempts: 3 } });
      const event = await retrying;
      expect(event.data.error).toMatchObject({ message: 'first try fails', category: 'transient', retryable: true });
      await h.clock.advance(1_000);
      const done = await h.runtime.tasks.wait(created.id);
      expect(done).toMatchObject({ status: 'succeeded', result: 'second try works', attempt: 2 });
      expect(done.attempts[0]?.error).toMatchObject({ code: 'E_TASK_FAILED' });
    });

    it('does not retry a non-retryable failure', async () => {
      await h.addAgent({
        id: 'strict',
        handler: () => {
          throw new NonRetryableError('bad input, retrying will not help');
        },
      });
      const created = await h.runtime.tasks.create({ id: 't3', type: 'strict', retry: { maxAttempts: 5 } });
      const done = await h.runtime.tasks.wait(created.id);
      expect(done.status).toBe('dead_lettered');
      expect(done.attempt).toBe(1);
      expect(done.error).toMatchObject({ category: 'permanent', code: 'E_NON_RETRYABLE', retryable: false });
    });

    it('fails non-retryably when the result is not plain JSON', async () => {
      await h.addAgent({ id: 'odd', handler: () => ({ when: new Date(0) }) });
      const created = await h.runtime.tasks.create({ id: 't4', type: 'odd' });
      const done = await h.runtime.tasks.wait(created.id);
      expect(done.status).toBe('dead_lettered');
      expect(done.error).toMatchObject({ code: 'E_NOT_SERIALIZABLE', retryable: false });
    });

    it('aborts the handler signal when its task is cancelled', async () => {
      const started = signal();
      const aborted = signal<unknown>();
      await h.addAgent({
        id: 'patient',
        handler: (_task, context) =>
          new Promise((resolve) => {
            context.signal.addEventListener('abort', () => {
              aborted.resolve(context.signal.reason);
              resolve('too late');
            });
            started.resolve();
          }),
      });
      const created = await h.runtime.tasks.create({ id: 't5', type: 'long' });
      await started.promise;
      await h.runtime.tasks.cancel(created.id, 'no longer needed');
      const reason = await aborted.promise;
      expect(reason).toMatchObject({ code: 'E_CANCELLED', message: 'no longer needed' });
      const done = await h.runtime.tasks.wait(created.id);
      expect(done).toMatchObject({ status: 'cancelled', reason: 'no longer needed', result: null });
    });

    it('publishes progress as task.progress events', async () => {
      const release = signal();
      await h.addAgent({
        id: 'chatty',
        handler: async (_task, context) => {
          context.progress(0.25, 'a quarter');
          await release.promise;
          return 'done';
        },
      });
      const progressed = nextEvent(h.runtime, { types: ['task.progress'], taskId: 't6' });
      const created = await h.runtime.tasks.create({ id: 't6', type: 'chatty' });
      const event = await progressed;
      expect(event).toMatchObject({ taskId: 't6', agentId: 'chatty', data: { value: 0.25, message: 'a quarter' } });
      release.resolve();
      expect((await h.runtime.tasks.wait(created.id)).status).toBe('succeeded');
    });

    it('hands artifacts and results on to dependent tasks', async () => {
      const contexts = new Map<string, TaskHandlerContext>();
      await h.addAgent({
        id: 'builder',
        capacity: 2,
        handler: (task, context) => {
          contexts.set(task.id, context);
          if (task.id === 'design') {
            context.artifact('spec', { endpoints: 3 });
            context.quality(0.8);
            return 'designed';
          }
          return `built from ${JSON.stringify(context.artifacts.spec)}`;
        },
      });
      const [, build] = await h.runtime.tasks.createMany([
        { id: 'design', type: 'design' },
        { id: 'build', type: 'build', dependsOn: ['design'] },
      ]);
      const done = await h.runtime.tasks.wait(build?.id as string);
      expect(done).toMatchObject({ status: 'succeeded', result: 'built from {"endpoints":3}' });
      expect(contexts.get('build')).toMatchObject({
        artifacts: { spec: { endpoints: 3 } },
        dependencies: { design: { result: 'designed', artifacts: { spec: { endpoints: 3 } }, quality: 0.8 } },
      });
      expect((await h.runtime.tasks.get('design')).quality).toBe(0.8);
    });

    it('gives tasks of a ticket the ticket in their context', async () => {
      const seen = signal<TaskHandlerContext>();
      await h.addAgent({
        id: 'ticketed',
        handler: (_task, context) => {
          seen.resolve(context);
          return null;
        },
      });
      const ticket = await h.runtime.tickets.create({
        id: 'T-1',
        title: 'Add roles',
        context: { repo: 'troupe' },
        phases: [{ name: 'build', tasks: [{ id: 'T-1-code', type: 'code' }] }],
      });
      expect((await h.runtime.tickets.wait(ticket.id)).status).toBe('completed');
      expect((await seen.promise).ticket).toMatchObject({ id: 'T-1', title: 'Add roles', context: { repo: 'troupe' } });
    });

    it('sends messages to other agents by id', async () => {
      await h.addAgent({ id: 'listener', capabilities: ['listen'], handler: () => null });
      await h.addAgent({
        id: 'talker',
        capabilities: ['talk'],
        handler: (_task, context) => {
          context.message('listener', { hello: 'there' });
          return null;
        },
      });
      const delivered = nextEvent(h.runtime, { types: ['agent.message'] });
      await h.runtime.tasks.create({ id: 't9', type: 'talk', requires: ['talk'] });
      expect(await delivered).toMatchObject({
        agentId: 'listener',
        data: { from: 'talker', to: 'listener', body: { hello: 'there' } },
      });
    });

    it("shows a validator what it judges: the round's work, the criteria, the round and the last feedback", async () => {
      const seen: Array<{ task: TaskView; context: TaskHandlerContext }> = [];
      await h.addAgent({
        id: 'builder',
        capabilities: ['code'],
        handler: (task, context) => {
          context.artifact('patch', `patch of round ${context.round}`);
          context.quality(task.type === 'implement' ? 0.9 : 0.7);
          return { did: task.type, round: context.round };
        },
      });
      await h.addAgent({
        id: 'reviewer',
        capabilities: ['review'],
        handler: (task, context) => {
          seen.push({ task, context });
          return context.round === 1
            ? { approved: false, feedback: 'add tests' }
            : { approved: true, feedback: 'good now' };
        },
      });
      const ticket = await h.runtime.tickets.create({
        id: 'V1',
        title: 'validated',
        phases: [
          {
            name: 'build',
            maxRounds: 3,
            gate: {
              requiredArtifacts: ['patch'],
              minQuality: 0.5,
              validator: { type: 'review', requires: ['review'] },
            },
            tasks: [
              { id: 'code', type: 'implement', requires: ['code'] },
              { id: 'notes', type: 'document', requires: ['code'] },
            ],
          },
        ],
      });
      expect((await h.runtime.tickets.wait(ticket.id)).status).toBe('completed');
      expect(seen).toHaveLength(2);
      const [first, second] = seen as [(typeof seen)[0], (typeof seen)[0]];
      const criteria = { allTasksSucceeded: true, requiredArtifacts: ['patch'], minQuality: 0.5 };
      expect(first.task).toMatchObject({ role: 'validator', phase: 'build', round: 1, feedback: null });
      expect(first.context).toMatchObject({ round: 1, feedback: null });
      expect(first.context.validation).toEqual({
        phase: 'build',
        round: 1,
        maxRounds: 3,
        criteria,
        tasks: {
          code: {
            type: 'implement',
            status: 'succeeded',
            result: { did: 'implement', round: 1 },
            artifacts: { patch: 'patch of round 1' },
            quality: 0.9,
          },
          notes: {
            type: 'document',
            status: 'succeeded',
            result: { did: 'document', round: 1 },
            artifacts: { patch: 'patch of round 1' },
            quality: 0.7,
          },
        },
        artifacts: { patch: 'patch of round 1' },
        minQuality: 0.7,
        previousFeedback: null,
      });
      // The second round: the reworked work, and the feedback that sent it back.
      expect(second.task).toMatchObject({ role: 'validator', round: 2, feedback: 'add tests' });
      expect(second.context).toMatchObject({ round: 2, feedback: 'add tests' });
      expect(second.context.validation).toMatchObject({
        round: 2,
        criteria,
        tasks: { code: { result: { did: 'implement', round: 2 }, quality: 0.9 } },
        artifacts: { patch: 'patch of round 2' },
        previousFeedback: 'add tests',
      });
      // Other tasks get no validation package.
      expect((await h.runtime.tasks.get('code')).role).toBeNull();
    });

    it('gives tasks that are not validators no validation package', async () => {
      const seen = signal<TaskHandlerContext>();
      await h.addAgent({ id: 'plain', handler: (_task, context) => seen.resolve(context) });
      await h.runtime.tasks.create({ id: 'plain-1', type: 'plain' });
      expect((await seen.promise).validation).toBeNull();
    });
  });
}
