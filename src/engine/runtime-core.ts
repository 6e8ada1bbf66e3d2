import { pino, type Logger } from 'pino';
import { TroupeError } from '../core/errors.js';
import type { AgentAvailability } from '../core/machines/agent-machine.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../core/machines/retry-backoff.js';
import type {
  EnqueueParams,
  LeaseEndedParams,
  OfferParams,
  RegisterWaitingParams,
  SettledParams,
} from '../core/machines/task-machine.js';
import type { TaskContext, TaskStatus } from '../core/machines/task-types.js';
import { ActorHost } from './actor-host.js';
import { storedRecordOf, type BatchScope, type EffectHandler, type HostEvent, type LiveActor } from './host-types.js';
import type { AgentTransport } from './agent-transport.js';
import type { Clock } from './clock.js';
import { Dispatcher } from './dispatcher.js';
import { EventBus } from './event-bus.js';
import type { MachineRegistry } from './machine-registry.js';
import type { Store, StoredActor } from './store/store.js';
import { phaseIdOf, resumeTicketWork, ticketEffects, type TicketEffectsDeps } from './ticket-effects.js';

export interface RuntimeCoreOptions {
  store: Store;
  clock: Clock;
  random: () => number;
  logger: Logger;
  historyLimit: number;
  retry: RetryPolicy;
  machines: MachineRegistry;
  /** How long an agent that rejected a task is not offered it again (see `RejectCooldown`). */
  rejectCooldownMs: number;
}

type Waiter = { resolve: (record: StoredActor) => void; reject: (error: TroupeError) => void };

export { phaseIdOf, validatorIdOf } from './ticket-effects.js';

/**
 * The runtime's insides shared by its API objects: the actor host, the dispatcher and the
 * indexes that let one actor's settling wake the others, and the effect handlers that tie them.
 */
export class RuntimeCore {
  readonly host: ActorHost;
  readonly dispatcher: Dispatcher;
  readonly bus: EventBus;
  readonly transports = new Map<string, AgentTransport>();
  readonly logger: Logger;
  /** Waiting tasks by the dependency they wait for. */
  private readonly dependents = new Map<string, Set<string>>();
  /** Waiting tasks by the phase (id) that has not opened yet. */
  private readonly phaseWaiting = new Map<string, Set<string>>();
  private readonly settleWaiters = new Map<string, Waiter[]>();
  private readonly settleListeners: Array<(task: TaskContext, status: TaskStatus, scope: BatchScope) => void> = [];
  private readonly leaseListeners: Array<(task: LiveActor, ended: LeaseEndedParams, scope: BatchScope) => void> = [];
  private readonly recoveryHooks: Array<(actors: LiveActor[]) => void> = [];
  private readonly kindResolvers: Array<(kinds: string[]) => Promise<void>> = [];
  private readonly failureHooks: Array<(error: TroupeError) => void> = [];
  private readonly stopHooks: Array<() => void> = [];
  /**
   * Lease ids: the task id, then a prefix random for this runtime (ids from before a restart never
   * come back) and a count (no two leases of this runtime alike, even with a fixed `random`).
   */
  private readonly leasePrefix: string;
  private leaseCount = 0;
  private readonly ticketDeps: TicketEffectsDeps;
  /** Effect handlers by action name; extensions (coordinators) add theirs with `addEffects`. */
  private readonly effects: Record<string, EffectHandler>;

