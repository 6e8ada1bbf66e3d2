import { afterEach, describe, expect, it, vi } from 'vitest';
import { SystemClock } from '../../src/index.js';

/** SystemClock on vitest's fake timers: setTimeout's 2^31 ms limit must not fire a long deadline at once. */
describe('SystemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires a deadline 40 days away after 40 days, not at once (a monthly schedule), and can clear it', () => {
    vi.useFakeTimers({ now: 0 });
    const clock = new SystemClock();
    const DAY = 86_400_000;
    const fired: number[] = [];
    clock.schedule(40 * DAY, () => fired.push(Date.now()));
    const cleared = clock.schedule(50 * DAY, () => fired.push(-1));
    vi.advanceTimersByTime(30 * DAY);
    expect(fired).toEqual([]);
    clock.clear(cleared);
    vi.advanceTimersByTime(10 * DAY);
    expect(fired).toEqual([40 * DAY]);
    vi.advanceTimersByTime(20 * DAY);
    expect(fired).toEqual([40 * DAY]);
  });

  it('keeps short deadlines as plain timeouts', () => {
    vi.useFakeTimers({ now: 0 });
    const clock = new SystemClock();
    const fired: number[] = [];
    clock.schedule(1_000, () => fired.push(Date.now()));
    vi.advanceTimersByTime(999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([1_000]);
  });
});
