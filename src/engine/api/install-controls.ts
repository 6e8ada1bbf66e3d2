import {
  breakerIdOf,
  breakerMachine,
  type BreakerContext,
  type BreakerStateParams,
  type BreakerStatus,
} from '../../core/controls/breaker-machine.js';
import { bulkheadMachine } from '../../core/controls/bulkhead-machine.js';
import type { BulkheadDefinition } from '../../core/controls/bulkhead-rules.js';
import {
  rateLimitMachine,
  type RateLimitContext,
  type RateLimitStateParams,
} from '../../core/controls/rate-limit-machine.js';
import type { TaskContext } from '../../core/machines/task-types.js';
import { ControlsApi } from './controls-api.js';
import { DeadLetterApi } from './dead-letter-api.js';
import type { MachineDefinition } from '../machine-registry.js';
import type { RuntimeCore } from '../runtime-core.js';
import { DeadLetterIndex, deadLetterOf } from '../controls/dead-letter-index.js';

/** The machines of the production controls, each stored under its kind. */
export const CONTROL_MACHINES: MachineDefinition[] = [
  { kind: 'ratelimit', machineId: 'troupe.control.ratelimit', version: 1, machine: rateLimitMachine },
  { kind: 'breaker', machineId: 'troupe.control.breaker', version: 1, machine: breakerMachine },
  { kind: 'bulkhead', machineId: 'troupe.control.bulkhead', version: 1, machine: bulkheadMachine },
];

export interface ControlsInstallOptions {
  ready: () => Promise<void>;
  maxPayloadBytes: number;
}

/**
 * Adds the production controls to a runtime core: the machines of rate limits, breakers and
 * bulkheads with the effects that keep the dispatcher's copies current, the breakers' hearing of
 * task outcomes (inside the batch that ends the attempt), the dead-letter index, and the rebuild
 * of all of it after a restart.
 */
export function installControls(
  core: RuntimeCore,
  options: ControlsInstallOptions,
): { controls: ControlsApi; deadLetters: DeadLetterApi } {
  for (const definition of CONTROL_MACHINES) core.options.machines.register(definition);
  const dispatcher = core.dispatcher;
  const gates = dispatcher.gates;
  const setBreaker = (key: string, status: BreakerStatus, probes: number): void => {
    gates.setBreaker(key, status, probes);
    if (status !== 'open') dispatcher.reopen(`breaker:${key}`);
  };
  core.addEffects({
    rateLimitState: (_a, p) => {
      const { def, budget } = p as unknown as RateLimitStateParams;
      gates.setLimit(def, budget);
      dispatcher.reopen(`ratelimit:${def.key}`);
    },
    breakerState: (_a, p) => {
      const s = p as unknown as BreakerStateParams;
      setBreaker(s.key, s.status, s.probes);
    },
    bulkheadState: (_a, p) => {
      gates.setBulkhead((p as unknown as { def: BulkheadDefinition }).def);
      dispatcher.reopenAll('bulkhead:');
    },
  });
  core.addLeaseListener((actor, ended, scope) => {
    if (ended.rejected) return;
    const c = actor.snapshot.context as TaskContext;
    const keys = gates.breakerKeys({ controls: c.spec.controls ?? {}, type: c.spec.type, requires: c.spec.requires });
    if (keys.length === 0) return;
    const error = c.attempts[c.attempts.length - 1]?.error;
    const ok = c.outcome === 'succeeded';
    // A lost agent or a cancellation says nothing of the dependency the breaker guards.
    const failed = !ok && error !== undefined && error.category !== 'agent-lost' && error.category !== 'cancelled';
    for (const key of keys) {
      if (ok || failed) scope.send(breakerIdOf(key), { type: 'breaker.outcome', ok, taskId: c.id });
      else if (gates.probeReturned(key)) dispatcher.reopen(`breaker:${key}`);
    }
  });
  const index = new DeadLetterIndex();
  const deadLetters = new DeadLetterApi(core, options.ready, index, options.maxPayloadBytes);
  core.addSettleListener((task, status) => {
    if (status !== 'dead_lettered') {
      index.delete(task.id);
      return;
    }
    index.add(deadLetterOf(task));
  });
  core.onRecovered((actors) => {
    for (const actor of actors) {
      if (actor.kind === 'ratelimit') {
        const c = actor.snapshot.context as RateLimitContext;
        gates.setLimit(c.def, c.budget);
      } else if (actor.kind === 'breaker') {
        const c = actor.snapshot.context as BreakerContext;
        setBreaker(c.key, actor.snapshot.value as BreakerStatus, c.policy.probes);
      } else if (actor.kind === 'bulkhead') {
        gates.setBulkhead((actor.snapshot.context as { def: BulkheadDefinition }).def);
      }
    }
  });
  return { controls: new ControlsApi(core, options.ready), deadLetters };
}
