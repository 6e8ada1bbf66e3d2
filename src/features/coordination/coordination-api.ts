import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { TroupeError } from '../../core/errors.js';
import type { ResourceReplyParams } from '../../core/coordination/coordinator-effects.js';
import { COORDINATOR_KINDS } from '../../core/coordination/coordination-types.js';
import { qualityIdOf, type QualityContext, type QualityInput } from '../../core/coordination/quality-machine.js';
import {
  route,
  type RouteOptions,
  type RoutingDecision,
  type RoutingRule,
} from '../../core/coordination/routing-rules.js';
import { parseOrThrow } from '../../engine/validation.js';
import { BarrierApi } from './barrier-api.js';
import { readTasks } from './collect-results.js';
import {
  mergeRequestSchema,
  routeOptionsSchema,
  routingRuleSchema,
  type GuardRequest,
  type JoinRequest,
  type MergeRequest,
  type RouteRequest,
  type SagaRequest,
  type SplitRequest,
  type SyncPointRequest,
} from './coordination-input.js';
import { spawnCoordinator, type CoordinationEnv, type Spawnable } from './coordination-env.js';
import {
  coordinatorView,
  type CoordinatorView,
  type GuardView,
  type JoinView,
  type RouteView,
  type SagaView,
  type SplitView,
} from './coordinator-views.js';
import { buildGuard, buildRoute, buildSaga } from './flow-builders.js';
import { mergeName, runMerge, type CustomMerge, type MergeSpec } from '../../core/coordination/merge-strategies.js';
import type { PendingReplies } from './pending-replies.js';
import { ResourceApi } from './resource-api.js';
import { Leadership, type LeaderOptions } from './leader-election.js';
import { buildJoin, buildSplit, buildSyncPoint } from './split-join-builders.js';
import { findActor } from './template-resolution.js';

/** What a one-off merge returns. */
export interface MergeView {
  id: string;
  strategy: string;
  value: unknown;
  detail: Record<string, unknown>;
  /** The sources merged, in the order given. */
  sources: string[];
  /** Sources left out (with `incomplete: 'skip'`) and how they stand. */
  skipped: Array<{ taskId: string; status: string }>;
}

/** The event that stops a coordinator of each view kind. */
const CANCEL_EVENTS: Record<string, string> = {
  join: 'join.cancel',
  split: 'split.cancel',
  guard: 'guard.cancel',
  route: 'route.cancel',
  barrier: 'barrier.break',
};

/**
 * Coordination: splits, joins, sync points, merges, routing, dependency guards, sagas, shared
 * resources and barriers. Every coordinator is a durable root actor addressed by its id; the
 * tasks it creates are ordinary tasks (see `docs/coordination.md`).
 *
 * @example
 * ```ts
 * const split = await runtime.coordination.split({ sourceTaskId: 'design', map: { path: 'modules', task: { type: 'implement' } } });
 * const join = await runtime.coordination.join({ sources: { split: split.id }, merge: 'combine', continuation: { type: 'integrate' } });
 * const done = await runtime.coordination.wait(join.id); // { status: 'ready', result: { merged, results, ... } }
 * ```
 */
export class CoordinationApi {
  readonly resources: ResourceApi;
  readonly barriers: BarrierApi;

  private readonly leaderships = new Set<Leadership>();

  constructor(
    private readonly env: CoordinationEnv,
    replies: PendingReplies<ResourceReplyParams>,
  ) {
    this.resources = new ResourceApi(env, replies);
    this.barriers = new BarrierApi(env);
  }

  /**
   * Joins the leader election `name` (a lease in the store, see `Leadership`): listen for
   * `elected` and `lost`. Every runtime has it, on every store.
   *
   * @example
   * ```ts
   * const sweeper = runtime.coordination.leader('sweeper');
   * sweeper.on('elected', ({ epoch }) => console.log('leading, epoch', epoch));
   * ```
   */
  leader(name: string, options: LeaderOptions = {}): Leadership {
    const leadership = new Leadership(this.env.core.options.store, this.env.core.options.clock, name, options);
    this.leaderships.add(leadership);
    void this.env.ready().then(
      () => leadership.start(),
      (error: unknown) => {
        if (leadership.listenerCount('error') > 0) {
          leadership.emit(
            'error',
            error instanceof TroupeError ? error : new TroupeError('E_RUNTIME_STOPPED', String(error)),
          );
        }
      },
    );
    return leadership;
  }

