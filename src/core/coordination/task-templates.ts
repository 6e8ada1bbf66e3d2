import { isPlainObject } from '../json-value.js';
import { resolveKey } from '../controls/control-key.js';
import type { TaskControls } from '../machines/task-types.js';
import {
  COORDINATOR_KINDS,
  type ActorSpawn,
  type ResolvedTemplate,
  type SplitPlan,
  type TaskSpawn,
} from './coordination-types.js';

/**
 * Turns resolved templates into the tasks (and nested splits) a coordinator asks the runtime to
 * create. Pure: ids are derived from the coordinator's id and positions, never drawn at random,
 * so a replayed or recovered coordinator creates the same tasks under the same ids.
 */

export interface Binding {
  id: string;
  ticketId: string | null;
  /** Tasks it waits for besides the template's own. */
  dependsOn: string[];
  /** Of those, the ones known to have succeeded already. */
  satisfied: string[];
  /** Fields added to the template's input (an object input is extended, any other is wrapped). */
  extraInput?: Record<string, unknown> | undefined;
}

/** The id a nested split under task `taskId` gets. */
export const nestedSplitId = (taskId: string): string => `${taskId}.split`;

/** The task machine's input for one template bound to an id and its dependencies. */
export function bindTemplate(template: ResolvedTemplate, binding: Binding): TaskSpawn {
  const dependsOn = [...new Set([...binding.dependsOn, ...template.dependsOn])];
  let input = template.input;
  if (binding.extraInput) {
    input = isPlainObject(template.input)
      ? { ...template.input, ...binding.extraInput }
      : template.input === null
        ? { ...binding.extraInput }
        : { input: template.input, ...binding.extraInput };
  }
  return {
    id: binding.id,
    type: template.type,
    description: template.description,
    ticketId: binding.ticketId,
    phase: binding.ticketId === null ? null : template.phase,
    priority: template.priority,
    requires: template.requires,
    input,
    dependsOn,
    satisfiedDeps: binding.satisfied.filter((d) => dependsOn.includes(d)),
    phaseOpen: binding.ticketId === null || template.phase === null,
    retry: template.retry,
    timeouts: template.timeouts,
    role: template.role,
    ...(template.controls
      ? { controls: boundControls(template.controls, binding.id, template, binding.ticketId, input) }
      : {}),
  };
}

/**
 * A template's controls for one bound task: the concurrency key filled from the task's fields. A
 * key that names a missing field stays as written (a coordinator cannot refuse a task it must
 * create; all such tasks then share that one key).
 */
function boundControls(
  controls: TaskControls,
  id: string,
  t: ResolvedTemplate,
  ticketId: string | null,
  input: unknown,
): TaskControls {
  if (!controls.concurrency) return controls;
  const fields = { id, type: t.type, ticketId, phase: t.phase, role: t.role, input };
  const key = resolveKey(controls.concurrency.key, fields) ?? controls.concurrency.key;
  return { ...controls, concurrency: { key, max: controls.concurrency.max } };
}

/** Input of a split coordinator (see the split machine). */
export interface SplitInput {
  id: string;
  ticketId: string | null;
  sourceTaskId: string;
  /** The source had already succeeded when the split was made: children need not wait for it. */
  sourceSucceeded: boolean;
  plan: SplitPlan;
  now: number;
}

/**
 * The actors to create for one bound template: the task, then (if the template nests a split)
 * the split that will expand it once it succeeds.
 */
export function spawnsFor(template: ResolvedTemplate, binding: Binding): ActorSpawn[] {
  const task = bindTemplate(template, binding);
  const out: ActorSpawn[] = [
    { kind: 'task', id: task.id, input: task as unknown as Record<string, unknown>, ticketId: task.ticketId ?? null },
  ];
  if (template.split) {
    const input: Omit<SplitInput, 'now'> = {
      id: nestedSplitId(task.id),
      ticketId: binding.ticketId,
      sourceTaskId: task.id,
      sourceSucceeded: false,
      plan: template.split,
    };
    out.push({
      kind: COORDINATOR_KINDS.split,
      id: input.id,
      input: input as unknown as Record<string, unknown>,
      ticketId: binding.ticketId,
    });
  }
  return out;
}

/** The id of child `index` of a split (or branch) unless its template names one. */
export const childId = (parentId: string, template: ResolvedTemplate, index: number): string =>
  template.id ?? `${parentId}.${index}`;
