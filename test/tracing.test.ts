import { context as otelContext, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock, type Runtime } from '../src/index.js';
import { tracingEnabled } from '../src/engine/tracing/event-spans.js';
import { connectAgent } from '../src/edge/sdk/index.js';
import { startServer } from '../src/edge/server/server.js';

const T0 = 1_700_000_000_000;
const ms = (span: ReadableSpan, which: 'startTime' | 'endTime') =>
  span[which][0] * 1000 + Math.round(span[which][1] / 1e6);

describe('OpenTelemetry spans from the event stream', () => {
  let runtime: Runtime;
  let exporter: InMemorySpanExporter;
  let clock: SimulatedClock;
  afterEach(async () => runtime.stop());

  async function traced(): Promise<void> {
    exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    clock = new SimulatedClock(T0);
    runtime = createRuntime({ clock, tracer: provider.getTracer('troupe'), random: () => 0.5 });
    await runtime.start();
  }
  const spans = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);
  const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

  it('makes a task span with one child span per attempt, timed on the runtime clock, failures with their category', async () => {
    await traced();
    let calls = 0;
    await runtime.agents.register({
      id: 'a1',
      handler: async () => {
        calls += 1;
        await new Promise<void>((resolve) => clock.schedule(250, resolve));
        if (calls === 1) throw new Error('flaky');
        return 'ok';
      },
    });
    const task = await runtime.tasks.create({
      type: 'build',
      retry: { maxAttempts: 3, backoff: { baseMs: 1_000, jitter: 0 } },
    });
    await clock.advance(5_000);
    expect((await runtime.tasks.get(task.id)).status).toBe('succeeded');

    const [taskSpan] = spans('task build');
    expect(taskSpan).toBeDefined();
    expect(taskSpan!.attributes['troupe.task.id']).toBe(task.id);
    expect(taskSpan!.status.code).not.toBe(SpanStatusCode.ERROR);
    const attempts = [...spans('attempt 1'), ...spans('attempt 2')];
    expect(attempts.map((s) => parentOf(s))).toEqual([taskSpan!.spanContext().spanId, taskSpan!.spanContext().spanId]);
    expect(attempts.map((s) => s.attributes['troupe.agent.id'])).toEqual(['a1', 'a1']);
    const [first, second] = attempts;
    expect(first!.status.code).toBe(SpanStatusCode.ERROR);
    expect(first!.attributes['troupe.error.category']).toBeTypeOf('string');
    expect(second!.status.code).not.toBe(SpanStatusCode.ERROR);
    // Times are the simulated clock's: the first attempt ran 250 ms, the retry waited 1,000 ms.
    expect(ms(first!, 'startTime')).toBe(T0);
    expect(ms(first!, 'endTime')).toBe(T0 + 250);
    expect(ms(second!, 'startTime')).toBe(T0 + 1_250);
    expect(ms(taskSpan!, 'endTime')).toBe(T0 + 1_500);
    expect(taskSpan!.events.map((e) => e.name)).toContain('task.retrying');
  });

  it('nests tickets, phases and tasks, with gate verdicts as phase span events', async () => {
    await traced();
    let round = 0;
    await runtime.agents.register({ id: 'w', capabilities: ['work'], handler: () => 'done' });
    await runtime.agents.register({
      id: 'v',
      capabilities: ['review'],
      handler: () => {
        round += 1;
        return round === 1 ? { approved: false, feedback: 'again' } : { approved: true };
      },
    });
    const ticket = await runtime.tickets.create({
      title: 'roles',
      phases: [
        {
          name: 'build',
          maxRounds: 3,
          gate: { validator: { type: 'review', requires: ['review'] } },
          tasks: [{ id: 'code', type: 'code', requires: ['work'] }],
        },
      ],
    });
    await clock.advance(1_000);
    expect((await runtime.tickets.get(ticket.id)).status).toBe('completed');
    const [ticketSpan] = spans('ticket roles');
    const [phaseSpan] = spans('phase build');
    expect(parentOf(phaseSpan!)).toBe(ticketSpan!.spanContext().spanId);
    const codeSpans = spans('task code');
    expect(codeSpans.length).toBeGreaterThanOrEqual(1);
    for (const s of codeSpans) expect(parentOf(s)).toBe(phaseSpan!.spanContext().spanId);
    const verdicts = phaseSpan!.events.map((e) => e.name).filter((n) => n.startsWith('gate.'));
    expect(verdicts).toEqual(['gate.rejected', 'gate.passed']);
  });

  it("continues a submitter's trace given as traceparent, and hands agents the attempt's context", async () => {
    await traced();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    let seen: string | undefined;
    await runtime.agents.register({ id: 'a', handler: (task) => ((seen = runtime.traceparentFor(task.id)), 'ok') });
    const task = await runtime.tasks.create({ type: 'traced', traceparent: `00-${traceId}-${parentId}-01` });
    await clock.advance(10);
    expect((await runtime.tasks.get(task.id)).status).toBe('succeeded');
    const [taskSpan] = spans('task traced');
    expect(taskSpan!.spanContext().traceId).toBe(traceId);
    expect(parentOf(taskSpan!)).toBe(parentId);
    const [attempt] = spans('attempt 1');
    expect(seen).toBe(`00-${traceId}-${attempt!.spanContext().spanId}-01`);
  });

  it('runs handlers, in process and over WebSocket, under the attempt span: their own spans join the trace', async () => {
    await traced();
    // What an agent's own OpenTelemetry SDK sets up: a context manager that follows async calls.
    const contextManager = new AsyncLocalStorageContextManager().enable();
    otelContext.setGlobalContextManager(contextManager);
    const seen: Record<string, string | undefined> = {};
    await runtime.agents.register({
      id: 'local',
      capabilities: ['local'],
      handler: (task) => ((seen[task.id] = trace.getSpanContext(otelContext.active())?.spanId), 'ok'),
    });
    const token = 'tracing-agent-token-0123456789';
    const server = await startServer(runtime, { port: 0, agentTokens: [token] });
    const remote = await connectAgent({
      url: server.url,
      token,
      id: 'remote',
      capabilities: ['remote'],
      handler: (task) => ((seen[task.id] = trace.getSpanContext(otelContext.active())?.spanId), 'ok'),
    });
    try {
      await runtime.tasks.createMany([
        { id: 'in', type: 'local-work', requires: ['local'] },
        { id: 'out', type: 'remote-work', requires: ['remote'] },
      ]);
      await runtime.tasks.wait('in');
      await runtime.tasks.wait('out');
    } finally {
      await remote.close();
      await server.close();
      otelContext.disable();
    }
    const attemptOf = (taskId: string) =>
      exporter.getFinishedSpans().find((s) => s.name === 'attempt 1' && s.attributes['troupe.task.id'] === taskId);
    expect(seen['in']).toBe(attemptOf('in')!.spanContext().spanId);
    expect(seen['out']).toBe(attemptOf('out')!.spanContext().spanId);
  });

  it('refuses a malformed traceparent with the field named', async () => {
    await traced();
    await expect(runtime.tasks.create({ type: 't', traceparent: 'not-a-trace' })).rejects.toMatchObject({
      code: 'E_INVALID_INPUT',
    });
  });

  it('makes no spans with tracing: false, even with an SDK tracer', async () => {
    exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    runtime = createRuntime({ clock: new SimulatedClock(T0), tracer: provider.getTracer('troupe'), tracing: false });
    await runtime.agents.register({ id: 'a1', handler: () => 'ok' });
    const task = await runtime.tasks.create({ type: 't' });
    await runtime.tasks.wait(task.id);
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(runtime.traceparentFor(task.id)).toBeUndefined();
  });

  it('is off when no SDK is registered: the default tracer records nothing', () => {
    expect(tracingEnabled(trace.getTracer('troupe'))).toBe(false);
    const provider = new BasicTracerProvider();
    expect(tracingEnabled(provider.getTracer('troupe'))).toBe(true);
  });
});
