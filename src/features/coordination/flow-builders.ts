import { randomUUID } from 'node:crypto';
import { TroupeError } from '../../core/errors.js';
import {
  COORDINATOR_KINDS,
  type ActorSpawn,
  type ResolvedTemplate,
} from '../../core/coordination/coordination-types.js';
import type { DependencySpec, GuardInput } from '../../core/coordination/guard-machine.js';
import type { RouteInput } from '../../core/coordination/route-machine.js';
import { compensationIdOf, type SagaInput, type SagaStep } from '../../core/coordination/saga-machine.js';
import { spawnsFor } from '../../core/coordination/task-templates.js';
import { parseOrThrow } from '../../engine/validation.js';
import {
  guardSchema,
  routeSchema,
  sagaSchema,
  type GuardRequest,
  type RouteRequest,
  type SagaRequest,
} from './coordination-input.js';
import { resolveContext, type CoordinationEnv, type Spawnable } from './coordination-env.js';
import { checkTemplates, requireTasks, resolveTemplate, withNested } from './template-resolution.js';

/** Checks guard, saga and route requests and turns them into their machines' inputs. */

export async function buildGuard(env: CoordinationEnv, request: GuardRequest): Promise<Spawnable> {
  const r = parseOrThrow(guardSchema, request, 'dependency guard');
  const id = r.id ?? `guard-${randomUUID()}`;
  const ticketId = r.ticketId ?? null;
  const template = resolveTemplate(r.task, resolveContext(env));
  const heldTaskId = template.id ?? `${id}.task`;
  const dependencies: DependencySpec[] = r.dependencies.map((d) => {
    const timeoutMs = d.timeoutMs ?? null;
    if (d.kind === 'task')
      return { kind: 'task', taskId: d.taskId, requireSuccess: d.requireSuccess ?? true, timeoutMs };
    if (d.kind === 'quality') return { kind: 'quality', gate: d.gate, threshold: d.threshold, timeoutMs };
    return { kind: 'resource', resource: d.resource, mode: d.mode ?? null, timeoutMs };
  });
  const taskDeps = dependencies.flatMap((d) => (d.kind === 'task' ? [d.taskId] : []));
  if (taskDeps.length > 0) await requireTasks(env.core, taskDeps, 'E_MISSING_DEPENDENCY', 'a dependency names');
  // The held task waits on the guard, and on the tasks it must see succeed, so that it also
  // receives their results and artifacts in its context package.
  const mustSucceed = dependencies.flatMap((d) => (d.kind === 'task' && d.requireSuccess ? [d.taskId] : []));
  const held: ActorSpawn[] = spawnsFor(template, {
    id: heldTaskId,
    ticketId,
    dependsOn: [id, ...mustSucceed],
    satisfied: [],
  });
  await checkTemplates(env.core, withNested([template]), ticketId, [id, ...(template.id === null ? [heldTaskId] : [])]);
  const input: Omit<GuardInput, 'now'> = { id, ticketId, heldTaskId, held, dependencies };
  return { kind: COORDINATOR_KINDS.guard, id, input: input as unknown as Record<string, unknown>, ticketId };
}

export async function buildSaga(env: CoordinationEnv, request: SagaRequest): Promise<Spawnable> {
  const r = parseOrThrow(sagaSchema, request, 'saga');
  const id = r.id ?? `saga-${randomUUID()}`;
  const ticketId = r.ticketId ?? null;
  const ctx = resolveContext(env);
  const steps: SagaStep[] = [];
  const spawns: ActorSpawn[] = [];
  const templates: ResolvedTemplate[] = [];
  const generated: string[] = [id];
  r.steps.forEach((step, i) => {
    const task = resolveTemplate(step.task, ctx);
    const compensation = step.compensation ? resolveTemplate(step.compensation, ctx) : null;
    if (compensation?.id !== null && compensation?.id !== undefined) {
      throw new TroupeError(
        'E_INVALID_INPUT',
        `saga ${id}: compensations are named by the saga (${compensationIdOf(id, i)}); remove the id`,
      );
    }
    const taskId = task.id ?? `${id}.step.${i}`;
    const previous = steps[i - 1]?.taskId;
    spawns.push(...spawnsFor(task, { id: taskId, ticketId, dependsOn: previous ? [previous] : [], satisfied: [] }));
    steps.push({ taskId, compensation });
    templates.push(task, ...(compensation ? [compensation] : []));
    if (task.id === null) generated.push(taskId);
    if (compensation) generated.push(compensationIdOf(id, i));
  });
  await checkTemplates(env.core, withNested(templates), ticketId, generated);
  const input: Omit<SagaInput, 'now'> = { id, ticketId, steps, spawns };
  return { kind: COORDINATOR_KINDS.saga, id, input: input as unknown as Record<string, unknown>, ticketId };
}

export async function buildRoute(env: CoordinationEnv, request: RouteRequest): Promise<Spawnable> {
  const r = parseOrThrow(routeSchema, request, 'route');
  const id = r.id ?? `route-${randomUUID()}`;
  const source = (await requireTasks(env.core, [r.sourceTaskId], 'E_UNKNOWN_TASK', 'route source')).get(r.sourceTaskId);
  const ticketId = source?.spec.ticketId ?? null;
  const ctx = resolveContext(env);
  const branches: Record<string, ResolvedTemplate[]> = {};
  for (const [name, list] of Object.entries(r.branches ?? {}))
    branches[name] = list.map((t) => resolveTemplate(t, ctx));
  await checkTemplates(env.core, withNested(Object.values(branches).flat()), ticketId, [id]);
  const options = {
    ...(r.fallback !== undefined ? { fallback: r.fallback } : {}),
    ...(r.fallbackConfidence !== undefined ? { fallbackConfidence: r.fallbackConfidence } : {}),
  };
  const input: Omit<RouteInput, 'now'> = {
    id,
    ticketId,
    sourceTaskId: r.sourceTaskId,
    rules: r.rules,
    options,
    branches,
  };
  return { kind: COORDINATOR_KINDS.route, id, input: input as unknown as Record<string, unknown>, ticketId };
}
