import { afterEach, describe, expect, it } from 'vitest';
import { failingHarness, harness, type Harness } from './helpers.js';

/** Waits (tasks.wait, tickets.wait, barriers...) end when no actor can settle any more. */
describe('waiting for an actor to settle', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  async function waitingTask() {
    const failing = await failingHarness();
    h = failing.h;
    await h.runtime.tasks.create({ id: 'nobody-takes-it', type: 't', requires: ['none'] });
    const waiting = h.runtime.tasks.wait('nobody-takes-it');
    const ticket = await h.runtime.tickets.create({
      id: 'tk',
      title: 'waits',
      phases: [{ name: 'p', tasks: [{ id: 'x', type: 't', requires: ['none'] }] }],
    });
    const ticketWaiting = h.runtime.tickets.wait(ticket.id);
    await h.runtime.idle();
    return { failStore: failing.failStore, waiting, ticketWaiting };
  }

  it('tasks.wait and tickets.wait reject with the store error when the store fails', async () => {
    const { failStore, waiting, ticketWaiting } = await waitingTask();
    await failStore();
    await expect(waiting).rejects.toBe(h.runtime.core.host.failed);
    await expect(ticketWaiting).rejects.toMatchObject({ code: 'E_STORE' });
  });

  it('tasks.wait and tickets.wait reject with E_RUNTIME_STOPPED when the runtime stops', async () => {
    const { waiting, ticketWaiting } = await waitingTask();
    await h.runtime.stop();
    await expect(waiting).rejects.toMatchObject({ code: 'E_RUNTIME_STOPPED' });
    await expect(ticketWaiting).rejects.toMatchObject({ code: 'E_RUNTIME_STOPPED' });
  });

  it('a barrier arrival waiting for the others rejects when the runtime stops', async () => {
    h = await harness();
    const barriers = h.runtime.coordination.barriers;
    const barrier = await barriers.create({ parties: 2 });
    const arriving = barriers.arrive(barrier.id, 'first');
    await h.runtime.idle();
    await h.runtime.stop();
    await expect(arriving).rejects.toMatchObject({ code: 'E_RUNTIME_STOPPED' });
  });
});