  /**
   * Stops every election of this runtime and lets the leases it holds go, so that another node
   * takes over at once. `runtime.stop()` calls it before closing the store.
   */
  async stopLeaders(): Promise<void> {
    const all = [...this.leaderships];
    this.leaderships.clear();
    await Promise.all(all.map((l) => l.stop()));
  }

  /** Splits a source task into parallel children (fixed `targets`, or `map` over a list in its result). */
  async split(request: SplitRequest): Promise<SplitView> {
    return (await this.create(() => buildSplit(this.env, request))) as SplitView;
  }

  /** Joins sources: when the strategy is met the continuation runs with the merged results. */
  async join(request: JoinRequest): Promise<JoinView> {
    return (await this.create(() => buildJoin(this.env, request))) as JoinView;
  }

  /** Waits for `requiredCount` (default all) of a set of tasks, optionally with a deadline. */
  async syncPoint(request: SyncPointRequest): Promise<JoinView> {
    return (await this.create(() => buildSyncPoint(this.env, request))) as JoinView;
  }

  /** Creates a task held until its dependencies (tasks, quality gates, resources) are met. */
  async guard(request: GuardRequest): Promise<GuardView> {
    return (await this.create(() => buildGuard(this.env, request))) as GuardView;
  }

  /** Branches after a task by routing rules. */
  async route(request: RouteRequest): Promise<RouteView> {
    return (await this.create(() => buildRoute(this.env, request))) as RouteView;
  }

  /** Runs steps in order; on failure runs the compensations of the completed steps in reverse. */
  async saga(request: SagaRequest): Promise<SagaView> {
    return (await this.create(() => buildSaga(this.env, request))) as SagaView;
  }

  /**
   * Merges the results of tasks now. Sources that have not succeeded are an `E_INVALID_STATE`
   * error unless `incomplete: 'skip'` leaves them out. Emits `coordination.merge.completed`.
   */
  async merge(request: MergeRequest): Promise<MergeView> {
    await this.env.ready();
    const r = parseOrThrow(mergeRequestSchema, request, 'merge');
    const tasks = await readTasks(this.env.core, r.sources);
    const unknown = r.sources.filter((id) => !tasks.has(id));
    if (unknown.length > 0)
      throw new TroupeError('E_UNKNOWN_TASK', `cannot merge unknown tasks: ${unknown.join(', ')}`);
    const skipped = r.sources.flatMap((id) => {
      const t = tasks.get(id);
      return t?.outcome === 'succeeded' ? [] : [{ taskId: id, status: t?.outcome ?? 'unsettled' }];
    });
    if (skipped.length > 0 && (r.incomplete ?? 'error') === 'error') {
      const list = skipped.map((s) => `${s.taskId} (${s.status})`).join(', ');
      throw new TroupeError(
        'E_INVALID_STATE',
        `cannot merge: ${list} did not succeed; pass incomplete: 'skip' to leave them out`,
      );
    }
    const used = r.sources.filter((id) => tasks.get(id)?.outcome === 'succeeded');
    const inputs = used.map((id) => ({ sourceId: id, result: tasks.get(id)?.output?.result ?? null }));
    const outcome = runMerge(r.strategy, inputs, this.env.merges);
    const id = r.id ?? `merge-${randomUUID()}`;
    const strategy = mergeName(r.strategy);
    await this.env.core.host.record({
      type: 'coordination.merge.completed',
      data: { id, strategy, ...outcome.detail, skipped: skipped.length },
    });
    return { id, strategy, value: outcome.value, detail: outcome.detail, sources: used, skipped };
  }

  /**
   * Registers a pure merge function under a name, for `{ strategy: 'custom', name }`. Register
   * it again after a restart before joins that use it collect their results.
   */
  registerMerge(name: string, merge: CustomMerge): void {
    parseOrThrow(z.string().min(1).max(200), name, 'merge name');
    if (typeof merge !== 'function') throw new TroupeError('E_INVALID_INPUT', `merge "${name}" must be a function`);
    this.env.merges.set(name, merge);
  }