  constructor(readonly options: RuntimeCoreOptions) {
    this.ticketDeps = { host: () => this.host, store: options.store, retry: options.retry };
    this.leasePrefix = options.random().toString(36).slice(2, 8);
    this.logger = options.logger;
    this.dispatcher = new Dispatcher({
      clock: options.clock,
      rejectCooldownMs: options.rejectCooldownMs,
      wake: () => {
        if (!this.host.failed) this.host.wake();
      },
      onHeldBack: (refusal) => {
        // An event per gate that starts holding work back (not per task held): observers see why the queue stalls.
        const type = refusal.gate.startsWith('ratelimit:')
          ? 'ratelimit.exhausted'
          : refusal.gate.startsWith('bulkhead:')
            ? 'bulkhead.full'
            : null;
        if (type !== null && !this.host.failed) {
          void this.host.record({ type, data: { gate: refusal.gate, reason: refusal.reason, until: refusal.until } });
        }
      },
    });
    this.bus = new EventBus(options.historyLimit, (error) => this.logger.error({ err: error }, 'event listener threw'));
    const effects: Record<string, EffectHandler> = (this.effects = {
      enqueue: (_a, p) => {
        const q = p as unknown as EnqueueParams;
        this.dispatcher.enqueue(q.taskId, q.priority, q.requires, q.controls, q.type);
      },
      dequeue: (_a, p) => this.dispatcher.dequeue((p as { taskId: string }).taskId),
      offer: (_a, p, scope) => this.onOffer(p as unknown as OfferParams, scope),
      leaseEnded: (_a, p, scope) => {
        const ended = p as unknown as LeaseEndedParams;
        this.dispatcher.release(ended.agentId, ended.taskId);
        // The dispatcher keeps a declined task from that agent for a while instead of offering it
        // straight back (one agent that keeps declining would otherwise be a tight loop).
        if (ended.rejected) this.dispatcher.rejected(ended.taskId, ended.agentId);
        for (const listener of this.leaseListeners) listener(_a, ended, scope);
        if (ended.revoke !== null) {
          const revocation = {
            taskId: ended.taskId,
            agentId: ended.agentId,
            leaseId: ended.leaseId,
            reason: ended.revoke,
          };
          scope.afterCommit(() => this.transports.get(ended.agentId)?.revoke(revocation));
        }
      },
      settled: (actor, p, scope) => {
        this.dispatcher.forgetRejections(actor.id);
        this.onTaskSettled(actor, p as unknown as SettledParams, scope);
      },
      registerWaiting: (_a, p, scope) => this.onRegisterWaiting(p as unknown as RegisterWaitingParams, scope),
      available: (_a, p) => this.dispatcher.addAgent(p as unknown as AgentAvailability),
      unavailable: (_a, p) => this.dispatcher.stopOffering((p as { agentId: string }).agentId),
      agentLost: (_a, p, scope) => {
        const { agentId } = p as { agentId: string };
        for (const taskId of this.dispatcher.heldBy(agentId)) scope.send(taskId, { type: 'task.agent_lost', agentId });
      },
      openTasks: (_a, p, scope) => {
        const { ticketId, phase } = p as { ticketId: string; phase: string };
        const phaseId = phaseIdOf(ticketId, phase);
        for (const taskId of this.phaseWaiting.get(phaseId) ?? []) scope.send(taskId, { type: 'task.phase.opened' });
        this.phaseWaiting.delete(phaseId);
      },
      ...ticketEffects(this.ticketDeps),
      ticketSettled: (actor, _p, scope) => scope.afterCommit(() => this.wakeSettled(actor)),
    });
    this.host = new ActorHost({
      store: options.store,
      clock: options.clock,
      random: options.random,
      machines: options.machines,
      effects,
      beforeCommit: (scope) => this.dispatch(scope),
      resolveKinds: async (kinds) => {
        for (const resolve of this.kindResolvers) await resolve(kinds);
      },
      onCommitted: (events) => this.bus.publish(events),
      onFailure: (error) => {
        this.logger.error({ err: error }, 'store failed; the runtime stopped accepting work');
        // No actor will settle any more: whoever waits for one hears why.
        this.rejectSettleWaiters(error);
        this.runHooks(this.failureHooks, error, 'failure');
      },
      onError: (error, where) => this.logger.error({ err: error, ...where }, 'actor error'),
    });
  }

  /**
   * Adds handlers for the named effects of further machines (coordinators register theirs).
   * A name already taken is refused, so an extension cannot silently replace a core effect.
   */
  addEffects(handlers: Record<string, EffectHandler>): void {
    for (const [name, handler] of Object.entries(handlers)) {
      if (name in this.effects) throw new Error(`effect "${name}" already has a handler`);
      this.effects[name] = handler;
    }
  }

