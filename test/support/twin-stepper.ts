/**
 * Differential check of the compiled stepper: the model tests step xstate's own algorithm, and
 * this twin steps the compiled one in lockstep from the same input and events. After every step
 * both must agree on whether the event applied, the state value, the context, the status, the
 * tags and the effects asked for (in order, with their params).
 */
import { isDeepStrictEqual } from 'node:util';
import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { CompiledStepper, unsupportedFeature, type CompiledSnapshot } from '../../src/core/stepper/compiled-stepper.js';
import { MachineStepper, type RequestedEffect } from '../../src/core/stepper/machine-stepper.js';

type XstateResult = { snapshot: AnyMachineSnapshot; effects: RequestedEffect[] } | undefined;

export class TwinStepper {
  private readonly compiled: CompiledStepper | undefined;
  private readonly twins = new WeakMap<AnyMachineSnapshot, CompiledSnapshot>();
  /** Steps compared so far (a model test can assert the twin really ran). */
  compared = 0;

  constructor(machine: AnyStateMachine) {
    this.compiled = unsupportedFeature(machine) === undefined ? new CompiledStepper(machine) : undefined;
  }

  get active(): boolean {
    return this.compiled !== undefined;
  }

  initial(input: unknown, expected: NonNullable<XstateResult>): void {
    if (!this.compiled) return;
    const got = this.compiled.initial(input);
    this.compare('init', expected, got);
  }

  step(before: AnyMachineSnapshot, event: EventObject, expected: XstateResult): void {
    if (!this.compiled) return;
    const twin = this.twins.get(before);
    if (!twin) throw new Error('twin stepper: no compiled snapshot for this state (was it reached through the twin?)');
    const got = this.compiled.step(twin, event);
    // Not applied: the next state is the one before, on both sides.
    if (!expected || !got) {
      if (expected || got) {
        throw new Error(
          `compiled stepper ${got ? 'applied' : 'dropped'} ${event.type} where xstate ${expected ? 'applied' : 'dropped'} it`,
        );
      }
      this.compared++;
      return;
    }
    this.compare(event.type, expected, got);
  }

  private compare(
    what: string,
    expected: NonNullable<XstateResult>,
    got: { snapshot: CompiledSnapshot; effects: RequestedEffect[] },
  ): void {
    const x = expected.snapshot;
    const c = got.snapshot;
    const mismatch = (field: string, a: unknown, b: unknown): never => {
      throw new Error(
        `compiled stepper differs from xstate after ${what} in ${field}:\n xstate:   ${JSON.stringify(a)}\n compiled: ${JSON.stringify(b)}`,
      );
    };
    if (!isDeepStrictEqual(c.value, x.value)) mismatch('value', x.value, c.value);
    if (c.status !== x.status) mismatch('status', x.status, c.status);
    if (!isDeepStrictEqual(c.context, x.context)) mismatch('context', x.context, c.context);
    const tags = [...x.tags].sort();
    const twinTags = tags.filter((t) => c.hasTag(t));
    if (twinTags.length !== tags.length || [...c.leaf.tags].length !== tags.length)
      mismatch('tags', tags, [...c.leaf.tags].sort());
    if (!isDeepStrictEqual(got.effects, expected.effects)) mismatch('effects', expected.effects, got.effects);
    this.twins.set(x, c);
    this.compared++;
  }
}

/** What a lockstep exploration covered. */
export interface Exploration {
  /** Distinct snapshots (value, context, status) reached. */
  states: number;
  /** Steps taken by both steppers and compared (every event from every state, dropped ones included). */
  steps: number;
  /** Steps in which the event applied (a new snapshot or effects). */
  applied: number;
}

/**
 * Every reachable snapshot of `machine`, stepped with every one of `events`, on xstate's own
 * stepper and the compiled one in lockstep (breadth first, from the initial snapshot for `input`).
 * A snapshot is identified by its value, context and status, so the space must be finite: a
 * machine whose context keeps changing fails at `limit` states instead of running on.
 */
export function exploreInLockstep(
  machine: AnyStateMachine,
  input: unknown,
  events: readonly EventObject[],
  limit = 5_000,
): Exploration {
  const xstate = new MachineStepper(machine);
  const twin = new TwinStepper(machine);
  if (!twin.active) throw new Error(`machine ${machine.id} is not compiled: ${unsupportedFeature(machine)}`);
  const first = xstate.initial(input);
  twin.initial(input, first);
  const key = (s: AnyMachineSnapshot): string => JSON.stringify([s.status, s.value, s.context]);
  const seen = new Set([key(first.snapshot)]);
  const queue = [first.snapshot];
  let applied = 0;
  for (let i = 0; i < queue.length; i++) {
    const snapshot = queue[i] as AnyMachineSnapshot;
    if (snapshot.status !== 'active') continue;
    for (const event of events) {
      const result = xstate.step(snapshot, event);
      try {
        twin.step(snapshot, event, result);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n from ${key(snapshot)}`, { cause: error });
      }
      if (result === undefined) continue;
      applied++;
      const k = key(result.snapshot);
      if (seen.has(k)) continue;
      if (seen.size >= limit)
        throw new Error(`machine ${machine.id}: more than ${limit} states; is its context bounded?`);
      seen.add(k);
      queue.push(result.snapshot);
    }
  }
  return { states: seen.size, steps: twin.compared - 1, applied };
}
