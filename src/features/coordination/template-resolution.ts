import { TroupeError } from '../../core/errors.js';
import type { RetryPolicy } from '../../core/machines/retry-backoff.js';
import type { ResolvedTemplate, SplitPlan } from '../../core/coordination/coordination-types.js';
import type { TaskContext, TaskControls } from '../../core/machines/task-types.js';
import { phaseIdOf, type RuntimeCore } from '../../engine/runtime-core.js';
import type { StoredActor } from '../../engine/store/store.js';
import { resolvePriority, resolveRetry, resolveTimeouts } from '../../engine/api/task-input.js';
import { dependencyIds, resolveControls } from '../../engine/api/task-controls.js';
import { assertJson } from '../../core/json-value.js';
import { jsonSize } from '../../engine/validation.js';
import { readTasks } from './collect-results.js';
import type { NestedSplitInput, TaskTemplate } from './coordination-input.js';

/**
 * From what a caller wrote to what a coordinator machine needs: templates with every default
 * applied (so the machines stay pure and never look anything up), and the checks that the ids
 * and tickets they name exist before anything is created.
 */

export interface ResolveContext {
  retry: RetryPolicy;
  maxPayloadBytes: number;
  /** Capabilities for templates that name none (a split's `requires`). */
  requires?: string[] | undefined;
  /**
   * What a split's children take from their source unless their template names its own: the
   * phase (so the phase's gate waits for them) and the priority.
   */
  inherit?: { phase: string | null; priority: number } | undefined;
}

export const DEFAULT_MAX_MAP_ITEMS = 100_000;

export function resolveTemplate(t: TaskTemplate, ctx: ResolveContext): ResolvedTemplate {
  if (t.input !== undefined) {
    assertJson(t.input, `input of task template "${t.type}"`);
    const size = jsonSize(t.input);
    if (size > ctx.maxPayloadBytes) {
      throw new TroupeError(
        'E_PAYLOAD_TOO_LARGE',
        `task template input is ${size} bytes, over the limit of ${ctx.maxPayloadBytes}`,
      );
    }
  }
  const phase = t.phase ?? ctx.inherit?.phase ?? null;
  const priority = t.priority === undefined && ctx.inherit ? ctx.inherit.priority : resolvePriority(t.priority);
  return {
    id: t.id ?? null,
    type: t.type,
    description: t.description ?? '',
    phase,
    priority,
    requires: [...new Set(t.requires ?? ctx.requires ?? [])],
    input: t.input ?? null,
    dependsOn: dependencyIds(t.dependsOn),
    retry: resolveRetry(t.retry, ctx.retry),
    timeouts: resolveTimeouts(t.timeouts),
    role: t.role ?? null,
    // A nested split's children are the children of this task: they inherit from it.
    split: t.split ? resolvePlan(t.split, { ...ctx, inherit: { phase, priority } }) : null,
    ...withControls(resolveControls({ ...t, id: t.id ?? t.type }, false)),
  };
}

function withControls(controls: TaskControls): { controls?: TaskControls } {
  return Object.keys(controls).length > 0 ? { controls } : {};
}

export function resolvePlan(plan: NestedSplitInput, ctx: ResolveContext): SplitPlan {
  if (plan.map) {
    if (plan.map.task.id !== undefined)
      throw new TroupeError('E_INVALID_INPUT', 'a map template cannot name an id: each item gets <split>.<index>');
    return {
      targets: null,
      map: {
        path: plan.map.path,
        task: resolveTemplate(plan.map.task, ctx),
        maxItems: plan.map.maxItems ?? DEFAULT_MAX_MAP_ITEMS,
      },
    };
  }
  return { targets: (plan.targets ?? []).map((t) => resolveTemplate(t, ctx)), map: null };
}

/** Every template in a plan, nested ones included. */
export function templatesOf(plan: SplitPlan): ResolvedTemplate[] {
  return withNested(plan.map ? [plan.map.task] : (plan.targets ?? []));
}

/** The templates with those of the splits nested under them. */
export function withNested(templates: readonly ResolvedTemplate[]): ResolvedTemplate[] {
  return templates.flatMap((t) => [t, ...(t.split ? templatesOf(t.split) : [])]);
}

type FoundActor = { kind: string; context: unknown; settled: boolean; state: unknown };

