import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { CrashableStore } from '../fixtures/durability/crashable-store.js';
import { harness, type Harness } from './helpers.js';

/** Waits (tasks.wait, tickets.wait, barriers...) end when no actor can settle any more. */
describe('waiting for an actor to settle', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  async function waitingTask() {
    const store = new CrashableStore(new MemoryStore());
    // The failure is expected: keep its error log out of the test output.
    h = await harness({ store, logger: pino({ level: 'silent' }) });
    await h.runtime.tasks.create({ id: 'nobody-takes-it', type: 't', requires: ['none'] });
    const waiting = h.runtime.tasks.wait('nobody-takes-it');
    const ticket = await h.runtime.tickets.create({ id: 'tk', title: 'waits', phases: [{ name: 'p', tasks: [{ id: 'x', type: 't', requires: ['none'] }] }] });
    const ticketWaiting = h.runtime.tickets.wait(ticket.id);
    await h.runtime.idle();
    return { store, waiting, ticketWaiting };
  }

  it('tasks.wait and tickets.wait reject with the store error when the store fails', async () => {
    const { store, waiting, ticketWaiting } = await waitingTask();
    store.crashed = true;
    await expect(h.runtime.tasks.create({ id: 'lost', type: 't' })).rejects.toMatchObject({ code: 'E_STORE' });
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
