import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createRuntime, NonRetryableError, SimulatedClock } from '../src/index.js';

/** A pino logger whose lines land in an array, parsed. */
function capturedLogger(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}
const LEVEL = { debug: 20, info: 30, warn: 40 } as const;

describe('decision log: one line per decision, with ids, at its level', () => {
  it('logs a dead-lettered task as warn with its ids and error, ticket milestones as info, no per-task steps at info', async () => {
    const { logger, lines } = capturedLogger('info');
    const runtime = createRuntime({ clock: new SimulatedClock(0), logger });
    await runtime.agents.register({
      id: 'a1',
      handler: ({ type }) => {
        if (type === 'bad') throw new NonRetryableError('the input is wrong');
        return 'ok';
      },
    });
    const ticket = await runtime.tickets.create({ title: 'T', phases: [{ name: 'build', tasks: [{ type: 'good' }] }] });
    await runtime.tickets.wait(ticket.id);
    const bad = await runtime.tasks.create({ type: 'bad', retry: { maxAttempts: 1 } });
    await runtime.tasks.wait(bad.id).catch(() => undefined);
    await runtime.idle();
    await runtime.stop();
    logger.flush();

    const warnings = lines.filter((l) => l.taskId === bad.id && l.level === LEVEL.warn);
    expect(warnings.map((l) => l.event)).toEqual(['task.dead_lettered']);
    const attempt = lines.find((l) => l.taskId === bad.id && l.event === 'task.failed');
    expect(attempt).toMatchObject({ level: LEVEL.info, agentId: 'a1', attempt: 1 });
    expect(JSON.stringify(attempt)).toContain('the input is wrong');
    const completed = lines.find((l) => l.event === 'ticket.completed');
    expect(completed).toMatchObject({ level: LEVEL.info, ticketId: ticket.id, msg: 'ticket completed' });
    expect(lines.some((l) => l.event === 'ticket.created' && l.ticketId === ticket.id)).toBe(true);
    // Per-task steps are debug: none at info.
    expect(lines.filter((l) => l.event === 'task.assigned' || l.event === 'task.started')).toEqual([]);
    expect(lines.every((l) => (l.level as number) >= LEVEL.info)).toBe(true);
  });

  it('follows a level changed at run time, and keeps results out of the line', async () => {
    const { logger, lines } = capturedLogger('warn');
    const runtime = createRuntime({ clock: new SimulatedClock(0), logger });
    await runtime.agents.register({ id: 'a1', handler: () => ({ secret: 'do-not-log' }) });
    const quiet = await runtime.tasks.create({ type: 't' });
    await runtime.tasks.wait(quiet.id);
    await runtime.idle();
    expect(lines.filter((l) => l.taskId === quiet.id)).toEqual([]);

    logger.level = 'debug';
    const loud = await runtime.tasks.create({ type: 't' });
    await runtime.tasks.wait(loud.id);
    await runtime.idle();
    await runtime.stop();
    const events = lines.filter((l) => l.taskId === loud.id).map((l) => l.event);
    expect(events).toEqual(expect.arrayContaining(['task.created', 'task.assigned', 'task.completed']));
    expect(JSON.stringify(lines)).not.toContain('do-not-log');
  });
});
