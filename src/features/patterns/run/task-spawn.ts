import type { AnyStateNode, StateValue } from 'xstate';
import type { RetryPolicy } from '../../../core/machines/retry-backoff.js';
import type { TaskContext, TaskControls } from '../../../core/machines/task-types.js';
import { resolvePriority } from '../../../engine/api/task-input.js';
import type { TaskWork } from '../compile/work.js';
import type { Settled } from './groups.js';
import type { RunRef } from './run-ref.js';

/**
 * Small translations between a run's work and the core's tasks: the task machine's input for a
 * task a step creates, a settled task's outcome, and the states a run is in.
 */

/** The task machine's input for one task of a run (its ticket and phase are the run's). */
export function taskSpawnInput(
  run: RunRef,
  id: string,
  work: TaskWork,
  deps: string[],
  satisfied: string[],
  extra: Record<string, unknown> | undefined,
  defaults: RetryPolicy,
  now: number,
): Record<string, unknown> {
  const controls: TaskControls = {
    ...work.controls,
    ...(work.dependencyPolicies ? { onDependencyFailure: work.dependencyPolicies } : {}),
  };
  return {
    id,
    type: work.type,
    description: work.description,
    ticketId: run.ticketId,
    phase: run.phase,
    priority: resolvePriority(work.priority),
    requires: work.requires,
    input: extra === undefined ? work.input : withExtra(work.input, extra),
    dependsOn: [...new Set(deps)],
    // Dependencies known to have succeeded need not be waited for (the run saw them end).
    satisfiedDeps: satisfied,
    // The run starts only once its phase is open.
    phaseOpen: true,
    retry: retryPolicy(work.retry, defaults),
    timeouts: {},
    role: 'pattern',
    ...(Object.keys(controls).length > 0 ? { controls } : {}),
    ...(work.delayMs !== undefined && work.delayMs > 0 ? { notBefore: now + work.delayMs } : {}),
  };
}

/** Ids of the atomic states active in a state value. */
export function activeLeaves(value: StateValue, node: AnyStateNode): string[] {
  if (typeof value === 'string') {
    const child = node.states[value];
    return child ? [child.id] : [];
  }
  return Object.entries(value).flatMap(([key, inner]) => {
    const child = node.states[key];
    return child && inner !== undefined ? activeLeaves(inner as StateValue, child) : [];
  });
}

export function outcomeOf(task: TaskContext): Settled {
  return {
    status: task.outcome ?? 'open',
    result: task.output?.result ?? null,
    artifacts: task.output?.artifacts ?? {},
    error: task.error?.message ?? task.reason ?? null,
  };
}

function withExtra(input: unknown, extra: Record<string, unknown>): unknown {
  if (input !== null && typeof input === 'object' && !Array.isArray(input)) return { ...input, ...extra };
  return input === null ? { ...extra } : { input, ...extra };
}

function retryPolicy(spec: TaskWork['retry'], defaults: RetryPolicy): RetryPolicy {
  if (!spec) return defaults;
  const b = spec.backoff ?? {};
  return {
    maxAttempts: spec.max_attempts,
    backoff: {
      baseMs: b.base_ms ?? defaults.backoff.baseMs,
      factor: b.factor ?? defaults.backoff.factor,
      capMs: b.cap_ms ?? defaults.backoff.capMs,
      jitter: b.jitter ?? defaults.backoff.jitter,
    },
  };
}
