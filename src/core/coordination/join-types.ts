import type { MergeSpec } from './merge-strategies.js';
import {
  MARK,
  statusOfMark,
  type ActorSpawn,
  type HandoffOutput,
  type TaskSettledEvent,
} from './coordination-types.js';
import { decideJoin, strategyName, type JoinNeed, type JoinStrategy, type JoinTally } from './join-decision.js';
import type { Stamped } from '../machines/effects.js';

/** The join machine's input, context and events, and the pure helpers it decides with. */

export type JoinFlavor = 'join' | 'sync';

export interface JoinInput {
  id: string;
  flavor: JoinFlavor;
  ticketId: string | null;
  /** The sources, or null when they come from a split (`fromSplit`). */
  sources: string[] | null;
  fromSplit: string | null;
  strategy: JoinStrategy;
  timeoutMs: number | null;
  onTimeout: 'fail' | 'continue';
  merge: MergeSpec | null;
  cancelRemaining: boolean;
  /** Tasks created with the join, waiting on it; released when it is met, skipped when it fails. */
  held: ActorSpawn[];
  now: number;
}

/** What the held tasks receive (as the join's output) and what `wait` reports. */
export interface JoinResult {
  strategy: string;
  /** The merged value, or null without a merge. */
  merged: unknown;
  /** Results of the sources that succeeded, by id. */
  results: Record<string, unknown>;
  /** Ids that succeeded, in the order the sources were given. */
  succeeded: string[];
  /** Sources that ended otherwise, with how they ended. */
  failed: Record<string, string>;
  timedOut: boolean;
}

export interface JoinContext {
  id: string;
  spec: Omit<JoinInput, 'id' | 'sources' | 'held' | 'now'> & { held: string[] };
  sources: string[];
  need: JoinNeed | null;
  /** One mark per source, see `MARK`. */
  marks: string;
  tally: JoinTally;
  at: { createdAt: number; deadline: number | null; decidedAt: number | null };
  outcome: { status: 'ready' | 'failed'; reason: string | null; timedOut: boolean } | null;
  /** Shaped like a task's output so that the context package of held tasks hands it on. */
  output: HandoffOutput | null;
}

export type JoinEvent =
  | (TaskSettledEvent & Stamped)
  | ({ type: 'join.sources'; sources: string[] } & Stamped)
  | ({ type: 'join.sources_failed'; reason: string } & Stamped)
  | ({
      type: 'join.collected';
      results: Record<string, unknown>;
      artifacts: Record<string, unknown>;
      merged: unknown;
      mergeDetail: Record<string, unknown> | null;
    } & Stamped)
  | ({ type: 'join.collect_failed'; reason: string } & Stamped)
  | ({ type: 'join.cancel'; reason: string } & Stamped)
  | ({ type: 'timer'; name: string } & Stamped);

export type JoinArgs = { context: JoinContext; event: JoinEvent };

export const decision = (c: JoinContext) => (c.need ? decideJoin(c.need, c.tally) : { kind: 'pending' as const });

/** `join j (2-of-5)`, for reasons and messages. */
export const label = (c: JoinContext) =>
  `${c.spec.flavor} ${c.id} (${strategyName(c.spec.strategy, c.need?.n ?? null)})`;

export const openSources = (c: JoinContext) => c.sources.filter((_, i) => c.marks[i] === MARK.open);

/** The join's result from its marks and the collected results (sources in the order given). */
export function joinResult(c: JoinContext, results: Record<string, unknown>, merged: unknown): JoinResult {
  const succeeded: string[] = [];
  const failed: Record<string, string> = {};
  c.sources.forEach((id, i) => {
    const mark = c.marks[i] ?? MARK.open;
    if (mark === MARK.succeeded) succeeded.push(id);
    else if (mark !== MARK.open) failed[id] = statusOfMark(mark) ?? 'missing';
  });
  return {
    strategy: strategyName(c.spec.strategy, c.need?.n ?? null),
    merged: merged ?? null,
    results,
    succeeded,
    failed,
    timedOut: c.outcome?.timedOut ?? false,
  };
}
