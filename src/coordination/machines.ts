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
export { joinMachine } from '../machines/coordination/join-machine.js';
export { splitMachine } from '../machines/coordination/split-machine.js';
export { guardMachine } from '../machines/coordination/guard-machine.js';
export { routeMachine } from '../machines/coordination/route-machine.js';
export { sagaMachine } from '../machines/coordination/saga-machine.js';
export { resourceMachine } from '../machines/coordination/resource-machine.js';
export { barrierMachine } from '../machines/coordination/barrier-machine.js';
export { qualityMachine } from '../machines/coordination/quality-machine.js';
export { COORDINATION_MACHINES } from './install.js';
