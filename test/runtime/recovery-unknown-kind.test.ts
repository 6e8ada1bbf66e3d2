import { describe, expect, it } from 'vitest';
import { createRuntime, MemoryStore, SimulatedClock } from '../../src/index.js';

describe('restoring an actor whose machine is not registered', () => {
  it('refuses to start with an error naming the actor, its kind and what to do', async () => {
    const store = new MemoryStore();
    await store.commit({
      actors: [
        {
          id: 'run-1',
          kind: 'pattern:review_feedback_loop:0123456789ab',
          machineId: 'troupe.pattern.review_feedback_loop.0123456789ab',
          version: 1,
          state: 'pending',
          context: {},
          settled: false,
          ticketId: null,
          updatedAt: 0,
        },
      ],
      timersSet: [],
      timersCleared: [],
      events: [],
      outbox: [],
      outboxDelivered: [],
    });
    const runtime = createRuntime({ store, clock: new SimulatedClock(0) });
    const starting = runtime.start();
    await expect(starting).rejects.toMatchObject({ code: 'E_VERSION_MISMATCH' });
    await expect(starting).rejects.toThrow(
      /run-1 .*"pattern:review_feedback_loop:0123456789ab".*runtime\.patterns\.register/,
    );
    expect((await store.getActor('run-1'))?.state).toBe('pending');
  });
});
