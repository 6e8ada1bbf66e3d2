import { Cron } from 'croner';
import { TroupeError } from '../../core/errors.js';

/**
 * Fire times of a cron expression in a time zone, as clock ms. croner does the calendar work
 * (five fields, or six with seconds first; `L`, `#`, `W`; IANA time zones): a time that does not
 * exist on the day the clocks go forward fires at the first instant after the gap (02:30 in
 * Berlin on the last Sunday of March fires at 03:00 CEST), one that happens twice when they go
 * back fires once, at its first occurrence.
 */
export interface CronSpec {
  cron: string;
  timezone: string;
}

/** Parsed patterns, kept: the machine asks again at every fire. */
const parsed = new Map<string, Cron>();

function cronOf(spec: CronSpec): Cron {
  const key = `${spec.timezone}\u0000${spec.cron}`;
  let cron = parsed.get(key);
  if (cron === undefined) {
    cron = new Cron(spec.cron, { timezone: spec.timezone, paused: true });
    if (parsed.size > 1_000) parsed.clear();
    parsed.set(key, cron);
  }
  return cron;
}

/** The first fire time strictly after `afterMs`, or null when the expression has none left. */
export function nextFireAfter(spec: CronSpec, afterMs: number): number | null {
  return cronOf(spec).nextRun(new Date(afterMs))?.getTime() ?? null;
}

/** The latest fire time at or before `atMs`, or null when there is none. */
export function latestFireAtOrBefore(spec: CronSpec, atMs: number): number | null {
  const [latest] = cronOf(spec).previousRuns(1, new Date(atMs + 1));
  return latest?.getTime() ?? null;
}

/** Fire times in `[fromMs, toMs]`, counted up to `cap` (what a long outage missed). */
export function countFires(spec: CronSpec, fromMs: number, toMs: number, cap = 10_000): number {
  let n = 0;
  let at: number | null = fromMs - 1;
  while (n < cap) {
    at = nextFireAfter(spec, at);
    if (at === null || at > toMs) break;
    n += 1;
  }
  return n;
}

/** Throws `E_INVALID_INPUT` naming what is wrong with the expression or the time zone. */
export function checkCron(spec: CronSpec, now: number): void {
  try {
    cronOf(spec).nextRun(new Date(now));
  } catch (error) {
    parsed.delete(`${spec.timezone}\u0000${spec.cron}`);
    const message = error instanceof Error ? error.message : String(error);
    throw new TroupeError(
      'E_INVALID_INPUT',
      `schedule cron "${spec.cron}" in time zone "${spec.timezone}": ${message}`,
    );
  }
}
