import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/engine/event-bus.js';
import type { StoredEvent } from '../../src/engine/store/store.js';

let seq = 0;
const event = (ticketId: string | null, type = 'task.queued'): StoredEvent => ({
  seq: ++seq,
  type,
  at: seq,
  ticketId,
  taskId: null,
  agentId: null,
  phase: null,
  data: {},
});

describe('event bus history', () => {
  it('keeps the newest events of each ticket, up to the history limit', () => {
    const bus = new EventBus(3);
    bus.publish([event('a'), event('a'), event('a'), event('a'), event('b')]);
    const a = bus.history({ ticketId: 'a' });
    expect(a.map((e) => e.seq)).toEqual([seq - 1, seq - 2, seq - 3]);
    expect(bus.history({ ticketId: 'b' })).toHaveLength(1);
  });

  it('drops the ring of the ticket with the oldest activity beyond maxTickets, never the ticketless one', () => {
    const bus = new EventBus(10, () => {}, 2);
    bus.publish([event(null), event('t1'), event('t2')]);
    // t1 is active again: t2 is now the least recently used.
    bus.publish([event('t1')]);
    bus.publish([event('t3')]);
    expect(bus.ticketHistories).toBe(2);
    expect(bus.history({ ticketId: 't2' })).toEqual([]);
    expect(bus.history({ ticketId: 't1' })).toHaveLength(2);
    expect(bus.history({ ticketId: 't3' })).toHaveLength(1);
    expect(bus.history({})).toHaveLength(1);
  });

  it('holds at most maxTickets rings however many tickets pass', () => {
    const bus = new EventBus(5, () => {}, 50);
    for (let i = 0; i < 5_000; i++) bus.publish([event(`ticket-${i}`), event(`ticket-${i}`, 'ticket.completed')]);
    expect(bus.ticketHistories).toBe(50);
    expect(bus.history({ ticketId: 'ticket-4999' })).toHaveLength(2);
    expect(bus.history({ ticketId: 'ticket-0' })).toEqual([]);
  });
});
