import { TroupeError } from '../errors.js';
import type { RetryPolicy } from '../machines/backoff.js';
import type { ResolvedTemplate, SplitPlan } from '../machines/coordination/coordination-types.js';
import type { TaskContext } from '../machines/task-types.js';
import { phaseIdOf, type RuntimeCore } from '../runtime/runtime-core.js';
import type { StoredActor } from '../runtime/store/store.js';
import { resolvePriority, resolveRetry, resolveTimeouts } from '../runtime/task-input.js';
import { assertJson, jsonSize } from '../runtime/validation.js';
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
}

export const DEFAULT_MAX_MAP_ITEMS = 100_000;

export function resolveTemplate(t: TaskTemplate, ctx: ResolveContext): ResolvedTemplate {
  if (t.input !== undefined) {
    assertJson(t.input, `input of task template "${t.type}"`);
    const size = jsonSize(t.input);
    if (size > ctx.maxPayloadBytes) {
      throw new TroupeError('E_PAYLOAD_TOO_LARGE', `task template input is ${size} bytes, over the limit of ${ctx.maxPayloadBytes}`);
    }
  }
  return {
    id: t.id ?? null,
    type: t.type,
    description: t.description ?? '',
    phase: t.phase ?? null,
    priority: resolvePriority(t.priority),
    requires: [...new Set(t.requires ?? ctx.requires ?? [])],
    input: t.input ?? null,
    dependsOn: [...new Set(t.dependsOn ?? [])],
    retry: resolveRetry(t.retry, ctx.retry),
    timeouts: resolveTimeouts(t.timeouts),
    role: t.role ?? null,
    split: t.split ? resolvePlan(t.split, ctx) : null,
  };
}

export function resolvePlan(plan: NestedSplitInput, ctx: ResolveContext): SplitPlan {
  if (plan.map) {
    if (plan.map.task.id !== undefined) throw new TroupeError('E_INVALID_INPUT', 'a map template cannot name an id: each item gets <split>.<index>');
    return { targets: null, map: { path: plan.map.path, task: resolveTemplate(plan.map.task, ctx), maxItems: plan.map.maxItems ?? DEFAULT_MAX_MAP_ITEMS } };
  }
  return { targets: (plan.targets ?? []).map((t) => resolveTemplate(t, ctx)), map: null };
}

/** Every template in a plan, nested ones included. */
export function templatesOf(plan: SplitPlan): ResolvedTemplate[] {
  const own = plan.map ? [plan.map.task] : (plan.targets ?? []);
  return own.flatMap((t) => [t, ...(t.split ? templatesOf(t.split) : [])]);
}

/** The live context or stored record of an actor. */
export async function findActor(core: RuntimeCore, id: string): Promise<{ kind: string; context: unknown; settled: boolean; state: unknown } | undefined> {
  const live = core.host.getLive(id);
  if (live) return { kind: live.kind, context: live.snapshot.context, settled: false, state: live.snapshot.value };
  const stored: StoredActor | undefined = await core.options.store.getActor(id);
  return stored ? { kind: stored.kind, context: stored.context, settled: stored.settled, state: stored.state } : undefined;
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
    if (core.host.getLive(id) || stored.has(id)) throw new TroupeError('E_DUPLICATE_ID', `an actor with id "${id}" already exists`);
  }
}

/** The contexts of existing tasks; an unknown id is refused with `code`. */
export async function requireTasks(
  core: RuntimeCore,
  ids: readonly string[],
  code: 'E_UNKNOWN_TASK' | 'E_MISSING_DEPENDENCY',
  what: string,
): Promise<Map<string, TaskContext>> {
  const out = new Map<string, TaskContext>();
  const notLive = ids.filter((id) => core.host.getLive(id)?.kind !== 'task');
  const stored = notLive.length > 0 ? await core.options.store.getActors(notLive) : new Map<string, StoredActor>();
  for (const id of ids) {
    const live = core.host.getLive(id);
    const context = live?.kind === 'task' ? live.snapshot.context : stored.get(id)?.kind === 'task' ? stored.get(id)?.context : undefined;
    if (!context) throw new TroupeError(code, `${what} "${id}" is not a known task`);
    out.set(id, context as TaskContext);
  }
  return out;
}

/** Checks a ticket exists, and that each named phase of it exists and has not closed. */
export async function requireTicket(core: RuntimeCore, ticketId: string, phases: readonly string[]): Promise<void> {
  const ticket = await findActor(core, ticketId);
  if (!ticket || ticket.kind !== 'ticket') throw new TroupeError('E_UNKNOWN_TICKET', `no ticket has id "${ticketId}"`);
  for (const phase of new Set(phases)) {
    const found = await findActor(core, phaseIdOf(ticketId, phase));
    if (!found) throw new TroupeError('E_UNKNOWN_PHASE', `ticket ${ticketId} has no phase "${phase}"`);
    if (found.settled) throw new TroupeError('E_INVALID_STATE', `phase "${phase}" of ticket ${ticketId} has already ${String(found.state)}`);
  }
}

/**
 * Checks what templates refer to: their explicit ids are free, the tasks they depend on exist,
 * and their phases belong to the coordinator's ticket (a template without a ticket cannot name
 * a phase).
 */
export async function checkTemplates(core: RuntimeCore, templates: readonly ResolvedTemplate[], ticketId: string | null, newIds: readonly string[]): Promise<void> {
  await assertNewIds(core, [...newIds, ...templates.flatMap((t) => (t.id === null ? [] : [t.id]))]);
  const deps = [...new Set(templates.flatMap((t) => t.dependsOn))];
  if (deps.length > 0) await requireTasks(core, deps, 'E_MISSING_DEPENDENCY', 'a template depends on');
  const phases = templates.flatMap((t) => (t.phase === null ? [] : [t.phase]));
  if (phases.length > 0 && ticketId === null) throw new TroupeError('E_INVALID_INPUT', `a template names phase "${phases[0]}" but the coordinator has no ticket`);
  if (ticketId !== null) await requireTicket(core, ticketId, phases);
}
