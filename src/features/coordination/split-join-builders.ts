import { randomUUID } from 'node:crypto';
import { TroupeError } from '../../core/errors.js';
import { COORDINATOR_KINDS, type ActorSpawn, type SplitPlan } from '../../core/coordination/coordination-types.js';
import type { JoinStrategy } from '../../core/coordination/join-decision.js';
import type { JoinFlavor, JoinInput } from '../../core/coordination/join-machine.js';
import { childId, nestedSplitId, spawnsFor, type SplitInput } from '../../core/coordination/task-templates.js';
import { parseOrThrow } from '../../engine/validation.js';
import {
  joinSchema,
  splitSchema,
  syncPointSchema,
  type JoinRequest,
  type SplitRequest,
  type SyncPointRequest,
  type TaskTemplate,
} from './coordination-input.js';
import { resolveContext, type CoordinationEnv, type Spawnable } from './coordination-env.js';
import type { MergeSpec } from '../../core/coordination/merge-strategies.js';
import {
  checkTemplates,
  findActor,
  requireTasks,
  resolvePlan,
  resolveTemplate,
  templatesOf,
} from './template-resolution.js';

/**
 * Checks a split, join or sync point request and turns it into the input of its coordinator
 * machine. Everything is validated here, before anything is created.
 */

/** Ids a split will create for sure (its fixed targets and nested fixed splits, recursively). */
export function plannedIds(splitId: string, plan: SplitPlan): string[] {
  const out: string[] = [];
  (plan.targets ?? []).forEach((t, i) => {
    const id = childId(splitId, t, i);
    if (t.id === null) out.push(id);
    if (t.split) out.push(nestedSplitId(id), ...plannedIds(nestedSplitId(id), t.split));
  });
  return out;
}

export async function buildSplit(env: CoordinationEnv, request: SplitRequest): Promise<Spawnable> {
  const r = parseOrThrow(splitSchema, request, 'split');
  const id = r.id ?? `split-${randomUUID()}`;
  const source = (await requireTasks(env.core, [r.sourceTaskId], 'E_UNKNOWN_TASK', 'split source')).get(r.sourceTaskId);
  if (source?.outcome && source.outcome !== 'succeeded') {
    throw new TroupeError(
      'E_INVALID_STATE',
      `split source ${r.sourceTaskId} ended ${source.outcome}: its children could never run`,
    );
  }
  const ticketId = source?.spec.ticketId ?? null;
  // Children join their source's phase (its gate waits for them) at its priority, unless their
  // template names others.
  const inherit = source
    ? { phase: source.spec.ticketId === null ? null : source.spec.phase, priority: source.spec.priority }
    : undefined;
  const plan = resolvePlan(
    { ...(r.targets ? { targets: r.targets } : {}), ...(r.map ? { map: r.map } : {}) },
    { ...resolveContext(env, r.requires), inherit },
  );
  await checkTemplates(env.core, templatesOf(plan), ticketId, [id, ...plannedIds(id, plan)]);
  const input: Omit<SplitInput, 'now'> = {
    id,
    ticketId,
    sourceTaskId: r.sourceTaskId,
    sourceSucceeded: source?.outcome === 'succeeded',
    plan,
  };
  return { kind: COORDINATOR_KINDS.split, id, input: input as unknown as Record<string, unknown>, ticketId };
}

interface JoinParts {
  id: string;
  flavor: JoinFlavor;
  sources: string[] | { split: string };
  strategy: JoinStrategy;
  held: TaskTemplate[];
  heldId: (index: number) => string;
  merge: MergeSpec | null;
  cancelRemaining: boolean;
  timeoutMs: number | null;
  onTimeout: 'fail' | 'continue';
  ticketId: string | undefined;
}

