/**
 * The coordinator machines, re-exported in one place for `xstate/graph` traversal and
 * inspection. They are pure: every effect is a named action the runtime carries out.
 *
 * @example
 * ```ts
 * import { createTestModel } from 'xstate/graph';
 * import { joinMachine } from 'troupe';
 * const paths = createTestModel(joinMachine, { input, events }).getShortestPaths();
 * ```
 */
export { joinMachine } from '../../core/coordination/join-machine.js';
export { splitMachine } from '../../core/coordination/split-machine.js';
export { guardMachine } from '../../core/coordination/guard-machine.js';
export { routeMachine } from '../../core/coordination/route-machine.js';
export { sagaMachine } from '../../core/coordination/saga-machine.js';
export { resourceMachine } from '../../core/coordination/resource-machine.js';
export { barrierMachine } from '../../core/coordination/barrier-machine.js';
export { qualityMachine } from '../../core/coordination/quality-machine.js';
export { COORDINATION_MACHINES } from './install.js';
