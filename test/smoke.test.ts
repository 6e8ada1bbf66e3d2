import { describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock } from '../src/index.js';

describe('smoke', () => {
  it('runs a task through an in-process agent', async () => {
    const runtime = createRuntime({ clock: new SimulatedClock(0) });
    await runtime.agents.register({
      id: 'a1',
      capabilities: ['code'],
      handler: async (task) => ({ echoed: task.input }),
    });
    const t = await runtime.tasks.create({ type: 'hello', requires: ['code'], input: { x: 1 } });
    const done = await runtime.tasks.wait(t.id);
    expect(done.status).toBe('succeeded');
    expect(done.result).toEqual({ echoed: { x: 1 } });
    await runtime.stop();
  });

  it('runs a ticket through phases', async () => {
    const runtime = createRuntime({ clock: new SimulatedClock(0) });
    await runtime.agents.register({
      id: 'a1',
      capabilities: ['code'],
      handler: async (task, ctx) => {
        ctx.artifact(task.type, 1);
        return task.type;
      },
    });
    const ticket = await runtime.tickets.create({
      title: 't',
      phases: [
        {
          name: 'one',
          tasks: [
            { id: 'x', type: 'x', requires: ['code'] },
            { id: 'y', type: 'y', dependsOn: ['x'] },
          ],
        },
        { name: 'two', gate: { requiredArtifacts: ['z'] }, tasks: [{ id: 'z', type: 'z' }] },
      ],
    });
    const done = await runtime.tickets.wait(ticket.id);
    expect(done.status).toBe('completed');
    expect(done.phaseOutputs.one?.results).toEqual({ x: 'x', y: 'y' });
    await runtime.stop();
  });
});
