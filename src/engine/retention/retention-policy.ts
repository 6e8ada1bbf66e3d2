import { z } from 'zod';
import { parseOrThrow } from '../validation.js';

const DAY_MS = 86_400_000;

/**
 * How long finished work is kept, and how the sweeper removes it (docs/operations.md).
 * Every age is in ms of the runtime clock, measured from the unit's last write (for a ticket,
 * the newest write of any of its actors).
 *
 * @example
 * ```ts
 * createRuntime({ store, retention: { finishedMs: 24 * 3_600_000, archive: { dir: './archive' } } });
 * ```
 */
export interface RetentionOptions {
  /** Finished tickets (with their phases, tasks, coordinators and events) and free-standing finished tasks. Default 7 days. */
  finishedMs?: number;
  /** Units holding dead-lettered work (a task in `dead_lettered`, a ticket or phase in `failed`). Default 30 days. */
  deadLetteredMs?: number;
  /**
   * At most this many dead letters (tasks in `dead_lettered`) are kept: past it, the sweeper
   * removes the units holding the oldest ones (a free-standing task, or its finished ticket whole)
   * before their `deadLetteredMs` is up. A dead letter whose ticket is still live stays (and
   * counts). Default: no count limit.
   */
  deadLetteredMaxCount?: number;
  /** Events of no ticket and no task (agents, messages). Default: `finishedMs`. */
  eventsMs?: number;
  /** Audit log entries. Default 90 days. */
  auditMs?: number;
  /** How often the sweeper runs on the runtime clock. Default 60 s. */
  intervalMs?: number;
  /** Units (or events, audit entries) deleted per store transaction: kept small so the engine never stalls. Default 100. */
  batchSize?: number;
  /** Batches one sweep deletes at most; the rest waits for the next sweep. Default 100. */
  maxBatchesPerSweep?: number;
  /** States that keep a unit for `deadLetteredMs`. Default `['dead_lettered', 'failed']`. */
  longStates?: string[];
  /** Write each unit to JSON Lines before deleting it (one file per UTC day). Default: off. */
  archive?: { dir: string } | false;
  /**
   * Run the sweeper on the runtime clock every `intervalMs`. `false`: nothing runs on its own and
   * something else calls `runtime.retention.sweep()` (the leader, once several nodes share a store).
   * Default true.
   */
  schedule?: boolean;
}

export const retentionOptionsSchema = z.strictObject({
  finishedMs: z
    .int()
    .positive()
    .default(7 * DAY_MS),
  deadLetteredMs: z
    .int()
    .positive()
    .default(30 * DAY_MS),
  deadLetteredMaxCount: z.int().min(0).optional(),
  eventsMs: z.int().positive().optional(),
  auditMs: z
    .int()
    .positive()
    .default(90 * DAY_MS),
  intervalMs: z.int().positive().default(60_000),
  batchSize: z.int().min(1).max(10_000).default(100),
  maxBatchesPerSweep: z.int().min(1).default(100),
  longStates: z.array(z.string().min(1)).default(['dead_lettered', 'failed']),
  archive: z.union([z.literal(false), z.strictObject({ dir: z.string().min(1) })]).default(false),
  schedule: z.boolean().default(true),
});

/** A policy with every default filled in. */
export type RetentionPolicy = Required<
  Omit<z.output<typeof retentionOptionsSchema>, 'eventsMs' | 'deadLetteredMaxCount'>
> & {
  eventsMs: number;
  /** No count limit when undefined. */
  deadLetteredMaxCount: number | undefined;
};

/**
 * Checks the options and fills in the defaults; throws `E_INVALID_INPUT` naming each bad field.
 *
 * @example
 * ```ts
 * import { resolveRetention } from 'troupe';
 *
 * const policy = resolveRetention({ finishedMs: 86_400_000 }); // policy.deadLetteredMs: 30 days
 * ```
 */
export function resolveRetention(options: RetentionOptions = {}): RetentionPolicy {
  const parsed = parseOrThrow(retentionOptionsSchema, options, 'retention options');
  return {
    ...parsed,
    eventsMs: parsed.eventsMs ?? parsed.finishedMs,
    deadLetteredMaxCount: parsed.deadLetteredMaxCount,
  };
}
