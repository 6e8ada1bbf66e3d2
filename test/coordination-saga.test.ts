import { afterEach, describe, expect, it } from 'vitest';
import { NonRetryableError, type TaskView } from '../src/index.js';
import { harness, type Harness } from './runtime/helpers.js';

/** Runs tasks in the order they arrive, recording it; types listed in `failing` fail. */
async function recorder(h: Harness, failing: string[] = []) {
  const order: string[] = [];
  const inputs: Record<string, { input: unknown; deps: string[]; artifacts: Record<string, unknown> }> = {};
  await h.runtime.agents.register({
    id: 'w',
    capacity: 10,
    handler: (task: TaskView, ctx) => {
      order.push(task.type);
      inputs[task.type] = { input: task.input, deps: Object.keys(ctx.dependencies), artifacts: ctx.artifacts };
      if (failing.includes(task.type)) throw new NonRetryableError(`${task.type} failed`);
      ctx.artifact(`${task.type}.receipt`, task.id);
      return { did: task.type };
    },
  });
  return { order, inputs };
}

const steps = [
  { task: { type: 'reserve-flight' }, compensation: { type: 'cancel-flight' } },
  { task: { type: 'reserve-hotel' }, compensation: { type: 'cancel-hotel' } },
  { task: { type: 'charge-card' }, compensation: { type: 'refund-card' } },
  { task: { type: 'send-email' } },
];

describe('saga', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('runs its steps in order and completes without compensating', async () => {
    h = await harness();
    const { order } = await recorder(h);
    await h.runtime.coordination.saga({ id: 'trip', steps });
    expect(await h.runtime.coordination.wait('trip')).toMatchObject({ status: 'completed', compensated: [] });
    expect(order).toEqual(['reserve-flight', 'reserve-hotel', 'charge-card', 'send-email']);
  });

  it('on a failed step, compensates the completed steps in reverse order and skips the rest', async () => {
    h = await harness();
    const { order, inputs } = await recorder(h, ['charge-card']);
    await h.runtime.coordination.saga({ id: 'trip', steps });
    const done = await h.runtime.coordination.wait('trip');
    expect(done).toMatchObject({
      status: 'compensated',
      compensated: ['trip.step.1', 'trip.step.0'],
      steps: [
        { taskId: 'trip.step.0', status: 'succeeded' },
        { taskId: 'trip.step.1', status: 'succeeded' },
        { taskId: 'trip.step.2', status: 'dead_lettered' },
        { taskId: 'trip.step.3', status: 'skipped' },
      ],
    });
    expect(order).toEqual(['reserve-flight', 'reserve-hotel', 'charge-card', 'cancel-hotel', 'cancel-flight']);
    expect((await h.runtime.tasks.get('trip.step.3')).status).toBe('skipped');
    // A compensation knows what it undoes and receives that step's result and artifacts.
    expect(inputs['cancel-hotel']).toEqual({
      input: { saga: { id: 'trip', compensates: 'trip.step.1', failedStep: 'trip.step.2' } },
      deps: ['trip.step.1'],
      artifacts: { 'reserve-hotel.receipt': 'trip.step.1' },
    });
    expect(
      h.events
        .filter((e) => e.type.startsWith('coordination.saga'))
        .map((e) => `${e.type} ${String(e.data.step ?? '')}`),
    ).toEqual([
      'coordination.saga.created ',
      'coordination.saga.failed_step trip.step.2',
      'coordination.saga.compensating trip.step.1',
      'coordination.saga.compensating trip.step.0',
      'coordination.saga.compensated ',
    ]);
  });

  it('a failing compensation does not stop the others; the saga names it', async () => {
    h = await harness();
    const { order } = await recorder(h, ['charge-card', 'cancel-hotel']);
    await h.runtime.coordination.saga({ id: 'trip', steps });
    expect(await h.runtime.coordination.wait('trip')).toMatchObject({
      status: 'compensation_failed',
      compensated: ['trip.step.0'],
      compensationFailures: ['trip.compensate.1 ended dead_lettered'],
      reason: 'trip.compensate.1 ended dead_lettered',
    });
    expect(order.slice(-2)).toEqual(['cancel-hotel', 'cancel-flight']);
  });

  it('a failure in the first step has nothing to compensate', async () => {
    h = await harness();
    const { order } = await recorder(h, ['reserve-flight']);
    await h.runtime.coordination.saga({ id: 'trip', steps });
    expect(await h.runtime.coordination.wait('trip')).toMatchObject({ status: 'compensated', compensated: [] });
    expect(order).toEqual(['reserve-flight']);
  });

  it('cancelling a saga cancels its running step, which starts the compensation', async () => {
    h = await harness();
    const order: string[] = [];
    await h.runtime.agents.register({
      id: 'w',
      handler: async (task, ctx) => {
        order.push(task.type);
        if (task.type === 'reserve-hotel')
          await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
        return null;
      },
    });
    await h.runtime.coordination.saga({ id: 'trip', steps });
    await h.runtime.idle();
    expect(await h.runtime.coordination.cancel('trip', 'customer changed plans')).toMatchObject({
      status: 'compensating',
    });
    expect(await h.runtime.coordination.wait('trip')).toMatchObject({
      status: 'compensated',
      compensated: ['trip.step.0'],
    });
    expect(order).toEqual(['reserve-flight', 'reserve-hotel', 'cancel-flight']);
    expect((await h.runtime.tasks.get('trip.step.1')).reason).toBe('customer changed plans');
  });
});
