import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { describe, expect, it } from 'vitest';
import { bulkheadMachine } from '../../src/core/controls/bulkhead-machine.js';
import type { BulkheadDefinition } from '../../src/core/controls/bulkhead-rules.js';
import { ControlGates } from '../../src/engine/controls/control-gates.js';
import {
  check,
  checkEffectKinds,
  checkEqual,
  only,
  runModel,
  sample,
  type ModelConfig,
  type SnapshotOf,
  type StepRecord,
  describeModelRuns,
} from './helpers.js';

/**
 * The bulkhead machine keeps a class of work's definition; the dispatcher's gate applies it with
 * the other classes' and the running counts. After every step of every path (each a change of
 * the definition), the oracle explores every way work can start and finish on agents of 1 to 5
 * slots, the gate deciding each start, and checks what bulkheads promise: no class runs more than
 * its cap, the slots reserved for a class stay free while it does not use them, and a class below
 * its reservation always gets a free slot (also when the reservations add up to more than the
 * agents have: then first come, first served).
 */

type Context = { def: BulkheadDefinition };
type Snap = SnapshotOf<Context>;

/** The class under test, changed along the paths, next to one that keeps 2 slots and one with none. */
const CLASS = 'batch';
const NEIGHBOUR: BulkheadDefinition = { name: 'critical', reserved: 2 };
/** A task of no class: `null`. */
const CLASSES = [CLASS, NEIGHBOUR.name, null] as const;
type Running = [batch: number, critical: number, none: number];

const define = (label: string, def: Omit<BulkheadDefinition, 'name'>, now: number) =>
  sample(label, { type: 'bulkhead.define' as const, def: { name: CLASS, ...def }, now });

function events(snapshot: AnyMachineSnapshot): EventObject[] {
  void snapshot;
  const now = 1_000;
  return [
    define('define:max-2', { max: 2 }, now),
    define('define:half', { maxShare: 0.5 }, now),
    define('define:reserve-1-max-3', { reserved: 1, max: 3 }, now),
    define('define:reserve-2', { reserved: 2 }, now),
    define('define:open', {}, now),
  ];
}

const key = (snapshot: AnyMachineSnapshot): string => JSON.stringify((snapshot as Snap).context.def);

/** The cap of a class, worked out apart from bulkheadCap. */
function capOf(def: BulkheadDefinition | undefined, capacity: number): number {
  if (!def) return Infinity;
  const byShare = def.maxShare === undefined ? Infinity : Math.max(1, Math.floor(def.maxShare * capacity));
  return Math.min(def.max ?? Infinity, byShare);
}

/**
 * Every running state reachable from idle agents of `capacity` slots by starts the gate admits and
 * by finishes, checked against the promises; returns how many states were visited.
 */
function explore(def: BulkheadDefinition, capacity: number): number {
  const defs = new Map([
    [CLASS, def],
    [NEIGHBOUR.name, NEIGHBOUR],
  ]);
  const reservedTotal = (def.reserved ?? 0) + (NEIGHBOUR.reserved ?? 0);
  const seen = new Set<string>();
  const todo: Running[] = [[0, 0, 0]];
  while (todo.length > 0) {
    const running = todo.pop()!;
    const id = running.join(',');
    if (seen.has(id)) continue;
    seen.add(id);
    const load = running[0] + running[1] + running[2];
    const free = capacity - load;
    const where = `${capacity} slots, running ${JSON.stringify(running)} (batch, critical, none), batch ${JSON.stringify(def)}`;
    CLASSES.forEach((name, i) => {
      const d = name === null ? undefined : defs.get(name);
      check(running[i]! <= capOf(d, capacity), () => `class ${name} over its cap: ${where}`);
    });
    const unused = CLASSES.reduce(
      (sum, name, i) => sum + Math.max(0, (name === null ? 0 : (defs.get(name)?.reserved ?? 0)) - running[i]!),
      0,
    );
    if (reservedTotal <= capacity)
      check(free >= unused, () => `reserved slots taken (${unused} kept, ${free} free): ${where}`);
    // The gate over these counts, as the dispatcher holds them.
    const gates = new ControlGates();
    for (const d of defs.values()) gates.setBulkhead(d);
    for (let k = 0; k < running[0]; k++) gates.running(CLASS, 1);
    for (let k = 0; k < running[1]; k++) gates.running(NEIGHBOUR.name, 1);
    CLASSES.forEach((name, i) => {
      if (free === 0) return;
      const task = { controls: name === null ? {} : { bulkhead: name }, type: 'work', requires: [] };
      const refusal = gates.check(task, 0, capacity, load);
      const d = name === null ? undefined : defs.get(name);
      // Even when the reservations add up to more than there is: first come, first served.
      const below = running[i]! < (d?.reserved ?? 0) && running[i]! < capOf(d, capacity);
      if (below)
        check(refusal === null, () => `class ${name} below its reservation refused (${refusal?.reason}): ${where}`);
      if (refusal === null) {
        const after = [...running] as Running;
        after[i]! += 1;
        todo.push(after);
      } else check(refusal.gate.startsWith('bulkhead:'), () => `refused by ${refusal.gate}`);
    });
    for (let i = 0; i < 3; i++) {
      if (running[i] === 0) continue;
      const after = [...running] as Running;
      after[i]! -= 1;
      todo.push(after);
    }
  }
  return seen.size;
}

function oracle(step: StepRecord<Context>): void {
  const next = (step.next as Snap).context;
  if (step.prev === null) checkEqual(next.def, (step.input as Context).def, 'initial definition');
  else {
    const e = step.event as { type: 'bulkhead.define'; def: BulkheadDefinition };
    checkEqual(next.def, e.def, 'the definition is the one given');
  }
  checkEffectKinds(step.effects, ['bulkheadState', 'emit:bulkhead.defined']);
  checkEqual(only(step.effects, 'bulkheadState'), { def: next.def }, "the dispatcher's copy");
  checkEqual(only(step.effects, 'emit'), { type: 'bulkhead.defined', data: next.def }, 'the event');
  for (let capacity = 1; capacity <= 5; capacity++) check(explore(next.def, capacity) > 1, 'no work could start');
}

const configs: ModelConfig[] = [
  { name: 'a class capped at 2, redefined', input: { def: { name: CLASS, max: 2 } }, events, key },
  { name: 'a class keeping 1 slot, redefined', input: { def: { name: CLASS, reserved: 1 } }, events, key },
];

describe('bulkhead machine and its gate, model-based', () => {
  describeModelRuns<Context>('bulkhead', bulkheadMachine, configs, oracle);

  it('the oracle catches a gate that lets other work into reserved slots', () => {
    const original = ControlGates.prototype.check;
    ControlGates.prototype.check = function (task, now, capacity, load) {
      // Ignores reservations: only the class's own cap counts.
      return original.call(this, task, now, capacity + 100, load);
    };
    try {
      const r = runModel<Context>(bulkheadMachine, configs[0]!, oracle, null, { stopAtFirstFailure: true });
      expect(r.failures.join('\n')).toMatch(/reserved slots taken|over its cap/);
    } finally {
      ControlGates.prototype.check = original;
    }
  });
});
