import { describe, expect, it } from 'vitest';
import type { ExpiryQuery, Store, StoredActor } from '../src/engine/store/store.js';
import { actor, batch, event } from './store-conformance.js';

const DAY = 86_400_000;
const NOW = 100 * DAY;
/** Finished more than 7 days ago is expired; dead-lettered after 30. */
const policy = (over: Partial<ExpiryQuery> = {}): ExpiryQuery => ({
  before: NOW - 7 * DAY,
  longBefore: NOW - 30 * DAY,
  longStates: ['dead_lettered', 'failed'],
  limit: 100,
  ...over,
});

/** A ticket with a phase and two tasks, all written at `at`, settled or not. */
function ticketUnit(
  id: string,
  at: number,
  over: { settled?: boolean; taskState?: string; live?: string } = {},
): StoredActor[] {
  const settled = over.settled ?? true;
  return [
    actor(id, { kind: 'ticket', machineId: 'troupe.ticket', ticketId: id, settled, state: 'completed', updatedAt: at }),
    actor(`${id}-p1`, {
      kind: 'phase',
      machineId: 'troupe.phase',
      ticketId: id,
      settled,
      state: 'passed',
      updatedAt: at,
    }),
    actor(`${id}-t1`, { ticketId: id, settled, state: over.taskState ?? 'succeeded', updatedAt: at }),
    actor(`${id}-t2`, {
      ticketId: id,
      settled: over.live === `${id}-t2` ? false : settled,
      state: 'succeeded',
      updatedAt: at,
    }),
  ];
}

/**
 * Retention, import and the audit log: part of the store conformance suite (see
 * `describeStoreConformance`), run for every implementation.
 */
