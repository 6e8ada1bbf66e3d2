import type { RetryPolicy } from '../core/machines/retry-backoff.js';
import {
  phaseIdOf,
  type CancelValidatorParams,
  type PhaseSettledParams,
  type ReworkParams,
  type SpawnValidatorParams,
} from '../core/machines/phase-machine.js';
import type { TaskContext, TaskStatus } from '../core/machines/task-types.js';
import type { PhaseOutput } from '../core/machines/ticket-machine.js';
import type { ActorHost } from './actor-host.js';
import { orderByDependencies } from './dependency-graph.js';
import type { BatchScope, EffectHandler, LiveActor } from './host-types.js';
import type { Store } from './store/store.js';

export { phaseIdOf };

/**
 * The task id of a phase's validator. A round asks for more than one when a task added during
 * validation sends the phase back to work; the first keeps the id it had before that could happen.
 */
export const validatorIdOf = (phaseId: string, round: number, attempt: number): string =>
  attempt <= 1 ? `${phaseId}/validator-${round}` : `${phaseId}/validator-${round}.${attempt}`;

export interface TicketEffectsDeps {
  /** The host (made after the effects it carries out, hence a getter). */
  host: () => ActorHost;
  store: Store;
  /** The retry policy of validator tasks: the runtime's default. */
  retry: RetryPolicy;
}

/**
 * What tickets and phases ask of the runtime: opening a phase, running its validator (and
 * cancelling it), reworking its tasks after a rejection, reporting its outcome to the ticket, and
 * cancelling a ticket's work.
 */
export function ticketEffects(deps: TicketEffectsDeps): Record<string, EffectHandler> {
  return {
    spawnValidator: (_a, p, scope) => spawnValidator(deps, p as unknown as SpawnValidatorParams, scope),
    cancelValidator: (_a, p, scope) => {
      const c = p as unknown as CancelValidatorParams;
      // Settled already (its verdict reached a phase that had moved on): the task ignores it.
      scope.send(validatorIdOf(c.phaseId, c.round, c.attempt), { type: 'task.cancel', reason: c.reason });
    },
    reworkTasks: (_a, p, scope) => scope.afterCommit(() => reworkPhase(deps, p as unknown as ReworkParams)),
    phaseSettled: (_a, p, scope) => scope.afterCommit(() => reportPhase(deps, p as unknown as PhaseSettledParams)),
    openPhase: (_a, p, scope) => {
      const { ticketId, phase } = p as { ticketId: string; phase: string };
      scope.send(phaseIdOf(ticketId, phase), { type: 'phase.open' });
    },
    cancelWork: (_a, p, scope) => {
      const { ticketId, reason } = p as { ticketId: string; reason: string };
      for (const actor of deps.host().liveActors()) {
        if (actor.ticketId !== ticketId) continue;
        if (actor.kind === 'task') scope.send(actor.id, { type: 'task.cancel', reason });
        if (actor.kind === 'phase') scope.send(actor.id, { type: 'phase.cancel', reason });
      }
    },
  };
}

function spawnValidator(deps: TicketEffectsDeps, p: SpawnValidatorParams, scope: BatchScope): void {
  const id = validatorIdOf(p.phaseId, p.round, p.attempt);
  scope.spawn(
    'task',
    id,
    {
      id,
      type: p.validator.type,
      description: p.validator.description ?? `validate phase ${p.phase}`,
      ticketId: p.ticketId,
      phase: p.phase,
      priority: 75,
      requires: p.validator.requires ?? [],
      input: p.validator.input ?? null,
      dependsOn: [],
      satisfiedDeps: [],
      phaseOpen: true,
      retry: deps.retry,
      timeouts: {},
      role: 'validator',
      // It judges the phase's round, not a round of its own (see the validation package).
      round: p.round,
      feedback: p.feedback,
    },
    p.ticketId,
  );
  scope.send(p.phaseId, { type: 'phase.validator_started', taskId: id });
}

