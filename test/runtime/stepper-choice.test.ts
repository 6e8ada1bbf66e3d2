import { describe, expect, it } from 'vitest';
import { CompiledStepper } from '../../src/core/stepper/compiled-stepper.js';
import { MachineStepper } from '../../src/core/stepper/machine-stepper.js';
import { MachineRegistry } from '../../src/engine/machine-registry.js';
import { COORDINATION_MACHINES } from '../../src/features/coordination/install.js';

/**
 * `npm test` runs this folder twice (vitest.config.ts): with the compiled stepper, and with
 * TROUPE_STEPPER=xstate. This checks that the variable really switches what the runtime runs.
 */
describe('the stepper a runtime runs its machines on', () => {
  const xstate = process.env.TROUPE_STEPPER === 'xstate';

  it(`is ${xstate ? "xstate's (TROUPE_STEPPER=xstate)" : 'the compiled one'} for every built-in and coordination machine`, () => {
    const registry = new MachineRegistry();
    for (const definition of COORDINATION_MACHINES) registry.register(definition);
    for (const kind of ['task', 'agent', 'phase', 'ticket', ...COORDINATION_MACHINES.map((d) => d.kind)]) {
      const stepper = registry.get(kind).stepper;
      expect(stepper, kind).toBeInstanceOf(xstate ? MachineStepper : CompiledStepper);
    }
  });
});
