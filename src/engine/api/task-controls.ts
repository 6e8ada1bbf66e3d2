import type { z } from 'zod';
import { resolveKey } from '../../core/controls/control-key.js';
import { TroupeError } from '../../core/errors.js';
import type { DependencyFailurePolicy, TaskControls } from '../../core/machines/task-types.js';
import type { taskCreateSchema } from './task-input.js';

type ParsedTask = Omit<z.output<typeof taskCreateSchema>, 'ticketId'> & { id: string; ticketId?: string | undefined };

const NO_CONTROLS: TaskControls = Object.freeze({});

/** Dependency ids of a new task, without the policies (`dependsOn` entries may be `{ id, onFailure }`). */
export function dependencyIds(dependsOn: ParsedTask['dependsOn']): string[] {
  if (dependsOn === undefined || dependsOn.length === 0) return [];
  return [...new Set(dependsOn.map((d) => (typeof d === 'string' ? d : d.id)))];
}

/**
 * The controls a new task is under (docs/controls.md), with its concurrency key resolved from its
 * fields now, once: the key must not change while the task waits or runs. Tasks with none share
 * one frozen empty object.
 */
export function resolveControls(t: ParsedTask, fillKey = true): TaskControls {
  const controls: { -readonly [K in keyof TaskControls]: TaskControls[K] } = {};
  if (t.rateLimits !== undefined && t.rateLimits.length > 0) {
    controls.rateLimits = t.rateLimits.map((r) => ({ key: r.key, units: r.units ?? 1 }));
  }
  // A key without `${` is taken as it is (no fields to read).
  if (t.concurrency !== undefined && (!fillKey || !t.concurrency.key.includes('${')))
    controls.concurrency = { key: t.concurrency.key, max: t.concurrency.max };
  else if (t.concurrency !== undefined) {
    const fields = {
      id: t.id,
      type: t.type,
      ticketId: t.ticketId ?? null,
      phase: t.phase ?? null,
      role: t.role ?? null,
      input: t.input,
    };
    const key = resolveKey(t.concurrency.key, fields);
    if (key === null) {
      throw new TroupeError(
        'E_INVALID_INPUT',
        `task ${t.id}: concurrency key "${t.concurrency.key}" names a field the task does not have (or one that is not a string or number)`,
      );
    }
    controls.concurrency = { key, max: t.concurrency.max };
  }
  if (t.bulkhead !== undefined) controls.bulkhead = t.bulkhead;
  if (t.breakers !== undefined && t.breakers.length > 0) controls.breakers = [...new Set(t.breakers)];
  const policies: Record<string, DependencyFailurePolicy> = {};
  for (const d of t.dependsOn ?? []) {
    if (typeof d !== 'string' && d.onFailure !== undefined && d.onFailure !== 'skip') policies[d.id] = d.onFailure;
  }
  if (Object.keys(policies).length > 0) controls.onDependencyFailure = policies;
  return Object.keys(controls).length === 0 ? NO_CONTROLS : controls;
}

/** When a new task may first be queued, if it is delayed. */
export function resolveNotBefore(t: ParsedTask, now: number): number | null {
  if (t.notBefore !== undefined && t.delayMs !== undefined) {
    throw new TroupeError('E_INVALID_INPUT', `task ${t.id}: give notBefore or delayMs, not both`);
  }
  if (t.delayMs !== undefined) return t.delayMs > 0 ? now + t.delayMs : null;
  return t.notBefore ?? null;
}
