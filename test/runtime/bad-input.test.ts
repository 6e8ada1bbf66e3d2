import { afterEach, describe, expect, it } from 'vitest';
import { harness, type Harness } from './helpers.js';

describe('bad input gets a clear error and changes nothing', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  async function unchanged(action: () => Promise<unknown>, code: string, message?: RegExp): Promise<void> {
    const before = JSON.stringify(await h.runtime.tasks.list());
    const tickets = JSON.stringify(await h.runtime.tickets.list());
    const attempt = action();
    await expect(attempt).rejects.toMatchObject({ code });
    if (message) await expect(attempt).rejects.toThrow(message);
    expect(JSON.stringify(await h.runtime.tasks.list())).toBe(before);
    expect(JSON.stringify(await h.runtime.tickets.list())).toBe(tickets);
  }

  it('unknown ids', async () => {
    h = await harness();
    await unchanged(() => h.runtime.tasks.get('missing'), 'E_UNKNOWN_TASK', /no task has id "missing"/);
    await unchanged(() => h.runtime.tasks.wait('missing'), 'E_UNKNOWN_TASK');
    await unchanged(() => h.runtime.tasks.dependentsOf('missing'), 'E_UNKNOWN_TASK');
    await unchanged(() => h.runtime.tasks.dependenciesOf('missing'), 'E_UNKNOWN_TASK');
    await unchanged(() => h.runtime.tickets.get('missing'), 'E_UNKNOWN_TICKET');
    await unchanged(() => h.runtime.agents.get('missing'), 'E_UNKNOWN_AGENT');
    await unchanged(() => h.runtime.tasks.create({ type: 't', ticketId: 'nope' }), 'E_UNKNOWN_TICKET');
    await unchanged(() => h.runtime.leases.complete('missing', 'lease', {}), 'E_UNKNOWN_TASK');
  });

  it('a task that depends on itself or on a missing task', async () => {
    h = await harness();
    await unchanged(() => h.runtime.tasks.create({ id: 'loop', type: 't', dependsOn: ['loop'] }), 'E_DEPENDENCY_CYCLE');
    await unchanged(
      () => h.runtime.tasks.create({ type: 't', dependsOn: ['nobody'] }),
      'E_MISSING_DEPENDENCY',
      /"nobody"/,
    );
  });

  it('negative, zero and fractional timeouts, and other malformed fields', async () => {
    h = await harness();
    await unchanged(
      () => h.runtime.tasks.create({ type: 't', timeouts: { finish: -5 } }),
      'E_INVALID_INPUT',
      /timeouts\.finish/,
    );
    await unchanged(
      () => h.runtime.tasks.create({ type: 't', timeouts: { start: 0 } }),
      'E_INVALID_INPUT',
      /timeouts\.start/,
    );
    await unchanged(() => h.runtime.tasks.create({ type: 't', timeouts: { heartbeat: 1.5 } }), 'E_INVALID_INPUT');
    await unchanged(() => h.runtime.tasks.create({ type: '' }), 'E_INVALID_INPUT', /type/);
    await unchanged(
      () => h.runtime.tasks.create({ type: 't', priority: 'urgent' as never }),
      'E_INVALID_INPUT',
      /priority/,
    );
    await unchanged(
      () => h.runtime.tasks.create({ type: 't', retry: { maxAttempts: 0 } }),
      'E_INVALID_INPUT',
      /retry\.maxAttempts/,
    );
    await unchanged(() => h.runtime.tasks.create({ type: 't', colour: 'red' } as never), 'E_INVALID_INPUT', /colour/);
    await unchanged(
      () => h.runtime.tasks.create({ type: 't', input: { when: new Date(0) } }),
      'E_NOT_SERIALIZABLE',
      /\$\.when/,
    );
    await unchanged(
      () => h.runtime.tickets.create({ title: 't', phases: ['a', 'a'] }),
      'E_INVALID_INPUT',
      /named twice/,
    );
  });

  it('oversized payloads', async () => {
    h = await harness({ maxPayloadBytes: 1_000 });
    await unchanged(() => h.runtime.tasks.create({ type: 't', input: 'x'.repeat(2_000) }), 'E_PAYLOAD_TOO_LARGE');
  });

  it('duplicate ids, across kinds too', async () => {
    h = await harness();
    await h.runtime.agents.register({ id: 'shared-name', handler: () => null });
    await unchanged(
      () => h.runtime.tasks.create({ id: 'shared-name', type: 't' }),
      'E_DUPLICATE_ID',
      /an agent with id/,
    );
    await h.runtime.tasks.create({ id: 'once', type: 't' });
    const before = await h.runtime.tasks.get('once');
    await expect(h.runtime.tasks.create({ id: 'once', type: 'other' })).rejects.toMatchObject({
      code: 'E_DUPLICATE_ID',
    });
    expect((await h.runtime.tasks.get('once')).type).toBe(before.type);
    await expect(h.runtime.agents.register({ id: 'shared-name', handler: () => null })).rejects.toMatchObject({
      code: 'E_DUPLICATE_ID',
    });
  });

  it('a handler returning something that is not plain JSON fails the task without retry', async () => {
    h = await harness();
    await h.runtime.agents.register({ id: 'w', handler: () => ({ ok: true, callback: () => 1 }) });
    const task = await h.runtime.tasks.create({ type: 't', retry: { maxAttempts: 3 } });
    const done = await h.runtime.tasks.wait(task.id);
    expect(done.status).toBe('dead_lettered');
    expect(done.attempt).toBe(1);
    expect(done.error).toMatchObject({ code: 'E_NOT_SERIALIZABLE', retryable: false });
    expect(done.error?.message).toContain('result.result.callback');
  });

  it('late and duplicate reports about a lease are refused or answered the same, never applied twice', async () => {
    h = await harness();
    const t = await h.runtime.tasks.create({ id: 'remote', type: 't' });
    // Play the part of a remote agent through the lease API.
    await h.runtime.agents.registerRemote(
      { id: 'r', capabilities: [], capacity: 1 },
      { offer: () => {}, revoke: () => {} },
    );
    await h.runtime.idle();
    const leaseId = (await h.runtime.tasks.get(t.id)).leaseId as string;
    expect((await h.runtime.leases.accept(t.id, leaseId)).applied).toBe(true);
    const first = await h.runtime.leases.complete(t.id, leaseId, { result: 1 });
    expect(first).toMatchObject({ applied: true, task: { status: 'succeeded', result: 1 } });
    const again = await h.runtime.leases.complete(t.id, leaseId, { result: 2 });
    expect(again).toMatchObject({ applied: false, task: { status: 'succeeded', result: 1 } });
    await expect(h.runtime.leases.complete(t.id, 'forged', { result: 3 })).rejects.toMatchObject({
      code: 'E_LEASE_MISMATCH',
    });
    await expect(h.runtime.leases.fail(t.id, leaseId, { message: 'late' })).rejects.toMatchObject({
      code: 'E_LEASE_MISMATCH',
    });
    expect((await h.runtime.tasks.get(t.id)).result).toBe(1);
    expect(h.of('task.completed')).toHaveLength(1);
  });
});
