import type { CoordinationApi } from '../../coordination/coordination-api.js';
import type { CustomMerge } from '../../../core/coordination/merge-strategies.js';
import type { RetryPolicy } from '../../../core/machines/retry-backoff.js';
import type { TaskContext } from '../../../core/machines/task-types.js';
import type { BatchScope, EffectHandler, LiveActor } from '../../../engine/host-types.js';
import { phaseIdOf, type RuntimeCore } from '../../../engine/runtime-core.js';
import type { PatternRunContext, PatternSettledParams, RunStepParams } from '../compile/protocol.js';
import type { StepWork, TaskWork } from '../compile/work.js';
import { decideGroup, newGroup, settleMember, type Group, type Settled } from './groups.js';
import { batchOutbox, hostOutbox, type Outbox } from './outbox.js';
import { isPatternKind, type RegisteredPatterns } from './registered.js';
import { startStep, type StepDriver, type WatchRole } from './start-step.js';
import { type RunRef } from './run-ref.js';
import { activeLeaves, outcomeOf, taskSpawnInput } from './task-spawn.js';
import { cancelCoordinated } from './coordinated-steps.js';

interface Watch {
  runId: string;
  step: string;
  role: WatchRole;
  /** Position in the step's group, or -1 for a step's one task. */
  index: number;
}

const groupKey = (runId: string, step: string): string => `${runId}\u0000${step}`;

/**
 * Carries out what pattern runs ask for: starts each step's work (tasks with ids derived from
 * the run), watches the tasks, and tells the run how they ended, inside the batch in which they
 * ended. What it keeps in memory (watches, group tallies) is rebuilt from the store after a
 * restart; everything that decides the run's course is in the run's own snapshot.
 */
export class PatternDriver implements StepDriver {
  private readonly watches = new Map<string, Watch>();
  private readonly groups = new Map<string, Group>();
  /** Tasks of runs known to have succeeded: later tasks that depend on them need not wait to hear it. */
  private readonly succeeded = new Set<string>();
  /** True while runs take up their work after a restart: every watched task may have settled already. */
  private resuming = false;
  readonly merges = new Map<string, CustomMerge>();

  constructor(
    private readonly core: RuntimeCore,
    private readonly registered: RegisteredPatterns,
    private readonly retry: RetryPolicy,
    readonly coordination: CoordinationApi,
  ) {}

  /** The effect handlers the compiled statecharts ask for, for `core.addEffects`. */
  effects(): Record<string, EffectHandler> {
    return {
      patternRunStep: (actor, params, scope) =>
        this.runStep(actor, params as unknown as RunStepParams, batchOutbox(scope)),
      patternCancelStep: (actor, params, scope) => this.cancelStep(actor, (params as { step: string }).step, scope),
      patternSettled: (actor, params, scope) => this.settled(actor, params as unknown as PatternSettledParams, scope),
    };
  }

  /** The settle listener: a watched task ended. Runs inside the batch that settled it. */
  onTaskSettled(task: TaskContext, scope: BatchScope): void {
    if (task.spec.role === 'pattern' && task.outcome === 'succeeded') this.succeeded.add(task.id);
    const watch = this.watches.get(task.id);
    if (!watch) return;
    this.watches.delete(task.id);
    this.record(watch, outcomeOf(task), batchOutbox(scope));
  }

  /** After a restart: every unfinished run takes up the work of the state it is in. */
  recover(actors: LiveActor[]): void {
    this.resuming = true;
    try {
      this.resume(actors);
    } finally {
      this.resuming = false;
    }
  }

  private resume(actors: LiveActor[]): void {
    for (const actor of actors) {
      if (!isPatternKind(actor.kind)) continue;
      const run = this.runOf(actor);
      if (!run) continue;
      const out = hostOutbox(this.core.host, (e) =>
        this.core.logger.error({ err: e, runId: actor.id }, 'resuming a pattern run failed'),
      );
      for (const leaf of activeLeaves(actor.snapshot.value, run.compiled.machine.root)) {
        const work = run.compiled.works.get(leaf);
        if (!work) continue;
        const c = run.context;
        const review =
          work.kind === 'review_work'
            ? work.review
            : work.kind === 'review'
              ? work.step.replace(/\/reviewing$/, '')
              : null;
        const round = review ? (c.rounds[review] ?? 1) : 1;
        const feedback = review ? (c.feedback[review] ?? null) : null;
        startStep(
          this,
          run,
          work,
          { runId: run.runId, ticketId: run.ticketId, phase: run.phase, step: work.step, round, feedback },
          out,
        );
      }
    }
  }

