import { randomUUID } from 'node:crypto';
import { TroupeError } from '../../../core/errors.js';
import type { CustomMerge } from '../../../core/coordination/merge-strategies.js';
import type { LiveActor } from '../../../engine/host-types.js';
import { phaseIdOf, type RuntimeCore } from '../../../engine/runtime-core.js';
import { assertJson } from '../../../core/json-value.js';
import type { TroupeEvent } from '../../../engine/event-bus.js';
import { checkPatternSource, type PatternReport } from '../check-pattern.js';
import type { CompiledPattern } from '../compile/compile.js';
import { PatternLibrary } from '../load/library.js';
import { PatternValidationError } from '../problems/problems.js';
import { PATTERN_DEFINITION_KIND, PATTERN_DEFINITION_MACHINE, PatternDefinitions } from './definitions.js';
import { PatternDriver } from './driver.js';
import { isPatternKind, RegisteredPatterns } from './registered.js';
import { runView, type PatternRunView } from './run-view.js';
import { pageViews, type PageRequest, type ViewPage } from '../../../engine/api/view-paging.js';
import type { PatternHost } from './pattern-host.js';
import { PatternTickets } from './pattern-tickets.js';
import { assertUserId } from '../../../core/reserved-ids.js';

/** Which pattern: a name in the library (built-in or added), or a compiled pattern. */
export type PatternRef = string | CompiledPattern;

/**
 * A pattern run for `runtime.patterns.apply`: the pattern (a library name or a compiled pattern), its inputs, and the ticket it works for.
 *
 * @example
 * ```ts
 * const run = await runtime.patterns.apply({ pattern: 'pipeline', inputs: { dataset: 'orders' } });
 * ```
 */
export interface ApplyPatternInput {
  pattern: PatternRef;
  /** Input values; inputs without one take their default. */
  inputs?: Record<string, unknown>;
  /** The run's id (default `run-<uuid>`); its tasks are `<runId>/<step>...`. */
  runId?: string;
  /** The ticket the run works for: its tasks belong to the ticket and see its context. */
  ticketId?: string;
  /** A phase of that ticket: the run starts when the phase opens, and the phase waits for it. */
  phase?: string;
}

/**
 * Patterns on the runtime: apply a pattern (alone, to a ticket, or to a phase of one), create
 * tickets whose phases each use a pattern, and signal, cancel, inspect and await runs. Each run
 * is a coordinator actor whose machine is the pattern's compiled statechart.
 *
 * @example
 * ```ts
 * const run = await runtime.patterns.apply({ pattern: 'fork_join', inputs: { branches: ['lint', 'test'] } });
 * const done = await runtime.patterns.wait(run.id);
 * console.log(done.status); // 'completed'
 * ```
 */
export class PatternApi {
  private known: PatternLibrary | undefined;
  readonly tickets: PatternTickets;
  private readonly registered: RegisteredPatterns;
  private readonly definitions: PatternDefinitions;
  private readonly driver: PatternDriver;
  private readonly core: RuntimeCore;
  /** Runs waiting for their phase to open, by phase id. */
  private readonly waitingForPhase = new Map<string, Set<string>>();

  constructor(private readonly host: PatternHost) {
    this.core = host.core;
    this.registered = new RegisteredPatterns(this.core.options.machines);
    // Each pattern kind's definition is stored with its first run; after a restart the kind of a
    // stored run is compiled again from it before the run is restored.
    this.definitions = new PatternDefinitions({
      host: this.core.host,
      store: this.core.options.store,
      registered: this.registered,
      logger: this.core.logger,
    });
    this.core.options.machines.register(PATTERN_DEFINITION_MACHINE);
    this.core.addKindResolver((kinds) => this.definitions.resolve(kinds.filter(isPatternKind)));
    this.driver = new PatternDriver(this.core, this.registered, this.core.options.retry, host.coordination);
    this.core.addEffects(this.driver.effects());
    this.core.addSettleListener((task, _status, scope) => this.driver.onTaskSettled(task, scope));
    this.core.onRecovered((actors) => this.recover(actors));
    host.events.subscribe({ types: ['phase.opened'] }, (e) => this.phaseOpened(e));
    host.events.subscribe({ types: ['ticket.cancelled', 'ticket.failed'] }, (e) => this.ticketEnded(e));
    this.tickets = new PatternTickets(host.tickets, this);
  }

