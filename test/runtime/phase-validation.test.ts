import { afterEach, describe, expect, it } from 'vitest';
import type { Offer } from '../../src/index.js';
import type { Revocation } from '../../src/engine/agent-transport.js';
import { harness, type Harness } from './helpers.js';

/**
 * A task added to a phase while its validator decides: the verdict would not cover that task's
 * work, so the phase goes back to work and asks a new validator once every task has settled.
 * Agents play remote agents here (offers recorded, answers through the lease API), so the test
 * decides when each report arrives, a late one included.
 */
describe('a task added while the phase is being validated', () => {
  let h: Harness;
  let offers: Offer[];
  let revoked: Revocation[];
  afterEach(async () => h.runtime.stop());

  const abandoned = 'the phase got a new task while it was being validated';

  /** A ticket of one phase whose only task is done and whose validator is running. */
  async function validating(): Promise<{ ticketId: string; validatorId: string; leaseId: string }> {
    h = await harness();
    offers = [];
    revoked = [];
    for (const [id, capability] of [
      ['dev', 'code'],
      ['reviewer', 'review'],
    ] as const) {
      const transport = { offer: (o: Offer) => void offers.push(o), revoke: (r: Revocation) => void revoked.push(r) };
      await h.runtime.agents.registerRemote({ id, capabilities: [capability], capacity: 1 }, transport);
    }
    const ticket = await h.runtime.tickets.create({
      title: 'reviewed',
      phases: [
        {
          name: 'impl',
          gate: { validator: { type: 'review', requires: ['review'] } },
          tasks: [{ id: 'patch', type: 'code', requires: ['code'] }],
        },
      ],
    });
    await finish('patch', 'patch v1');
    const validator = offerOf(`${ticket.id}/impl/validator-1`);
    await h.runtime.leases.accept(validator.taskId, validator.leaseId);
    await h.runtime.idle();
    expect((await h.runtime.tickets.get(ticket.id)).phases[0]?.status).toBe('validating');
    return { ticketId: ticket.id, validatorId: validator.taskId, leaseId: validator.leaseId };
  }

  function offerOf(taskId: string): Offer {
    const offer = offers.find((o) => o.taskId === taskId);
    if (!offer) throw new Error(`${taskId} was not offered (offers: ${offers.map((o) => o.taskId).join(', ')})`);
    return offer;
  }

  async function finish(taskId: string, result: unknown): Promise<void> {
    await h.runtime.idle();
    const offer = offerOf(taskId);
    await h.runtime.leases.accept(taskId, offer.leaseId);
    await h.runtime.leases.complete(taskId, offer.leaseId, { result });
    await h.runtime.idle();
  }

  async function addTask(ticketId: string): Promise<void> {
    await h.runtime.tasks.create({ id: 'tests', type: 'code', requires: ['code'], ticketId, phase: 'impl' });
    await h.runtime.idle();
  }

  it('keeps the phase open, cancels the validator, and passes on a new validator once the new task is done', async () => {
    const { ticketId, validatorId } = await validating();
    await addTask(ticketId);

    const phase = (await h.runtime.tickets.get(ticketId)).phases[0];
    expect(phase).toMatchObject({ status: 'active', round: 1, tasks: { total: 2, open: 1, succeeded: 1 } });
    expect(await h.runtime.tasks.get(validatorId)).toMatchObject({ status: 'cancelled', reason: abandoned });
    expect(revoked).toEqual([expect.objectContaining({ taskId: validatorId, agentId: 'reviewer', reason: abandoned })]);
    expect(h.of('phase.validation_cancelled').map((e) => e.data)).toEqual([
      { round: 1, addedTaskId: 'tests', validatorTaskId: validatorId, reason: abandoned },
    ]);
    expect(h.of('phase.passed')).toEqual([]);

    await finish('tests', 'tests v1');
    const second = `${ticketId}/impl/validator-1.2`;
    expect((await h.runtime.tasks.get(second)).status).toBe('offered');
    await finish(second, { approved: true });

    const done = await h.runtime.tickets.wait(ticketId);
    expect(done.status).toBe('completed');
    expect(done.phases[0]).toMatchObject({ status: 'passed', round: 1, tasks: { total: 2, open: 0, succeeded: 2 } });
    expect(done.phaseOutputs.impl?.results).toEqual({ patch: 'patch v1', tests: 'tests v1' });
    expect(offers.filter((o) => o.agentId === 'reviewer').map((o) => o.taskId)).toEqual([validatorId, second]);
  });

  it('does not pass the phase on a late approval from the cancelled validator', async () => {
    const { ticketId, validatorId, leaseId } = await validating();
    await addTask(ticketId);

    // The reviewer had not heard of the cancellation yet and reports its approval.
    await expect(h.runtime.leases.complete(validatorId, leaseId, { result: { approved: true } })).rejects.toMatchObject(
      {
        code: 'E_LEASE_MISMATCH',
      },
    );
    await h.runtime.idle();
    expect((await h.runtime.tickets.get(ticketId)).phases[0]).toMatchObject({ status: 'active', tasks: { open: 1 } });
    expect((await h.runtime.tasks.get(validatorId)).status).toBe('cancelled');
    expect(h.of('phase.passed')).toEqual([]);

    // Only the validator asked for once the new task is done decides: it rejects, the phase is reworked.
    await finish('tests', 'tests v1');
    await finish(`${ticketId}/impl/validator-1.2`, { approved: false, feedback: 'tests are flaky' });
    expect((await h.runtime.tickets.get(ticketId)).phases[0]).toMatchObject({
      status: 'active',
      round: 2,
      feedback: 'tests are flaky',
    });
    expect(h.of('phase.rejected').map((e) => e.data.reasons)).toEqual([['validator rejected: tests are flaky']]);
  });
});