/** The live contexts or stored records of actors, with one store read for those not live. */
async function findActors(core: RuntimeCore, ids: readonly string[]): Promise<Map<string, FoundActor>> {
  const out = new Map<string, FoundActor>();
  const notLive: string[] = [];
  for (const id of ids) {
    const live = core.host.getLive(id);
    if (live)
      out.set(id, { kind: live.kind, context: live.snapshot.context, settled: false, state: live.snapshot.value });
    else notLive.push(id);
  }
  if (notLive.length === 0) return out;
  const stored = await core.options.store.getActors(notLive);
  for (const [id, s] of stored) out.set(id, { kind: s.kind, context: s.context, settled: s.settled, state: s.state });
  return out;
}

/** The live context or stored record of an actor. */
export async function findActor(core: RuntimeCore, id: string): Promise<FoundActor | undefined> {
  const live = core.host.getLive(id);
  if (live) return { kind: live.kind, context: live.snapshot.context, settled: false, state: live.snapshot.value };
  const stored: StoredActor | undefined = await core.options.store.getActor(id);
  return stored
    ? { kind: stored.kind, context: stored.context, settled: stored.settled, state: stored.state }
    : undefined;
}

/** Refuses ids already taken by any actor, or given twice. */
export async function assertNewIds(core: RuntimeCore, ids: readonly string[]): Promise<void> {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new TroupeError('E_DUPLICATE_ID', `id "${id}" is given twice`);
    seen.add(id);
  }
  const stored = await core.options.store.getActors([...seen]);
  for (const id of seen) {
    if (core.host.getLive(id) || stored.has(id))
      throw new TroupeError('E_DUPLICATE_ID', `an actor with id "${id}" already exists`);
  }
}

/** The contexts of existing tasks; an unknown id is refused with `code`. */
export async function requireTasks(
  core: RuntimeCore,
  ids: readonly string[],
  code: 'E_UNKNOWN_TASK' | 'E_MISSING_DEPENDENCY',
  what: string,
): Promise<Map<string, TaskContext>> {
  const tasks = await readTasks(core, ids);
  const unknown = ids.find((id) => !tasks.has(id));
  if (unknown !== undefined) throw new TroupeError(code, `${what} "${unknown}" is not a known task`);
  return tasks;
}

/** Checks a ticket exists, and that each named phase of it exists and has not closed. */
export async function requireTicket(core: RuntimeCore, ticketId: string, phases: readonly string[]): Promise<void> {
  const unique = [...new Set(phases)];
  const found = await findActors(core, [ticketId, ...unique.map((phase) => phaseIdOf(ticketId, phase))]);
  const ticket = found.get(ticketId);
  if (!ticket || ticket.kind !== 'ticket') throw new TroupeError('E_UNKNOWN_TICKET', `no ticket has id "${ticketId}"`);
  for (const phase of unique) {
    const p = found.get(phaseIdOf(ticketId, phase));
    if (!p) throw new TroupeError('E_UNKNOWN_PHASE', `ticket ${ticketId} has no phase "${phase}"`);
    if (p.settled)
      throw new TroupeError('E_INVALID_STATE', `phase "${phase}" of ticket ${ticketId} has already ${String(p.state)}`);
  }
}

/**
 * Checks what templates refer to: their explicit ids are free, the tasks they depend on exist,
 * and their phases belong to the coordinator's ticket (a template without a ticket cannot name
 * a phase).
 */
export async function checkTemplates(
  core: RuntimeCore,
  templates: readonly ResolvedTemplate[],
  ticketId: string | null,
  newIds: readonly string[],
): Promise<void> {
  await assertNewIds(core, [...newIds, ...templates.flatMap((t) => (t.id === null ? [] : [t.id]))]);
  const deps = [...new Set(templates.flatMap((t) => t.dependsOn))];
  if (deps.length > 0) await requireTasks(core, deps, 'E_MISSING_DEPENDENCY', 'a template depends on');
  const phases = templates.flatMap((t) => (t.phase === null ? [] : [t.phase]));
  if (phases.length > 0 && ticketId === null)
    throw new TroupeError('E_INVALID_INPUT', `a template names phase "${phases[0]}" but the coordinator has no ticket`);
  if (ticketId !== null) await requireTicket(core, ticketId, phases);
}