  /** Patterns known by name: the built-ins (read on first use), and those added with `add`. */
  get library(): PatternLibrary {
    this.known ??= PatternLibrary.builtIn();
    return this.known;
  }

  /** Adds a pattern file to the library (for `use:` and to apply it by name); returns its problems. */
  add(text: string, file: string): PatternReport {
    const source = this.library.add(text, file);
    return checkPatternSource(source, { library: this.library, mergeFunctions: new Set(this.driver.merges.keys()) });
  }

  /**
   * Registers a custom merge function for `merge: { strategy: custom, function: <name> }`, with
   * the coordination API too (it merges task results). Must be pure.
   */
  registerMerge(name: string, fn: CustomMerge): void {
    this.host.coordination.registerMerge(name, fn);
    this.driver.merges.set(name, fn);
  }

  /** Checks a pattern with input values against this runtime (its agents, its merge functions). */
  check(pattern: string, inputs: Record<string, unknown> = {}): PatternReport {
    // Input values end up in tasks and snapshots: they must be plain JSON.
    assertJson(inputs, `inputs of pattern ${pattern}`);
    const source = this.library.get(pattern);
    if (!source)
      throw new TroupeError('E_INVALID_INPUT', `no pattern is named "${pattern}"; add it with runtime.patterns.add`);
    const agents = [...this.core.host.liveActors()]
      .filter((a) => a.kind === 'agent')
      .map((a) => (a.snapshot.context as { capabilities: string[] }).capabilities);
    return checkPatternSource(source, {
      library: this.library,
      values: inputs,
      requireInputs: true,
      agents,
      mergeFunctions: new Set(this.driver.merges.keys()),
    });
  }

  /** Compiles a pattern with input values; throws `PatternValidationError` with every problem if it has errors. */
  compile(pattern: string, inputs: Record<string, unknown> = {}): CompiledPattern {
    const report = this.check(pattern, inputs);
    if (!report.ok || !report.compiled) throw new PatternValidationError(report.problems);
    return report.compiled;
  }

  /**
   * Makes a compiled pattern's machine known to the runtime and returns its kind. Not needed
   * for restarts: `apply` stores what each pattern kind was compiled from, and unfinished runs
   * are restored from it. Registering before `start()` is still the way to restore runs stored
   * without a definition (by an older version, or of a pattern that does not compile to the same
   * machine from its resolved form).
   */
  register(pattern: PatternRef, inputs: Record<string, unknown> = {}): string {
    return this.registered.register(typeof pattern === 'string' ? this.compile(pattern, inputs) : pattern);
  }

  /** Starts a run of a pattern; with a phase it starts when the phase opens. */
  async apply(input: ApplyPatternInput): Promise<PatternRunView> {
    await this.ready();
    const compiled =
      typeof input.pattern === 'string' ? this.compile(input.pattern, input.inputs ?? {}) : input.pattern;
    const kind = this.registered.register(compiled);
    if (input.runId !== undefined) assertUserId(input.runId, 'runId');
    const runId = input.runId ?? `run-${randomUUID()}`;
    const ticketId = input.ticketId ?? null;
    const phase = input.phase ?? null;
    if (phase !== null && ticketId === null)
      throw new TroupeError('E_INVALID_INPUT', `a phase ("${phase}") needs its ticketId`);
    if (ticketId !== null) await this.checkTicket(ticketId, phase);
    // Queued before the run, so the definition commits with the run or before it.
    const stored = this.definitions.store(kind, compiled, this.library);
    const spawned = await this.core.host.spawn(
      kind,
      runId,
      { runId, pattern: compiled.name, ticketId, phase },
      ticketId,
    );
    await stored;
    if (spawned.error) throw spawned.error;
    if (ticketId !== null && phase !== null) {
      const phaseId = phaseIdOf(ticketId, phase);
      // The phase counts the run as one of its tasks, so it cannot pass before the run ends. It
      // may have ended since `checkTicket` looked: then the run, not started yet, is cancelled.
      const joined = await this.core.host.request(phaseId, { type: 'phase.task_added', taskId: runId });
      if (!joined.applied) await this.refuseEndedPhase(runId, ticketId, phase);
      if (this.core.host.getLive(phaseId)?.snapshot.value === 'pending') {
        this.awaitPhase(phaseId, runId);
        return this.get(runId);
      }
    }
    const started = await this.core.host.request(runId, { type: 'pattern.start' });
    if (started.error) throw started.error;
    return this.get(runId);
  }

