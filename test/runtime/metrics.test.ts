import { afterEach, describe, expect, it } from 'vitest';
import { harness, type Harness } from './helpers.js';

describe('metrics', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('counts tasks, failures by category, and times queue waits and runs on the runtime clock', async () => {
    h = await harness();
    let calls = 0;
    await h.runtime.agents.register({
      id: 'w',
      handler: async () => {
        calls += 1;
        if (calls === 1) throw new Error('once');
        return 'ok';
      },
    });
    await h.runtime.tasks.create({ id: 'a', type: 't', retry: { backoff: { baseMs: 500 } } });
    await h.runtime.tasks.create({ id: 'stuck', type: 't', requires: ['nobody'] });
    await h.clock.advance(500);
    await h.runtime.tasks.wait('a');
    const text = await h.runtime.metrics.text();
    expect(text).toContain('troupe_tasks_created_total 2');
    expect(text).toContain('troupe_tasks_settled_total{status="completed"} 1');
    expect(text).toContain('troupe_task_attempts_failed_total{category="transient"} 1');
    expect(text).toContain('troupe_tasks_queued 1');
    // The retried attempt was queued at 500 and started at once.
    expect(text).toMatch(/troupe_task_queue_wait_seconds_bucket\{le="0.001"\} 2/);
  });
});