/** Sends every reworkable task of a rejected phase back to work with the gate's feedback. */
async function reworkPhase(deps: TicketEffectsDeps, p: ReworkParams): Promise<void> {
  const tasks = (await deps.store.listActors({ kind: 'task', ticketId: p.ticketId })).filter((t) => {
    const c = t.context as TaskContext;
    return c.spec.phase === p.phase && c.spec.role !== 'validator';
  });
  const reworkable = new Set(['succeeded', 'dead_lettered', 'skipped']);
  const candidates = tasks.filter((t) => t.settled && reworkable.has(t.state as string));
  const chosenIds = new Set(candidates.map((t) => t.id));
  // Dependencies go first, so each dependent finds its reworked dependency live and waits for it.
  const chosen = orderByDependencies(
    candidates.map((t) => ({ id: t.id, dependsOn: (t.context as TaskContext).spec.dependsOn, record: t })),
  ).map((n) => n.record);
  const reopened: Partial<Record<TaskStatus, number>> = {};
  const host = deps.host();
  for (const t of chosen) {
    const c = t.context as TaskContext;
    const status = t.state as TaskStatus;
    reopened[status] = (reopened[status] ?? 0) + 1;
    host.send(t.id, {
      type: 'task.rework',
      feedback: p.feedback,
      round: p.round,
      waitFor: c.spec.dependsOn.filter((d) => chosenIds.has(d)),
    });
  }
  host.send(p.phaseId, { type: 'phase.reopened', reopened });
}

/** Hands a settled phase's outcome (and, when passed, its output) to its ticket. */
async function reportPhase(deps: TicketEffectsDeps, p: PhaseSettledParams): Promise<void> {
  const host = deps.host();
  if (!p.passed) {
    host.send(p.ticketId, { type: 'ticket.phase_failed', phase: p.phase, reasons: p.reasons });
    return;
  }
  const output: PhaseOutput = { results: {}, artifacts: {} };
  const tasks = await deps.store.listActors({ kind: 'task', ticketId: p.ticketId });
  tasks.sort((a, b) => (a.context as TaskContext).spec.createdAt - (b.context as TaskContext).spec.createdAt);
  for (const t of tasks) {
    const c = t.context as TaskContext;
    if (c.spec.phase !== p.phase || t.state !== 'succeeded' || !c.output) continue;
    if (c.spec.role !== 'validator') output.results[c.id] = c.output.result;
    Object.assign(output.artifacts, c.output.artifacts);
  }
  host.send(p.ticketId, { type: 'ticket.phase_passed', phase: p.phase, output });
}

/**
 * After a restart: a phase that was reworking may not have sent its tasks back to work, and a
 * ticket may not have heard how its current phase ended (both happen after a commit).
 */
export async function resumeTicketWork(deps: TicketEffectsDeps, actor: LiveActor): Promise<void> {
  if (actor.kind === 'phase') {
    const c = actor.snapshot.context as {
      id: string;
      ticketId: string;
      name: string;
      round: number;
      feedback: string | null;
    };
    if (actor.snapshot.value !== 'reworking') return;
    await reworkPhase(deps, {
      phaseId: c.id,
      ticketId: c.ticketId,
      phase: c.name,
      round: c.round + 1,
      feedback: c.feedback ?? '',
    });
    return;
  }
  const ticket = actor.snapshot.context as { id: string; index: number; phases: Array<{ name: string }> };
  const name = ticket.phases[ticket.index]?.name;
  if (actor.snapshot.value !== 'active' || name === undefined) return;
  const phaseId = phaseIdOf(ticket.id, name);
  if (deps.host().getLive(phaseId)) return;
  const phase = await deps.store.getActor(phaseId);
  if (phase?.state === 'passed')
    await reportPhase(deps, { ticketId: ticket.id, phase: name, passed: true, reasons: [] });
  else if (phase?.state === 'failed') {
    const reasons = (phase.context as { reasons: string[] }).reasons;
    await reportPhase(deps, { ticketId: ticket.id, phase: name, passed: false, reasons });
  }
}