  /**
   * Calls `listener` inside the batch whenever a task settles, so extensions (joins, sync
   * points) can send messages that commit together with the settlement.
   */
  addSettleListener(listener: (task: TaskContext, status: TaskStatus, scope: BatchScope) => void): void {
    this.settleListeners.push(listener);
  }

  /**
   * Calls `listener` inside the batch whenever a task's lease ends (completed, failed, timed out,
   * lost, declined, cancelled); the task's snapshot is already the one after the change.
   */
  addLeaseListener(listener: (task: LiveActor, ended: LeaseEndedParams, scope: BatchScope) => void): void {
    this.leaseListeners.push(listener);
  }

  /** Calls `hook` after a restart with every restored live actor, to rebuild extension indexes. */
  onRecovered(hook: (actors: LiveActor[]) => void): void {
    this.recoveryHooks.push(hook);
  }

  /**
   * Calls `hook` once if the actor host fails (a store commit or read failed): from then on no
   * actor answers, so extensions reject the calls still waiting for one.
   */
  onFailure(hook: (error: TroupeError) => void): void {
    this.failureHooks.push(hook);
  }

  /** Calls `hook` when the runtime stops: no answer will come to calls still waiting for one. */
  onStop(hook: () => void): void {
    this.stopHooks.push(hook);
  }

  /** Stops timers and the dispatcher, then tells the stop hooks. */
  stop(): void {
    this.host.stop();
    this.dispatcher.stop();
    this.rejectSettleWaiters(new TroupeError('E_RUNTIME_STOPPED', 'the runtime stopped before the actor settled'));
    this.runHooks(this.stopHooks, undefined, 'stop');
  }

  private rejectSettleWaiters(error: TroupeError): void {
    const waiting = [...this.settleWaiters.values()].flat();
    this.settleWaiters.clear();
    for (const w of waiting) w.reject(error);
  }

  /**
   * Calls `resolve` with stored actor kinds no machine is registered for, before such actors are
   * restored (on start, or when a settled one is read back); it may register them.
   */
  addKindResolver(resolve: (kinds: string[]) => Promise<void>): void {
    this.kindResolvers.push(resolve);
  }

  /** Resolves the waiters of an actor that settled (for extension actors that settle). */
  notifySettled(actor: LiveActor): void {
    this.wakeSettled(actor);
  }

  /**
   * Rebuilds the indexes from the actors restored after a restart. Resolves once the waiting
   * tasks whose dependencies settled before the crash have been told so (sent, not yet committed).
   */
  async rebuildIndexes(): Promise<void> {
    const restored = [...this.host.liveActors()];
    // Work that ran after a commit and may have been cut short by the crash, done again.
    const followUps: Array<() => Promise<void>> = [];
    for (const hook of this.recoveryHooks) hook(restored);
    for (const actor of restored) {
      if (actor.kind === 'ticket' || actor.kind === 'phase') {
        followUps.push(() => resumeTicketWork(this.ticketDeps, actor));
        continue;
      }
      if (actor.kind === 'agent') {
        const c = actor.snapshot.context as {
          id: string;
          capabilities: string[];
          capacity: number;
          transport: 'in-process' | 'websocket';
        };
        const status = actor.snapshot.value;
        if (typeof status === 'object' && status !== null && 'active' in status) {
          this.dispatcher.addAgent({
            agentId: c.id,
            capabilities: c.capabilities,
            capacity: c.capacity,
            transport: c.transport,
          });
        }
        continue;
      }
      if (actor.kind !== 'task') continue;
      const c = actor.snapshot.context as TaskContext;
      const value = actor.snapshot.value;
      if (value === 'waiting') {
        // A dependency that is not live settled before the crash, but the message saying so (sent
        // after the commit that created this task, or in a later batch) may not have been stored.
        const send = (to: string, event: HostEvent) => this.host.send(to, event);
        const notLive = this.watchDependencies(c.id, c.pendingDeps, send);
        if (notLive.length > 0) followUps.push(() => this.resolveSettledDeps(c.id, notLive));
        if (!c.phaseOpen) this.watchPhase(c.id, c.spec.ticketId, c.spec.phase, send);
      } else if (value === 'queued') {
        this.dispatcher.enqueue(c.id, c.spec.priority, c.spec.requires, c.spec.controls, c.spec.type);
      } else if (typeof value === 'object' && value !== null && 'leased' in value && c.lease) {
        this.dispatcher.hold(c.lease.agentId, c.id, c.spec.controls);
        if (c.spec.controls) this.dispatcher.restoreRunning(c.spec.controls);
      }
    }
    for (const followUp of followUps) await followUp();
  }

