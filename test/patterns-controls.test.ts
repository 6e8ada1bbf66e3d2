import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { NonRetryableError } from '../src/core/errors.js';
import { SimulatedClock } from '../src/engine/clock.js';
import { drawPattern } from '../src/features/patterns/tools/draw.js';
import { createRuntime, type Runtime } from '../src/runtime.js';

/**
 * The production controls declared in YAML patterns (docs/controls.md): what tasks take, compiled
 * through to the tasks a run creates, and the failure policy of `needs` applied and drawn.
 */
const pattern = (policy: string) => `
name: controlled_${policy}
inputs:
  tenant: { type: string, default: acme }
steps:
  - id: lint
    on_failure: continue
    task: { type: lint, retry: { max_attempts: 1 } }
  - id: build
    task:
      type: build
      delay: 5s
      rate_limits: [{ key: api, units: 2 }]
      concurrency: { key: "tenant:\${tenant}", max: 1 }
      breakers: [provider]
      bulkhead: batch
      retry: { max_attempts: 4, backoff: { base_ms: 10 } }
  - id: report
    needs: [build, { step: lint, on_failure: ${policy} }]
    task: { type: report }
`;

let runtime: Runtime;
let clock: SimulatedClock;
afterEach(async () => {
  await runtime?.stop();
});

async function run(policy: string) {
  clock = new SimulatedClock(0);
  runtime = createRuntime({
    clock,
    logger: pino({ level: 'silent' }),
    heartbeatIntervalMs: 3_600_000,
    staleAfterMs: 3_600_000_000,
  });
  await runtime.controls.setRateLimit({ key: 'api', limit: 10, per: 3_600_000 });
  await runtime.agents.register({
    id: 'agent',
    capacity: 10,
    handler: (task) => {
      if (task.type === 'lint') throw new NonRetryableError('lint failed');
      return { done: task.type };
    },
  });
  expect(runtime.patterns.add(pattern(policy), `controlled-${policy}.yaml`).problems).toEqual([]);
  const started = await runtime.patterns.apply({ pattern: `controlled_${policy}`, runId: 'r' });
  await clock.advance(60_000);
  return runtime.patterns.wait(started.id);
}

describe('controls in YAML patterns', () => {
  it('compiles what tasks take into the tasks a run creates: rate limits, concurrency key, breakers, bulkhead, delay, retry', async () => {
    const done = await run('continue');
    expect(done.status).toBe('completed');
    const build = await runtime.tasks.get('r/build');
    expect(build.controls).toEqual({
      rateLimits: [{ key: 'api', units: 2 }],
      concurrency: { key: 'tenant:acme', max: 1 },
      breakers: ['provider'],
      bulkhead: 'batch',
    });
    expect(build.maxAttempts).toBe(4);
    // Created when lint had failed (at 0) and queued 5 s later (the delay is a durable timer; the view's notBefore clears once due).
    expect(build.createdAt).toBe(0);
    expect(build.notBefore).toBeNull();
    expect(build.attempts[0]?.startedAt).toBe(5_000);
    // Two units spent at 5 s, refilled at 10 an hour since.
    expect((await runtime.controls.rateLimit('api')).available).toBeCloseTo(8 + 55_000 / 360_000, 6);
  });

  it('needs with on_failure continue: the report runs although lint failed', async () => {
    await run('continue');
    const report = await runtime.tasks.get('r/report');
    expect(report.status).toBe('succeeded');
    expect(report.controls.onDependencyFailure).toEqual({ 'r/lint': 'continue' });
  });

  it('needs with on_failure fail: the report is dead-lettered without running; skip (the default) skips it', async () => {
    await run('fail');
    const failed = await runtime.tasks.get('r/report');
    expect([failed.status, failed.error?.code, failed.attempts.length]).toEqual([
      'dead_lettered',
      'E_DEPENDENCY_FAILED',
      0,
    ]);
    await runtime.stop();
    await run('skip');
    expect((await runtime.tasks.get('r/report')).status).toBe('skipped');
  });

  it('troupe graph draws each need with its failure policy (mermaid notes, dashed DOT edges, JSON nodes)', async () => {
    clock = new SimulatedClock(0);
    runtime = createRuntime({ clock, logger: pino({ level: 'silent' }) });
    runtime.patterns.add(pattern('continue'), 'controlled.yaml');
    const compiled = runtime.patterns.compile('controlled_continue');
    expect(drawPattern(compiled, 'mermaid')).toMatch(
      /note right of \S*report : needs build \(on failure skip\), lint \(on failure continue\)/,
    );
    expect(drawPattern(compiled, 'dot')).toMatch(
      /"[^"]*lint" -> "[^"]*report" \[style=dashed, constraint=false, label="needs \(on failure continue\)"\]/,
    );
    const json = JSON.parse(drawPattern(compiled, 'json')) as {
      nodes: Array<{ key: string; needs?: Array<{ step: string; onFailure: string }> }>;
    };
    expect(json.nodes.find((n) => n.key === 'report')?.needs?.map((n) => n.onFailure)).toEqual(['skip', 'continue']);
  });
});