  /** Sends a named signal to a run (what a `wait` step waits for). */
  async signal(runId: string, name: string): Promise<PatternRunView> {
    await this.get(runId);
    const outcome = await this.core.host.request(runId, { type: 'pattern.signal', name });
    if (outcome.error) throw outcome.error;
    if (!outcome.applied)
      throw new TroupeError('E_INVALID_STATE', `pattern run ${runId} is not waiting for signal "${name}"`);
    return this.get(runId);
  }

  /** Cancels a run; its unfinished tasks are cancelled with it. */
  async cancel(runId: string, reason = 'cancelled by request'): Promise<PatternRunView> {
    const run = await this.get(runId);
    const outcome = await this.core.host.request(runId, { type: 'pattern.cancel', reason });
    if (outcome.error) throw outcome.error;
    if (!outcome.applied)
      throw new TroupeError('E_INVALID_STATE', `pattern run ${runId} is ${run.status} and cannot be cancelled`);
    await this.core.host.idle();
    return this.get(runId);
  }

  /** The run as it is now. */
  async get(runId: string): Promise<PatternRunView> {
    await this.ready();
    const live = this.core.host.getLive(runId);
    if (live && isPatternKind(live.kind))
      return runView(live.id, live.kind, live.snapshot.value, live.snapshot.context);
    const stored = await this.core.options.store.getActor(runId);
    if (!stored || !isPatternKind(stored.kind))
      throw new TroupeError('E_UNKNOWN_RUN', `no pattern run has id "${runId}"`);
    return runView(stored.id, stored.kind, stored.state, stored.context);
  }

  /**
   * Every run, live or settled: the live ones from memory, the settled ones from the store by
   * the pattern kinds whose definitions are stored (each kind stores one with its first run).
   */
  async list(): Promise<PatternRunView[]> {
    await this.ready();
    const runs = new Map<string, PatternRunView>();
    for (const actor of this.core.host.liveActors()) {
      if (isPatternKind(actor.kind))
        runs.set(actor.id, runView(actor.id, actor.kind, actor.snapshot.value, actor.snapshot.context));
    }
    const store = this.core.options.store;
    const definitions = await store.listActors({ kind: PATTERN_DEFINITION_KIND });
    for (const definition of definitions) {
      const kind = (definition.context as { kind: string }).kind;
      for (const stored of await store.listActors({ kind, settled: true })) {
        if (!runs.has(stored.id)) runs.set(stored.id, runView(stored.id, stored.kind, stored.state, stored.context));
      }
    }
    return [...runs.values()];
  }