  /** Resolves with the stored record once the actor settles (at once if it already has). */
  async waitSettled(id: string): Promise<StoredActor> {
    const live = this.host.getLive(id);
    if (!live) {
      const stored = await this.options.store.getActor(id);
      if (stored && stored.settled) return stored;
      if (!stored && !this.host.getLive(id)) throw new TroupeError('E_INVALID_INPUT', `no actor has id "${id}"`);
    }
    if (this.host.failed) throw this.host.failed;
    return new Promise((resolve, reject) => {
      const list = this.settleWaiters.get(id) ?? [];
      list.push({ resolve, reject });
      this.settleWaiters.set(id, list);
    });
  }

  private dispatch(scope: BatchScope): void {
    for (const a of this.dispatcher.match()) {
      const leaseId = `${a.taskId}#${this.leasePrefix}${(++this.leaseCount).toString(36)}`;
      scope.send(a.taskId, { type: 'task.assign', agentId: a.agentId, leaseId, autoStart: a.autoStart }, () =>
        this.dispatcher.release(a.agentId, a.taskId),
      );
    }
    // What the match spent of rate limits, stored with the assignments it made (same batch).
    for (const spend of this.dispatcher.takeSpends()) {
      scope.send(`ratelimit:${spend.key}`, {
        type: 'ratelimit.spend',
        units: spend.units,
        at: spend.at,
        reported: false,
      });
    }
    for (const change of this.dispatcher.takeLoadChanges()) {
      scope.send(change.agentId, { type: 'agent.load', load: change.load });
    }
  }

  private onOffer(offer: OfferParams, scope: BatchScope): void {
    scope.afterCommit(() => {
      const transport = this.transports.get(offer.agentId);
      if (transport) transport.offer(offer);
      else {
        // Nobody can take this offer (the agent's process is gone): the task goes back to the queue.
        this.logger.warn({ offer }, 'no transport for agent; handing the task back');
        this.host.send(offer.taskId, { type: 'task.agent_lost', agentId: offer.agentId });
      }
    });
  }

  private onRegisterWaiting(p: RegisterWaitingParams, scope: BatchScope): void {
    const notLive = this.watchDependencies(p.taskId, p.pendingDeps, scope.send);
    // Those dependencies settled before this task was created: read how they ended.
    if (notLive.length > 0) scope.afterCommit(() => this.resolveSettledDeps(p.taskId, notLive));
    if (!p.phaseOpen) this.watchPhase(p.taskId, p.ticketId, p.phase, scope.send);
  }

  /**
   * Indexes a waiting task under each live dependency; answers at once for one that settled in
   * this same batch (still in the live map until the commit, its settle effect already run).
   * Returns the dependencies that are not live: they settled before, and only the store knows how.
   */
  private watchDependencies(
    taskId: string,
    deps: readonly string[],
    send: (to: string, event: HostEvent) => void,
  ): string[] {
    const notLive: string[] = [];
    for (const dep of deps) {
      const live = this.host.getLive(dep);
      const settled = live?.kind === 'task' ? (live.snapshot.context as TaskContext).outcome : null;
      if (live && settled) send(taskId, dependencyOutcome(dep, settled));
      else if (live) this.index(this.dependents, dep, taskId);
      else notLive.push(dep);
    }
    return notLive;
  }