  spawn(run: RunRef, out: Outbox, id: string, work: TaskWork, deps: string[], extra?: Record<string, unknown>): void {
    const satisfied = deps.filter((d) => this.succeeded.has(d));
    out.spawnTask(
      id,
      taskSpawnInput(run, id, work, deps, satisfied, extra, this.retry, this.core.options.clock.now()),
      run.ticketId,
    );
    if (run.ticketId !== null && run.phase !== null)
      out.send(phaseIdOf(run.ticketId, run.phase), { type: 'phase.task_added', taskId: id });
  }

  watchOne(run: RunRef, step: string, taskId: string, out: Outbox): void {
    this.watches.set(taskId, { runId: run.runId, step, role: 'own', index: -1 });
    // A task this step has just made cannot have settled yet; after a restart it may have.
    if (this.resuming) this.catchUp([taskId], out);
  }

  watchGroup(run: RunRef, work: Extract<StepWork, { kind: 'vote' | 'review' }>, ids: string[], out: Outbox): void {
    const group = newGroup(run.runId, work, ids);
    this.groups.set(groupKey(run.runId, work.step), group);
    ids.forEach((id, index) => this.watches.set(id, { runId: run.runId, step: work.step, role: 'own', index }));
    if (this.resuming) this.catchUp(ids, out);
  }

  async read(ids: string[]): Promise<Map<string, Settled & { open: boolean }>> {
    const out = new Map<string, Settled & { open: boolean }>();
    const notLive: string[] = [];
    for (const id of ids) {
      const live = this.core.host.getLive(id);
      if (live?.kind === 'task') {
        const c = live.snapshot.context as TaskContext;
        out.set(id, { ...outcomeOf(c), open: c.outcome === null });
      } else notLive.push(id);
    }
    if (notLive.length > 0) {
      const stored = await this.core.options.store.getActors(notLive);
      for (const [id, record] of stored) {
        if (record.kind !== 'task') continue;
        out.set(id, { ...outcomeOf(record.context as TaskContext), open: !record.settled });
      }
    }
    return out;
  }

  private runOf(actor: LiveActor): RunRef | undefined {
    const compiled = this.registered.get(actor.kind);
    if (!compiled) return undefined;
    const context = actor.snapshot.context as PatternRunContext;
    return { runId: actor.id, ticketId: context.ticketId, phase: context.phase, compiled, context };
  }

  private runStep(actor: LiveActor, params: RunStepParams, out: Outbox): void {
    const run = this.runOf(actor);
    const work = run?.compiled.works.get(params.step);
    if (!run || !work) throw new Error(`pattern run ${actor.id} asked for unknown step ${params.step}`);
    startStep(this, run, work, params, out);
  }

  /** Tasks that settled before they were watched (a join's sources, work resumed after a restart). */
  private catchUp(ids: string[], out: Outbox): void {
    out.later(async () => {
      const read = await this.read(ids.filter((id) => this.watches.has(id)));
      const later = this.hostOut();
      for (const [id, outcome] of read) {
        const watch = this.watches.get(id);
        if (!watch || outcome.open) continue;
        this.watches.delete(id);
        this.record(watch, outcome, later);
      }
    });
  }

  private record(watch: Watch, outcome: Settled, out: Outbox): void {
    const { runId, step } = watch;
    const live = this.core.host.getLive(runId);
    const ticketId = (live?.snapshot.context as PatternRunContext | undefined)?.ticketId ?? null;
    // The ticket was cancelled, and its tasks with it: the run is cancelled, not failed.
    if (
      outcome.status === 'cancelled' &&
      ticketId !== null &&
      this.core.host.getLive(ticketId)?.snapshot.value === 'cancelled'
    ) {
      out.send(runId, { type: 'pattern.cancel', reason: `ticket ${ticketId} was cancelled` });
      return;
    }
    if (watch.index < 0) {
      const work = live ? this.runOf(live)?.compiled.works.get(step) : undefined;
      if (outcome.status !== 'succeeded') {
        out.send(runId, { type: 'step.failed', step, reason: outcome.error ?? `its task ended ${outcome.status}` });
        return;
      }
      // A stage must hand on what it promised: the next stages count on it.
      const missing = work?.kind === 'stage' ? work.produces.filter((a) => !Object.hasOwn(outcome.artifacts, a)) : [];
      if (missing.length > 0) {
        out.send(runId, { type: 'step.failed', step, reason: `stage ${step} did not hand off ${missing.join(', ')}` });
        return;
      }
      out.send(runId, { type: 'step.done', step });
      return;
    }
    const group = this.groups.get(groupKey(runId, step));
    if (!group || group.decided) return;
    settleMember(group, watch.index, outcome);
    this.evaluate(group, out);
  }