  /**
   * One page of runs, live and settled, in creation order (then id), read by keyset from the
   * store over every pattern kind that has a stored definition (`GET /v1/runs`).
   */
  async page(
    filter: { status?: readonly string[]; ticketId?: string; pattern?: string },
    request: PageRequest,
  ): Promise<ViewPage<PatternRunView>> {
    await this.ready();
    const store = this.core.options.store;
    const kinds = (await store.listActors({ kind: PATTERN_DEFINITION_KIND })).map(
      (d) => (d.context as { kind: string }).kind,
    );
    if (kinds.length === 0) return { items: [], next: null };
    const statuses = filter.status === undefined ? undefined : new Set(filter.status);
    const query = { kinds, ...(filter.ticketId !== undefined ? { ticketId: filter.ticketId } : {}) };
    return pageViews(store, query, request, (stored) => {
      const live = this.core.host.getLive(stored.id);
      const view =
        live !== undefined
          ? runView(live.id, live.kind, live.snapshot.value, live.snapshot.context)
          : runView(stored.id, stored.kind, stored.state, stored.context);
      return (statuses === undefined || statuses.has(view.status)) &&
        (filter.pattern === undefined || view.pattern === filter.pattern)
        ? view
        : undefined;
    });
  }

  /** Resolves once the run has ended (completed, failed, timed out, escalated or cancelled). */
  async wait(runId: string): Promise<PatternRunView> {
    await this.get(runId);
    await this.core.waitSettled(runId);
    return this.get(runId);
  }

  private awaitPhase(phaseId: string, runId: string): void {
    const set = this.waitingForPhase.get(phaseId) ?? new Set<string>();
    set.add(runId);
    this.waitingForPhase.set(phaseId, set);
  }

  private async ready(): Promise<void> {
    await this.host.start();
    if (this.core.host.failed) throw this.core.host.failed;
  }

  private async checkTicket(ticketId: string, phase: string | null): Promise<void> {
    const ticket = await this.host.tickets.get(ticketId);
    if (phase === null) return;
    const found = ticket.phases.find((p) => p.name === phase);
    if (!found) throw new TroupeError('E_UNKNOWN_PHASE', `ticket ${ticketId} has no phase "${phase}"`);
    if (found.status !== 'pending' && found.status !== 'active') {
      throw new TroupeError('E_INVALID_STATE', `phase "${phase}" of ticket ${ticketId} is ${found.status}`);
    }
  }

  private async refuseEndedPhase(runId: string, ticketId: string, phase: string): Promise<never> {
    const reason = `phase "${phase}" of ticket ${ticketId} ended before run ${runId} could join it`;
    await this.core.host.request(runId, { type: 'pattern.cancel', reason });
    throw new TroupeError('E_INVALID_STATE', `${reason}; the run was cancelled`, {
      details: { runId, ticketId, phase },
    });
  }

  private phaseOpened(event: TroupeEvent): void {
    if (event.ticketId === null || event.phase === null) return;
    const phaseId = phaseIdOf(event.ticketId, event.phase);
    const runs = this.waitingForPhase.get(phaseId);
    if (!runs || this.core.host.failed) return;
    this.waitingForPhase.delete(phaseId);
    for (const runId of runs) this.core.host.send(runId, { type: 'pattern.start' });
  }

  private ticketEnded(event: TroupeEvent): void {
    if (event.ticketId === null || this.core.host.failed) return;
    for (const actor of this.core.host.liveActors()) {
      if (isPatternKind(actor.kind) && actor.ticketId === event.ticketId) {
        this.core.host.send(actor.id, {
          type: 'pattern.cancel',
          reason: `ticket ${event.ticketId} ended (${event.type})`,
        });
      }
    }
  }

  /** After a restart: runs take up their work; runs waiting for a phase wait again (or start). */
  private recover(actors: LiveActor[]): void {
    this.driver.recover(actors);
    for (const actor of actors) {
      if (!isPatternKind(actor.kind) || actor.snapshot.value !== 'pending') continue;
      const { ticketId, phase } = actor.snapshot.context as { ticketId: string | null; phase: string | null };
      if (ticketId === null || phase === null) {
        this.core.host.send(actor.id, { type: 'pattern.start' });
        continue;
      }
      const phaseId = phaseIdOf(ticketId, phase);
      if (this.core.host.getLive(phaseId)?.snapshot.value === 'pending') this.awaitPhase(phaseId, actor.id);
      else this.core.host.send(actor.id, { type: 'pattern.start' });
    }
  }
}
