/**
 * Differential check of the compiled stepper: the model tests step xstate's own algorithm, and
 * this twin steps the compiled one in lockstep from the same input and events. After every step
 * both must agree on whether the event applied, the state value, the context, the status, the
 * tags and the effects asked for (in order, with their params).
 */
import { isDeepStrictEqual } from 'node:util';
import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { CompiledStepper, unsupportedFeature, type CompiledSnapshot } from '../../src/core/stepper/compiled-stepper.js';
import type { RequestedEffect } from '../../src/core/stepper/machine-stepper.js';

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
        throw new Error(`compiled stepper ${got ? 'applied' : 'dropped'} ${event.type} where xstate ${expected ? 'applied' : 'dropped'} it`);
      }
      this.compared++;
      return;
    }
    this.compare(event.type, expected, got);
  }

  private compare(what: string, expected: NonNullable<XstateResult>, got: { snapshot: CompiledSnapshot; effects: RequestedEffect[] }): void {
    const x = expected.snapshot;
    const c = got.snapshot;
    const mismatch = (field: string, a: unknown, b: unknown): never => {
      throw new Error(`compiled stepper differs from xstate after ${what} in ${field}:\n xstate:   ${JSON.stringify(a)}\n compiled: ${JSON.stringify(b)}`);
    };
    if (!isDeepStrictEqual(c.value, x.value)) mismatch('value', x.value, c.value);
    if (c.status !== x.status) mismatch('status', x.status, c.status);
    if (!isDeepStrictEqual(c.context, x.context)) mismatch('context', x.context, c.context);
    const tags = [...x.tags].sort();
    const twinTags = tags.filter((t) => c.hasTag(t));
    if (twinTags.length !== tags.length || [...c.leaf.tags].length !== tags.length) mismatch('tags', tags, [...c.leaf.tags].sort());
    if (!isDeepStrictEqual(got.effects, expected.effects)) mismatch('effects', expected.effects, got.effects);
    this.twins.set(x, c);
    this.compared++;
  }
}
