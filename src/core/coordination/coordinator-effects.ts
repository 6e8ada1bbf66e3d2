import type { MergeSpec } from './merge-strategies.js';
import type { ActorSpawn } from './coordination-types.js';
import { hostEffect } from '../machines/effects.js';

/**
 * The effects coordinator machines ask for, with their params. Like the core's effects they are
 * named actions with plain params: the machine stays pure and the runtime
 * (`src/coordination/coordination-effects.ts`) carries them out inside the batch, or after its
 * commit for anything asynchronous.
 */

/** Creates actors (tasks, nested coordinators) in this batch, in order. */
export interface SpawnActorsParams {
  actors: ActorSpawn[];
}

/**
 * Asks to be told (`coordination.task_settled`) when each task settles; a task that has already
 * settled is reported at once. `indexes[i]` is the position reported for `taskIds[i]` (default i).
 */
export interface WatchTasksParams {
  coordinatorId: string;
  taskIds: string[];
  indexes?: number[];
  /** Include each task's result, quality, attempt and error in the report. */
  withOutput: boolean;
}

export interface UnwatchTasksParams {
  coordinatorId: string;
  taskIds: string[];
}

/** Cancels those of the tasks that have not settled. */
export interface CancelTasksParams {
  taskIds: string[];
  reason: string;
}

/** Lets tasks held on the coordinator `by` (it is among their dependencies) go on. */
export interface ReleaseHeldParams {
  taskIds: string[];
  by: string;
}

export interface SkipHeldParams {
  taskIds: string[];
  reason: string;
}

/**
 * Reads the results and artifacts of `sources` (all succeeded), in the order given, merges them
 * and answers `join.collected` or `join.collect_failed`.
 */
export interface CollectResultsParams {
  coordinatorId: string;
  sources: string[];
  merge: MergeSpec | null;
}

/** Asks split `splitId` for its children; it answers `join.sources` or `join.sources_failed`. */
export interface SubscribeSplitParams {
  splitId: string;
  joinId: string;
}

/** Asks to be told (`guard.quality`) of the current and every later score of these gates. */
export interface WatchQualityParams {
  coordinatorId: string;
  gates: string[];
}

/** How a resource is held: `exclusive` (alone) or `shared` (with other shared holders). */
export type ResourceMode = 'exclusive' | 'shared';

/** Where a resource sends its answer to a request: a coordinator actor, or an API caller. */
export interface ResourceReplyTo {
  actorId: string | null;
  /** Position of the request at that actor (a guard's dependency index). */
  index: number;
  /** Key of a waiting API call in this process. */
  waiter: string | null;
}

export interface RequestResourceParams {
  resource: string;
  owner: string;
  mode: ResourceMode | null;
  leaseMs: number | null;
  replyTo: ResourceReplyTo;
}

export interface ReleaseResourceParams {
  resource: string;
  owner: string;
  reason: string;
}

/** Who holds and who waits for a resource now, for the wait-for graph and for owner cleanup. */
export interface ResourceChangedParams {
  resource: string;
  holders: string[];
  /** Waiting owners, in queue order. */
  waiters: string[];
}

/** A resource granted to an owner in a mode. */
export interface Grant {
  resource: string;
  owner: string;
  mode: ResourceMode;
  token: number;
  grantedAt: number;
  expiresAt: number | null;
}

export interface ResourceReplyParams {
  replyTo: ResourceReplyTo;
  resource: string;
  owner: string;
  grant: Grant | null;
  /** Why it was refused, with a stable code. */
  error: {
    code: 'E_DEPENDENCY_CYCLE' | 'E_TIMEOUT' | 'E_INVALID_STATE' | 'E_CANCELLED';
    message: string;
    cycle?: string[];
  } | null;
}

export interface QualityChangedParams {
  gate: string;
  score: number;
}

/** The placeholders a coordinator machine lists in `setup({ actions })`. */
export const COORDINATION_EFFECT_ACTIONS = {
  spawnActors: hostEffect<SpawnActorsParams>(),
  watchTasks: hostEffect<WatchTasksParams>(),
  unwatchTasks: hostEffect<UnwatchTasksParams>(),
  cancelTasks: hostEffect<CancelTasksParams>(),
  releaseHeld: hostEffect<ReleaseHeldParams>(),
  skipHeld: hostEffect<SkipHeldParams>(),
  collectResults: hostEffect<CollectResultsParams>(),
  subscribeSplit: hostEffect<SubscribeSplitParams>(),
  /** Wakes whoever waits for this coordinator to settle (after the commit). */
  coordinatorSettled: hostEffect(),
  watchQuality: hostEffect<WatchQualityParams>(),
  unwatchQuality: hostEffect<WatchQualityParams>(),
  requestResource: hostEffect<RequestResourceParams>(),
  releaseResource: hostEffect<ReleaseResourceParams>(),
  resourceChanged: hostEffect<ResourceChangedParams>(),
  resourceReply: hostEffect<ResourceReplyParams>(),
  qualityChanged: hostEffect<QualityChangedParams>(),
};
