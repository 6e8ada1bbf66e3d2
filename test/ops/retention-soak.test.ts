import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/soak-workload.js';

/**
 * The retention soak of `npm run bench -- --only retention-soak`, shortened: 16,000 tasks on
 * SQLite, the clock moving an hour per 1,000, retention of 3 hours. What it shows is the shape
 * (rows and file bounded once retention bites, nothing within retention lost, live work kept),
 * not speed: figures come from the bench.
 */
describe('retention soak (short)', () => {
  it('keeps the store bounded while every ticket within retention stays whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'troupe-soak-'));
    try {
      const result = await runSoak({
        path: join(dir, 'soak.db'),
        tasks: 16_000,
        tasksPerHour: 1_000,
        retentionMs: 3 * 3_600_000,
        reportEvery: 4_000,
        ticketsPerHour: 3,
      });
      const [, second, ...rest] = result.checkpoints;
      const last = result.checkpoints[result.checkpoints.length - 1];
      expect(result.checkpoints).toHaveLength(4);
      // About 3 hours of work is kept (3,000 tasks + tickets), whatever has run before.
      for (const c of [second, ...rest]) {
        expect(c?.rows.settledActors).toBeLessThan(4_500);
        expect(c?.rows.liveActors).toBeLessThan(20);
      }
      // The file stops growing once freed pages are reused.
      expect(last?.fileBytes).toBeLessThan((second?.fileBytes ?? 0) * 1.3);
      expect(last?.sweptUnits).toBeGreaterThan(12_000);
      expect(result.ticketsKept).toBeGreaterThanOrEqual(6);
      expect(result.ticketsIncomplete).toEqual([]);
      expect(result.ticketsOverdue).toEqual([]);
      expect(result.liveTicketEvents.atEnd).toBe(result.liveTicketEvents.atStart);
      expect(result.liveTicketEvents.actors).toBe(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
