import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock, type ContextPackage, type Runtime, type TroupeEvent } from '../src/index.js';

/**
 * The "complete example" of the Phase 4 coordination quick start, through the public API:
 * a model generator, then a validator generator once its dependency on the model generator
 * resolves, then a test generator behind the coverage quality gate. Every agent gets its
 * context package: the shared coordination state, and what its dependencies handed off.
 */

interface Run {
  runtime: Runtime;
  clock: SimulatedClock;
  log: string[];
  seen: Record<string, ContextPackage & { input: unknown }>;
  events: TroupeEvent[];
}

async function setUp(): Promise<Run> {
  const clock = new SimulatedClock(0);
  const runtime = createRuntime({ clock });
  const run: Run = { runtime, clock, log: [], seen: {}, events: [] };
  runtime.events.subscribe({ types: ['coordination.*', 'task.completed', 'task.skipped'] }, (e) => run.events.push(e));
  const agent = (
    id: string,
    capability: string,
    work: (ctx: { artifact(name: string, value: unknown): void; quality(q: number): void }) => unknown,
  ) =>
    runtime.agents.register({
      id,
      capabilities: [capability],
      handler: (task, ctx) => {
        run.log.push(`${id} started`);
        const { signal: _s, heartbeat: _h, progress: _p, artifact: _a, quality: _q, message: _m, ...pkg } = ctx;
        run.seen[task.id] = { ...pkg, input: task.input };
        const result = work(ctx);
        run.log.push(`${id} completed`);
        return result;
      },
    });
  await agent('model-generator', 'models', (ctx) => {
    ctx.artifact('models.py', 'class User(BaseModel): ...');
    ctx.quality(0.95);
    return { summary: 'Generated 5 Pydantic models' };
  });
  await agent('validator-generator', 'validators', (ctx) => {
    ctx.artifact('validators.py', 'def validate_user(u): ...');
    ctx.quality(0.92);
    return { summary: 'Generated validators' };
  });
  await agent('test-generator', 'tests', (ctx) => {
    ctx.artifact('test_models.py', 'def test_user(): ...');
    return { summary: 'Generated tests' };
  });
  return run;
}

async function plan(run: Run): Promise<void> {
  const { runtime } = run;
  const ticket = await runtime.tickets.create({
    id: 'codegen-workflow-1',
    title: 'Generate a service from its contract',
    phases: [{ name: 'plan' }],
    context: { coordinationId: 'coord-123', sessionId: 'session-456' },
  });
  await runtime.tasks.create({
    id: 'model_gen',
    type: 'generate_models',
    ticketId: ticket.id,
    requires: ['models'],
    input: { objective: 'Generate Pydantic models from contract', contract_path: './contract.yaml' },
  });
  await runtime.coordination.guard({
    id: 'validator_gen.deps',
    ticketId: ticket.id,
    task: {
      id: 'validator_gen',
      type: 'generate_validators',
      requires: ['validators'],
      input: { objective: 'Generate validators' },
    },
    dependencies: [{ kind: 'task', taskId: 'model_gen', timeoutMs: 120_000 }],
  });
  await runtime.coordination.guard({
    id: 'test_gen.deps',
    ticketId: ticket.id,
    task: { id: 'test_gen', type: 'generate_tests', requires: ['tests'], input: { objective: 'Generate tests' } },
    dependencies: [
      { kind: 'task', taskId: 'validator_gen', timeoutMs: 120_000 },
      { kind: 'quality', gate: 'coverage_gate', threshold: 0.8, timeoutMs: 60_000 },
    ],
  });
}

describe('quick start: model generator → validator generator → test generator behind a coverage gate', () => {
  let run: Run;
  afterEach(async () => run.runtime.stop());

  it('runs end to end through the public API', async () => {
    run = await setUp();
    await plan(run);
    await run.runtime.tasks.wait('validator_gen');
    expect(run.log).toEqual([
      'model-generator started',
      'model-generator completed',
      'validator-generator started',
      'validator-generator completed',
    ]);
    expect((await run.runtime.tasks.get('test_gen')).status).toBe('waiting');

    // The coverage gate is updated later through the API: first too low, then passing.
    await run.clock.advance(1_000);
    await run.runtime.coordination.setQualityScore('coverage_gate', 0.7);
    expect((await run.runtime.tasks.get('test_gen')).status).toBe('waiting');
    await run.clock.advance(1_000);
    await run.runtime.coordination.setQualityScore('coverage_gate', 0.85);
    const tests = await run.runtime.tasks.wait('test_gen');
    expect(tests).toMatchObject({ status: 'succeeded', result: { summary: 'Generated tests' } });
    expect(run.log.slice(-2)).toEqual(['test-generator started', 'test-generator completed']);

    // Context distribution: shared coordination state, the agent's assignment, its dependencies' hand-offs.
    const validator = run.seen.validator_gen;
    expect(validator?.ticket?.context).toEqual({ coordinationId: 'coord-123', sessionId: 'session-456' });
    expect(validator?.input).toEqual({ objective: 'Generate validators' });
    expect(validator?.dependencies.model_gen).toEqual({
      result: { summary: 'Generated 5 Pydantic models' },
      artifacts: { 'models.py': 'class User(BaseModel): ...' },
      quality: 0.95,
    });
    const testGen = run.seen.test_gen;
    expect(testGen?.artifacts).toEqual({ 'validators.py': 'def validate_user(u): ...' });
    expect(testGen?.ticket?.id).toBe('codegen-workflow-1');

    expect(await run.runtime.coordination.get('test_gen.deps')).toMatchObject({
      status: 'resolved',
      dependencies: [
        { description: 'task validator_gen succeeds', met: true },
        { description: 'quality gate "coverage_gate" reaches 0.8', met: true },
      ],
    });
    const types = run.events.map((e) => `${e.type}${e.taskId ? ` ${e.taskId}` : ''}`);
    expect(types.filter((t) => t.startsWith('coordination.dependency.resolved'))).toEqual([
      'coordination.dependency.resolved validator_gen',
      'coordination.dependency.resolved test_gen',
    ]);
    expect(types.indexOf('task.completed model_gen')).toBeLessThan(types.indexOf('task.completed validator_gen'));
    expect(types.indexOf('coordination.quality.updated')).toBeLessThan(types.indexOf('task.completed test_gen'));
  });

  it('a coverage gate that never passes times out after 60 s: the test generator is skipped, saying why', async () => {
    run = await setUp();
    await plan(run);
    await run.runtime.tasks.wait('validator_gen');
    await run.runtime.coordination.setQualityScore('coverage_gate', 0.5);
    await run.clock.advance(60_000);
    expect(await run.runtime.tasks.get('test_gen')).toMatchObject({
      status: 'skipped',
      reason: 'dependency timed out after 60000 ms: quality gate "coverage_gate" reaches 0.8',
    });
    expect(run.log).not.toContain('test-generator started');
  });
});