  /** Indexes a task under its phase until the phase opens, or wakes or skips it if that is past. */
  private watchPhase(
    taskId: string,
    ticketId: string | null,
    phase: string | null,
    send: (to: string, event: HostEvent) => void,
  ): void {
    if (ticketId === null || phase === null) return;
    const phaseId = phaseIdOf(ticketId, phase);
    const live = this.host.getLive(phaseId);
    if (live && live.snapshot.value === 'pending') this.index(this.phaseWaiting, phaseId, taskId);
    else if (live) send(taskId, { type: 'task.phase.opened' });
    else send(taskId, { type: 'task.skip', reason: `phase ${phase} is already closed` });
  }

  /** Tells a waiting task how its dependencies that are no longer live ended (read from the store). */
  private async resolveSettledDeps(taskId: string, deps: string[]): Promise<void> {
    const stored = await this.options.store.getActors(deps);
    for (const dep of deps) {
      const record = stored.get(dep);
      // Revived since (a reworked dependency): it will report when it settles again.
      if (this.host.getLive(dep)) this.index(this.dependents, dep, taskId);
      else this.host.send(taskId, dependencyOutcome(dep, record ? (record.state as TaskStatus) : 'missing'));
    }
  }

  private onTaskSettled(actor: LiveActor, p: SettledParams, scope: BatchScope): void {
    const waiting = this.dependents.get(p.taskId);
    if (waiting) {
      this.dependents.delete(p.taskId);
      for (const taskId of waiting) scope.send(taskId, dependencyOutcome(p.taskId, p.status));
    }
    if (p.ticketId !== null && p.phase !== null) {
      const context = actor.snapshot.context as TaskContext;
      const phaseId = phaseIdOf(p.ticketId, p.phase);
      if (p.role === 'validator') {
        const result = context.output?.result as { approved?: unknown; feedback?: unknown } | null | undefined;
        const approved = p.status === 'succeeded' && result?.approved === true;
        const feedback =
          typeof result?.feedback === 'string'
            ? result.feedback
            : p.status === 'succeeded'
              ? null
              : `validator ${p.status}`;
        scope.send(phaseId, { type: 'phase.validator_settled', taskId: p.taskId, approved, feedback });
      } else {
        scope.send(phaseId, {
          type: 'phase.task_settled',
          taskId: p.taskId,
          status: p.status,
          artifacts: Object.keys(context.output?.artifacts ?? {}),
          quality: context.output?.quality ?? null,
        });
      }
    }
    for (const listener of this.settleListeners) listener(actor.snapshot.context as TaskContext, p.status, scope);
    scope.afterCommit(() => this.wakeSettled(actor));
  }

  private wakeSettled(actor: LiveActor): void {
    const waiters = this.settleWaiters.get(actor.id);
    if (!waiters) return;
    this.settleWaiters.delete(actor.id);
    const record = storedRecordOf(actor, this.options.clock.now());
    for (const w of waiters) w.resolve(record);
  }

  /**
   * A hook that throws must not keep the others from running; on failure it would also escape
   * into the host's failure path and replace the store's error with its own.
   */
  private runHooks<A>(hooks: ReadonlyArray<(arg: A) => void>, arg: A, on: 'failure' | 'stop'): void {
    for (const hook of hooks) {
      try {
        hook(arg);
      } catch (error) {
        this.logger.error({ err: error }, `${on} hook threw`);
      }
    }
  }

  private index(map: Map<string, Set<string>>, key: string, value: string): void {
    let set = map.get(key);
    if (!set) {
      set = new Set();
      map.set(key, set);
    }
    set.add(value);
  }
}

/** The message that tells a waiting task how one of its dependencies ended. */
function dependencyOutcome(dep: string, status: string): HostEvent {
  return status === 'succeeded'
    ? { type: 'task.dependency.succeeded', taskId: dep }
    : { type: 'task.dependency.failed', taskId: dep, status };
}

export function defaultLogger(): Logger {
  return pino({ level: process.env.TROUPE_LOG_LEVEL ?? 'warn' }, pino.destination(2));
}

export { DEFAULT_RETRY_POLICY };