  /** Evaluates routing rules against a state (pure; nothing is created or recorded). */
  decide(rules: RoutingRule[], state: Record<string, unknown>, options: RouteOptions = {}): RoutingDecision {
    const parsed = parseOrThrow(z.array(routingRuleSchema), rules, 'routing rules');
    return route(parsed, state, parseOrThrow(routeOptionsSchema, options, 'routing options'));
  }

  /** Sets a quality gate's score; guards waiting for the gate re-check their thresholds. */
  async setQualityScore(gate: string, score: number): Promise<void> {
    await this.env.ready();
    parseOrThrow(z.string().min(1).max(200), gate, 'quality gate name');
    parseOrThrow(z.number().finite(), score, 'quality score');
    const id = qualityIdOf(gate);
    if (!this.env.core.host.getLive(id)) {
      const input: Omit<QualityInput, 'now'> = { id, gate };
      const outcome = await this.env.core.host.spawn(
        COORDINATOR_KINDS.quality,
        id,
        input as unknown as Record<string, unknown>,
        null,
      );
      if (outcome.error && outcome.error.code !== 'E_DUPLICATE_ID') throw outcome.error;
    }
    const outcome = await this.env.core.host.request(id, { type: 'quality.set', score });
    if (outcome.error) throw outcome.error;
  }

  /** A quality gate's latest score, or null if none was ever set. */
  qualityScore(gate: string): number | null {
    return (
      (this.env.core.host.getLive(qualityIdOf(gate))?.snapshot.context as QualityContext | undefined)?.score ?? null
    );
  }

  /** A coordinator as it is now. */
  async get(id: string): Promise<CoordinatorView> {
    await this.env.ready();
    const found = await findActor(this.env.core, id);
    const view = found ? coordinatorView(found.kind, found.state, found.context) : null;
    if (!view) throw new TroupeError('E_INVALID_INPUT', `no coordinator has id "${id}"`);
    return view;
  }

  /** Resolves once the coordinator settles (ready, failed, created, decided, ...). */
  async wait(id: string): Promise<CoordinatorView> {
    const view = await this.get(id);
    const record = await this.env.core.waitSettled(id);
    return coordinatorView(record.kind, record.state, record.context) ?? view;
  }

  /**
   * Cancels a coordinator that has not settled: a join or sync point fails (its held tasks are
   * skipped), a waiting split or route stops, a guard fails, a barrier breaks. A saga is
   * cancelled by cancelling its running step, which starts its compensation.
   */
  async cancel(id: string, reason = 'cancelled by request'): Promise<CoordinatorView> {
    const view = await this.get(id);
    if (view.kind === 'saga') {
      const running = view.steps.find((s) => s.status === 'open');
      if (!running || view.status !== 'running')
        throw new TroupeError('E_INVALID_STATE', `saga ${id} is ${view.status}`);
      // The saga hears of the step's settling in the same batch, so it has reacted on return.
      await this.env.core.host.request(running.taskId, { type: 'task.cancel', reason });
      return this.get(id);
    }
    const type = CANCEL_EVENTS[view.kind === 'sync' ? 'join' : view.kind];
    const outcome = type ? await this.env.core.host.request(id, { type, reason }) : undefined;
    if (!outcome?.applied)
      throw new TroupeError('E_INVALID_STATE', `${view.kind} ${id} is ${view.status} and cannot be cancelled`);
    return this.get(id);
  }

  /**
   * Creates the coordinator and answers with what is true once everything it could decide from
   * what was already known has been decided: a join over settled sources comes back `ready`, a
   * map split over a finished source `created` (reading them takes batches after the creation).
   */
  private async create(build: () => Promise<Spawnable>): Promise<CoordinatorView> {
    await this.env.ready();
    const spawnable = await build();
    const created = await spawnCoordinator(this.env, spawnable);
    await this.env.inFlight.quiet(spawnable.id);
    const now = await findActor(this.env.core, spawnable.id);
    const view = now ? coordinatorView(now.kind, now.state, now.context) : null;
    return (view ?? coordinatorView(spawnable.kind, created.value, created.context)) as CoordinatorView;
  }
}

export type { MergeSpec };