  private evaluate(group: Group, out: Outbox): void {
    const live = this.core.host.getLive(group.runId);
    const run = live ? this.runOf(live) : undefined;
    const work = run?.compiled.works.get(group.step);
    if (!run || !work) return;
    const verdict = decideGroup(group, work);
    if (verdict.kind === 'pending') return;
    group.decided = true;
    this.groups.delete(groupKey(group.runId, group.step));
    for (const id of group.ids) this.watches.delete(id);
    const step = group.step;
    switch (verdict.kind) {
      case 'failed':
        out.send(run.runId, { type: 'step.failed', step, reason: verdict.reason });
        return;
      case 'winner':
        out.send(run.runId, { type: 'step.done', step, result: verdict.value });
        return;
      case 'tie':
        out.send(run.runId, { type: 'vote.tied', step });
        return;
      case 'approved':
        out.send(run.runId, { type: 'review.approved', step: step.replace(/\/reviewing$/, '') });
        return;
      case 'rejected':
        out.send(run.runId, {
          type: 'review.rejected',
          step: step.replace(/\/reviewing$/, ''),
          feedback: verdict.feedback,
        });
        return;
    }
  }

  watchTask(run: RunRef, step: string, taskId: string, out: Outbox): void {
    this.watches.set(taskId, { runId: run.runId, step, role: 'then', index: -1 });
    this.catchUp([taskId], out);
  }

  hostOut(): Outbox {
    return hostOutbox(this.core.host, (e) => this.onError(e));
  }

  onError(error: unknown): void {
    this.core.logger.error({ err: error }, 'a pattern step failed to go on');
  }

  /** A step's deadline passed: its own tasks are cancelled; the sources it waited for go on. */
  private cancelStep(actor: LiveActor, step: string, scope: BatchScope): void {
    const runId = actor.id;
    const work = this.runOf(actor)?.compiled.works.get(step);
    if (work?.kind === 'join' || work?.kind === 'sync') cancelCoordinated(this, runId, work, batchOutbox(scope));
    this.groups.delete(groupKey(runId, step));
    for (const [taskId, watch] of this.watches) {
      if (watch.runId !== runId || (watch.step !== step && !watch.step.startsWith(`${step}/`))) continue;
      this.watches.delete(taskId);
      scope.send(taskId, { type: 'task.cancel', reason: `step ${step} of pattern run ${runId} timed out` });
    }
  }

  /** A run ended: unless it completed, its unfinished tasks are cancelled; its phase and waiters are told. */
  private settled(actor: LiveActor, p: PatternSettledParams, scope: BatchScope): void {
    for (const [taskId, watch] of this.watches) if (watch.runId === actor.id) this.watches.delete(taskId);
    for (const taskId of this.succeeded) if (taskId.startsWith(`${actor.id}/`)) this.succeeded.delete(taskId);
    for (const key of this.groups.keys()) if (key.startsWith(`${actor.id}\u0000`)) this.groups.delete(key);
    if (p.outcome !== 'completed') {
      for (const live of this.core.host.liveActors()) {
        if (
          live.kind === 'task' &&
          live.id.startsWith(`${actor.id}/`) &&
          (live.snapshot.context as TaskContext).outcome === null
        ) {
          scope.send(live.id, { type: 'task.cancel', reason: `pattern run ${actor.id} ended ${p.outcome}` });
        }
      }
    }
    if (p.ticketId !== null && p.phase !== null) {
      const status =
        p.outcome === 'completed' ? 'succeeded' : p.outcome === 'cancelled' ? 'cancelled' : 'dead_lettered';
      scope.send(phaseIdOf(p.ticketId, p.phase), {
        type: 'phase.task_settled',
        taskId: actor.id,
        status,
        artifacts: [],
        quality: null,
      });
    }
    scope.afterCommit(() => this.core.notifySettled(actor));
  }
}