export function describeRetentionConformance(current: () => Store): void {
  describe('retention', () => {
    it('finds finished units past their age, oldest first, and never live work', async () => {
      const store = current();
      await store.commit(
        batch({
          actors: [
            ...ticketUnit('T-old', NOW - 10 * DAY),
            ...ticketUnit('T-new', NOW - 1 * DAY),
            ...ticketUnit('T-live', NOW - 20 * DAY, { live: 'T-live-t2' }),
            ...ticketUnit('T-dead', NOW - 10 * DAY, { taskState: 'dead_lettered' }),
            actor('free-old', { ticketId: null, settled: true, state: 'succeeded', updatedAt: NOW - 9 * DAY }),
            actor('free-running', { ticketId: null, settled: false, state: 'running', updatedAt: NOW - 50 * DAY }),
            actor('free-dead', { ticketId: null, settled: true, state: 'dead_lettered', updatedAt: NOW - 12 * DAY }),
            actor('free-dead-old', {
              ticketId: null,
              settled: true,
              state: 'dead_lettered',
              updatedAt: NOW - 31 * DAY,
            }),
          ],
        }),
      );
      expect(await store.findExpired(policy())).toEqual([
        { kind: 'actor', id: 'free-dead-old', lastUpdatedAt: NOW - 31 * DAY },
        { kind: 'ticket', id: 'T-old', lastUpdatedAt: NOW - 10 * DAY },
        { kind: 'actor', id: 'free-old', lastUpdatedAt: NOW - 9 * DAY },
      ]);
      expect(await store.findExpired(policy({ limit: 1 }))).toEqual([
        { kind: 'actor', id: 'free-dead-old', lastUpdatedAt: NOW - 31 * DAY },
      ]);
      expect(await store.findExpired(policy({ longBefore: NOW - 5 * DAY }))).toHaveLength(5);
    });

    it('takes the newest write of any member as the age of a ticket', async () => {
      const store = current();
      const unit = ticketUnit('T1', NOW - 10 * DAY);
      (unit[3] as StoredActor).updatedAt = NOW - 2 * DAY;
      await store.commit(batch({ actors: unit }));
      expect(await store.findExpired(policy())).toEqual([]);
      expect(await store.findExpired(policy({ before: NOW - DAY }))).toEqual([
        { kind: 'ticket', id: 'T1', lastUpdatedAt: NOW - 2 * DAY },
      ]);
    });

    it('reads and deletes a unit whole, with its events and timers, and nothing else', async () => {
      const store = current();
      await store.commit(
        batch({
          actors: [
            ...ticketUnit('T1', NOW - 10 * DAY),
            ...ticketUnit('T2', NOW - 10 * DAY),
            actor('free', { ticketId: null, settled: true, updatedAt: 5 }),
          ],
          timersSet: [
            { actorId: 'T1-t1', name: 'stale', at: 1 },
            { actorId: 'T2-t1', name: 'stale', at: 1 },
          ],
          events: [
            event(1, { ticketId: 'T1', taskId: 'T1-t1', data: { n: 'abc' } }),
            event(2, { ticketId: 'T2', taskId: 'T2-t1' }),
            event(3, { ticketId: 'T1', taskId: null, type: 'ticket.completed' }),
            event(4, { ticketId: null, taskId: 'free' }),
            event(5, { ticketId: null, taskId: null, agentId: 'a1', type: 'agent.registered' }),
          ],
        }),
      );
      const unit = await store.readUnit({ kind: 'ticket', id: 'T1' });
      expect(unit.actors.map((a) => a.id)).toEqual(['T1', 'T1-p1', 'T1-t1', 'T1-t2']);
      expect(unit.events.map((e) => e.seq)).toEqual([1, 3]);
      expect((await store.readUnit({ kind: 'actor', id: 'free' })).events.map((e) => e.seq)).toEqual([4]);

      const counts = await store.deleteUnits([
        { kind: 'ticket', id: 'T1', lastUpdatedAt: NOW - 10 * DAY },
        { kind: 'actor', id: 'free', lastUpdatedAt: 5 },
      ]);
      expect(counts).toMatchObject({ units: 2, actors: 5, events: 3, auditEntries: 0 });
      expect(counts.bytes).toBeGreaterThan(0);
      expect((await store.listActors({})).map((a) => a.id)).toEqual(['T2', 'T2-p1', 'T2-t1', 'T2-t2']);
      expect((await store.readEvents({ order: 'oldest' })).map((e) => e.seq)).toEqual([2, 5]);
      expect(await store.loadTimers()).toEqual([{ actorId: 'T2-t1', name: 'stale', at: 1 }]);
      expect(await store.readUnit({ kind: 'ticket', id: 'T1' })).toEqual({
        kind: 'ticket',
        id: 'T1',
        actors: [],
        events: [],
      });
    });

    it('leaves a unit that changed since it was found', async () => {
      const store = current();
      await store.commit(
        batch({
          actors: [...ticketUnit('T1', NOW - 10 * DAY), actor('free', { ticketId: null, settled: true, updatedAt: 5 })],
        }),
      );
      const found = await store.findExpired(policy());
      expect(found).toHaveLength(2);
      // A task of the ticket is reworked (live again) and the free task is written again.
      await store.commit(
        batch({
          actors: [
            actor('T1-t1', { ticketId: 'T1', settled: false, updatedAt: NOW }),
            actor('free', { ticketId: null, settled: true, updatedAt: 6 }),
          ],
        }),
      );
      expect(await store.deleteUnits(found)).toMatchObject({ units: 0, actors: 0, events: 0 });
      expect(await store.listActors({})).toHaveLength(5);
      expect(await store.deleteUnits([{ kind: 'ticket', id: 'gone', lastUpdatedAt: 1 }])).toMatchObject({ units: 0 });
    });

    it('prunes events of no ticket and no task by age, in batches', async () => {
      const store = current();
      await store.commit(
        batch({
          events: [
            event(1, { ticketId: null, taskId: null, at: 10 }),
            event(2, { ticketId: null, taskId: null, at: 20 }),
            event(3, { ticketId: 'T1', taskId: null, at: 5 }),
            event(4, { ticketId: null, taskId: 'x', at: 5 }),
            event(5, { ticketId: null, taskId: null, at: 30 }),
            event(6, { ticketId: null, taskId: null, at: 40 }),
          ],
        }),
      );
      expect(await store.pruneEvents({ before: 35, limit: 2 })).toMatchObject({ events: 2 });
      expect((await store.readEvents({ order: 'oldest' })).map((e) => e.seq)).toEqual([3, 4, 5, 6]);
      expect(await store.pruneEvents({ before: 35, limit: 2 })).toMatchObject({ events: 1 });
      expect((await store.readEvents({ order: 'oldest' })).map((e) => e.seq)).toEqual([3, 4, 6]);
    });

    it('imports archived units back without overwriting what is there', async () => {
      const store = current();
      const units = ticketUnit('T1', NOW - 10 * DAY);
      await store.commit(
        batch({ actors: units, events: [event(1, { ticketId: 'T1' }), event(2, { ticketId: 'T1' })] }),
      );
      const record = await store.readUnit({ kind: 'ticket', id: 'T1' });
      await store.deleteUnits([{ kind: 'ticket', id: 'T1', lastUpdatedAt: NOW - 10 * DAY }]);
      await store.commit(
        batch({ actors: [actor('T1-t1', { ticketId: 'T1', state: 'newer' })], events: [event(2, { ticketId: 'T9' })] }),
      );
      expect(await store.importUnits([record])).toEqual({ actors: 3, events: 1 });
      expect(await store.getActor('T1-t1')).toMatchObject({ state: 'newer' });
      expect(await store.getActor('T1')).toEqual(units[0]);
      expect((await store.readEvents({ ticketId: 'T1' })).map((e) => e.seq)).toEqual([1]);
    });

    it('counts the rows it keeps', async () => {
      const store = current();
      await store.commit(batch({ actors: [actor('a'), actor('b', { settled: true })], events: [event(1), event(2)] }));
      await store.appendAudit([{ at: 1, actor: 'ops', action: 'task.cancelled', target: 'a', details: {} }]);
      const stats = await store.storageStats();
      expect(stats).toMatchObject({ liveActors: 1, settledActors: 1, events: 2, auditEntries: 1 });
      expect(stats.bytes === null || stats.bytes > 0).toBe(true);
    });
  });

  describe('audit log', () => {
    it('appends entries with increasing seq and reads them back by who, what and when', async () => {
      const store = current();
      const added = await store.appendAudit([
        { at: 10, actor: 'ci', action: 'task.submitted', target: 't1', details: { type: 'build' } },
        { at: 20, actor: 'ops', action: 'task.cancelled', target: 't1', details: { reason: 'wrong branch' } },
      ]);
      await store.appendAudit([
        { at: 30, actor: 'ci', action: 'config.reloaded', target: null, details: { changed: ['retention'] } },
      ]);
      expect(added.map((e) => e.actor)).toEqual(['ci', 'ops']);
      expect((added[1]?.seq ?? 0) > (added[0]?.seq ?? 0)).toBe(true);
      const all = await store.readAudit({});
      expect(all.map((e) => e.at)).toEqual([30, 20, 10]);
      expect(all[1]).toEqual(added[1]);
      expect((await store.readAudit({ actor: 'ci', order: 'oldest' })).map((e) => e.action)).toEqual([
        'task.submitted',
        'config.reloaded',
      ]);
      expect((await store.readAudit({ target: 't1', action: 'task.cancelled' })).map((e) => e.at)).toEqual([20]);
      expect((await store.readAudit({ since: 20, limit: 1 })).map((e) => e.at)).toEqual([30]);
      expect((await store.readAudit({ afterSeq: added[1]?.seq ?? 0 })).map((e) => e.at)).toEqual([30]);
    });

    it('prunes entries by age in batches, on its own', async () => {
      const store = current();
      await store.appendAudit(
        [10, 20, 30].map((at) => ({ at, actor: 'ci', action: 'task.submitted', target: null, details: {} })),
      );
      expect(await store.pruneAudit({ before: 25, limit: 1 })).toMatchObject({ auditEntries: 1, events: 0 });
      expect(await store.pruneAudit({ before: 25, limit: 10 })).toMatchObject({ auditEntries: 1 });
      expect((await store.readAudit({})).map((e) => e.at)).toEqual([30]);
    });

    it('refuses details that are not plain JSON, writing nothing', async () => {
      const store = current();
      await expect(
        store.appendAudit([
          { at: 1, actor: 'ci', action: 'a', target: null, details: {} },
          { at: 2, actor: 'ci', action: 'b', target: null, details: { n: 1n } },
        ]),
      ).rejects.toThrow();
      expect(await store.readAudit({})).toEqual([]);
    });
  });
}