async function buildJoinLike(env: CoordinationEnv, p: JoinParts): Promise<Spawnable> {
  let sources: string[] | null = null;
  let fromSplit: string | null = null;
  let ticketId: string | null = p.ticketId ?? null;
  if (Array.isArray(p.sources)) {
    const unique = new Set(p.sources);
    if (unique.size !== p.sources.length)
      throw new TroupeError('E_INVALID_INPUT', `${p.flavor} ${p.id} names a source twice`);
    const tasks = await requireTasks(env.core, p.sources, 'E_UNKNOWN_TASK', `${p.flavor} source`);
    sources = p.sources;
    const tickets = new Set([...tasks.values()].map((t) => t.spec.ticketId));
    if (p.ticketId === undefined && tickets.size === 1) ticketId = [...tickets][0] ?? null;
  } else {
    const split = await findActor(env.core, p.sources.split);
    if (!split || split.kind !== COORDINATOR_KINDS.split)
      throw new TroupeError('E_INVALID_INPUT', `no split has id "${p.sources.split}"`);
    fromSplit = p.sources.split;
    if (p.ticketId === undefined) ticketId = (split.context as { ticketId: string | null }).ticketId;
  }
  const strategy = p.strategy;
  if (sources && typeof strategy === 'object' && strategy.k > sources.length) {
    throw new TroupeError(
      'E_INVALID_INPUT',
      `${p.flavor} ${p.id} needs ${strategy.k} successes but has only ${sources.length} sources`,
    );
  }
  if (
    p.merge !== null &&
    typeof p.merge === 'object' &&
    p.merge.strategy === 'custom' &&
    !env.merges.has(p.merge.name)
  ) {
    throw new TroupeError('E_INVALID_INPUT', `no merge is registered under the name "${p.merge.name}"`);
  }
  const templates = p.held.map((t) => resolveTemplate(t, resolveContext(env)));
  const held: ActorSpawn[] = templates.flatMap((t, i) =>
    spawnsFor(t, { id: t.id ?? p.heldId(i), ticketId, dependsOn: [p.id], satisfied: [] }),
  );
  const generated = templates.flatMap((t, i) => (t.id === null ? [p.heldId(i)] : []));
  await checkTemplates(
    env.core,
    templates.flatMap((t) => [t, ...(t.split ? templatesOf(t.split) : [])]),
    ticketId,
    [p.id, ...generated],
  );
  const input: Omit<JoinInput, 'now'> = {
    id: p.id,
    flavor: p.flavor,
    ticketId,
    sources,
    fromSplit,
    strategy,
    timeoutMs: p.timeoutMs,
    onTimeout: p.onTimeout,
    merge: p.merge,
    cancelRemaining: p.cancelRemaining,
    held,
  };
  return { kind: COORDINATOR_KINDS.join, id: p.id, input: input as unknown as Record<string, unknown>, ticketId };
}

export async function buildJoin(env: CoordinationEnv, request: JoinRequest): Promise<Spawnable> {
  const r = parseOrThrow(joinSchema, request, 'join');
  const id = r.id ?? `join-${randomUUID()}`;
  return buildJoinLike(env, {
    id,
    flavor: 'join',
    sources: r.sources,
    strategy: r.strategy ?? 'all',
    held: r.continuation ? [r.continuation] : [],
    heldId: () => `${id}.continuation`,
    merge: r.merge ?? null,
    cancelRemaining: r.cancelRemaining ?? false,
    timeoutMs: r.timeoutMs ?? null,
    onTimeout: r.onTimeout ?? 'fail',
    ticketId: r.ticketId,
  });
}

export async function buildSyncPoint(env: CoordinationEnv, request: SyncPointRequest): Promise<Spawnable> {
  const r = parseOrThrow(syncPointSchema, request, 'sync point');
  const id = r.id ?? `sync-${randomUUID()}`;
  return buildJoinLike(env, {
    id,
    flavor: 'sync',
    sources: r.taskIds,
    // Without a count a sync point waits for all, however many a split turns out to make.
    strategy: r.requiredCount === undefined ? 'all' : { strategy: 'k-of-n', k: r.requiredCount },
    held: r.dependents ?? [],
    heldId: (i) => `${id}.dependent.${i}`,
    merge: null,
    cancelRemaining: r.cancelRemaining ?? false,
    timeoutMs: r.timeoutMs ?? null,
    onTimeout: r.onTimeout ?? 'fail',
    ticketId: r.ticketId,
  });
}
