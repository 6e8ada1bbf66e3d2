import { createActor, type AnyStateMachine, type AnyMachineSnapshot, type StateValue } from 'xstate';

/** An action a machine asked for, with its resolved params. */
export interface RequestedEffect {
  type: string;
  params: Record<string, unknown>;
}

/**
 * What the runtime reads of a machine's state: xstate's `MachineSnapshot` satisfies it, and so do
 * the lighter snapshots of the compiled stepper.
 */
export interface SteppedSnapshot {
  readonly value: StateValue;
  readonly context: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- each machine has its own context type
  readonly status: 'active' | 'done' | 'error' | 'stopped';
  hasTag(tag: string): boolean;
}

export interface StepResult<S extends SteppedSnapshot = SteppedSnapshot> {
  snapshot: S;
  effects: RequestedEffect[];
}

/**
 * Steps a pure machine: snapshot and event in, next snapshot and requested effects out.
 * Implementations: {@link MachineStepper} (xstate's own algorithm) and `CompiledStepper` (the same
 * machine definition, run from precomputed transition plans).
 */
export interface Stepper<S extends SteppedSnapshot = SteppedSnapshot> {
  readonly machine: AnyStateMachine;
  /** The snapshot after the machine's initial macrostep; throws when the machine cannot start. */
  initial(input: unknown): StepResult<S>;
  /**
   * Returns `undefined` when no transition accepted the event. A transition that only asks for
   * effects leaves the snapshot as it was, so "applied" means a new snapshot OR requested effects.
   */
  step(snapshot: S, event: { type: string }): StepResult<S> | undefined;
  /** Rebuilds a snapshot from its stored value and context. */
  restore(value: unknown, context: unknown): S;
}

/** The part of xstate's internal actor scope this reads (test/stepper-xstate-contract.test.ts checks it). */
interface ActorScopeLike {
  actionExecutor: (action: { type: string; params?: unknown }) => void;
}

/**
 * Steps a machine with xstate's own transition algorithm.
 *
 * xstate's public `transition()` builds a throwaway actor on every call (about 60 µs per step on
 * the reference machine), while `machine.transition()` with one reused actor scope costs about
 * 10 µs. The host therefore keeps one never-started actor per machine and borrows its scope,
 * replacing the action executor with a collector: no action implementation ever runs, every
 * custom action comes back as data for the runtime to carry out.
 */
export class MachineStepper<M extends AnyStateMachine = AnyStateMachine> implements Stepper<AnyMachineSnapshot> {
  readonly machine: M;
  private readonly scope: ActorScopeLike;
  private collected: RequestedEffect[] = [];

  constructor(machine: M) {
    this.machine = machine;
    const carrier = createActor(machine) as unknown as { _actorScope: ActorScopeLike };
    this.scope = carrier._actorScope;
    this.scope.actionExecutor = (action) => {
      // Custom, named actions reach the executor, and those are the effects. Built-ins are
      // resolved inside the transition (assign's context, raise's internal event); the ones with
      // something left to do afterwards (a delayed raise, sendTo, log, ...) reach it too, and come
      // back under their xstate type, which the host refuses by name. An undelayed raise has
      // nothing left to do (xstate's executeRaise returns at once): it is no effect.
      if (
        action.type === 'xstate.raise' &&
        typeof (action.params as { delay?: unknown } | undefined)?.delay !== 'number'
      )
        return;
      this.collected.push({ type: action.type, params: (action.params ?? {}) as Record<string, unknown> });
    };
  }

  initial(input: unknown): StepResult<AnyMachineSnapshot> {
    this.collected = [];
    const snapshot = this.machine.getInitialSnapshot(this.scope as never, input) as AnyMachineSnapshot;
    // xstate turns a throwing context factory or entry action into an `error` snapshot.
    if (snapshot.status === 'error') throw snapshot.error;
    return { snapshot, effects: this.collected };
  }

  step(snapshot: AnyMachineSnapshot, event: { type: string }): StepResult<AnyMachineSnapshot> | undefined {
    this.collected = [];
    const next = this.machine.transition(snapshot, event as never, this.scope as never) as AnyMachineSnapshot;
    if (next === snapshot && this.collected.length === 0) return undefined;
    return { snapshot: next, effects: this.collected };
  }

  restore(value: unknown, context: unknown): AnyMachineSnapshot {
    return this.machine.resolveState({ value, context } as never) as AnyMachineSnapshot;
  }
}
