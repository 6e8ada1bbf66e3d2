import type { AnyStateMachine } from 'xstate';
import { TroupeError } from '../core/errors.js';
import { agentMachine } from '../core/machines/agent-machine.js';
import { phaseMachine } from '../core/machines/phase-machine.js';
import { taskMachine } from '../core/machines/task-machine.js';
import { ticketMachine } from '../core/machines/ticket-machine.js';
import { CompiledStepper, stepperFor } from '../core/stepper/compiled-stepper.js';
import { MachineStepper, type SteppedSnapshot, type Stepper } from '../core/stepper/machine-stepper.js';
import type { ActorKind, StoredActor } from './store/store.js';

/** Turns a snapshot stored by an older machine version into one the current version reads. */
export type SnapshotMigration = (stored: { state: unknown; context: unknown }) => { state: unknown; context: unknown };

export interface MachineDefinition {
  kind: ActorKind;
  /** Stable name stored beside each snapshot, e.g. `troupe.task`. */
  machineId: string;
  /** Bumped whenever a stored snapshot of the previous version would be misread. */
  version: number;
  machine: AnyStateMachine;
  /** Migrations keyed by the version they read from (each returns the next version's shape). */
  migrations?: Record<number, SnapshotMigration>;
}

export interface RegisteredMachine extends MachineDefinition {
  stepper: Stepper;
}

/** True once the actor rests: it leaves the live registry and stays only in the store. */
export function isSettled(snapshot: SteppedSnapshot): boolean {
  return snapshot.status !== 'active' || snapshot.hasTag('settled');
}

export const BUILT_IN_MACHINES: MachineDefinition[] = [
  { kind: 'task', machineId: 'troupe.task', version: 2, machine: taskMachine, migrations: { 1: taskV1ToV2 } },
  { kind: 'agent', machineId: 'troupe.agent', version: 1, machine: agentMachine },
  { kind: 'phase', machineId: 'troupe.phase', version: 1, machine: phaseMachine },
  { kind: 'ticket', machineId: 'troupe.ticket', version: 1, machine: ticketMachine },
];

/**
 * Task snapshots of v1 (before production controls): no controls, no redrives, no delay. A queued
 * or waiting v1 task reads `at.notBefore` as null, so it is not taken for a delayed one.
 */
function taskV1ToV2(stored: { state: unknown; context: unknown }): { state: unknown; context: unknown } {
  const c = stored.context as { spec: Record<string, unknown>; at: Record<string, unknown>; redrives?: unknown };
  return {
    state: stored.state,
    context: {
      ...c,
      spec: { ...c.spec, controls: c.spec.controls ?? {} },
      at: { ...c.at, notBefore: c.at.notBefore ?? null },
      redrives: c.redrives ?? [],
    },
  };
}

/**
 * The compiled stepper where a machine's features allow it, xstate's own otherwise.
 * `TROUPE_STEPPER=xstate` runs every machine on xstate's algorithm (to rule the compiled one out).
 */
function makeStepper(machine: AnyStateMachine): Stepper {
  const make = (m: AnyStateMachine): Stepper => new MachineStepper(m);
  if (process.env.TROUPE_STEPPER === 'xstate') return make(machine);
  // A compiled stepper holds nothing of a runtime, only what it derived from the machine (plans,
  // resolved actions): every runtime of the process shares it, so a machine applied in a new
  // runtime (a pattern kind, a restart) does not derive it all again.
  let stepper = sharedSteppers.get(machine);
  if (stepper === undefined) {
    stepper = stepperFor(machine, make);
    if (stepper instanceof CompiledStepper) sharedSteppers.set(machine, stepper);
  }
  return stepper;
}

const sharedSteppers = new WeakMap<AnyStateMachine, Stepper>();

/** The machines a runtime hosts, by kind, with their steppers and migrations. */
export class MachineRegistry {
  private readonly byKind = new Map<ActorKind, RegisteredMachine>();

  constructor(definitions: MachineDefinition[] = BUILT_IN_MACHINES) {
    for (const d of definitions) this.register(d);
  }

  register(definition: MachineDefinition): void {
    this.byKind.set(definition.kind, { ...definition, stepper: makeStepper(definition.machine) });
  }

  has(kind: ActorKind): boolean {
    return this.byKind.has(kind);
  }

  /** Adds a migration from `fromVersion` for the machine of `kind`. */
  addMigration(kind: ActorKind, fromVersion: number, migration: SnapshotMigration): void {
    const entry = this.get(kind);
    entry.migrations = { ...entry.migrations, [fromVersion]: migration };
  }

  get(kind: ActorKind): RegisteredMachine {
    const entry = this.byKind.get(kind);
    if (!entry) throw new TroupeError('E_INVALID_INPUT', `no machine is registered for actor kind "${kind}"`);
    return entry;
  }

  /**
   * Rebuilds a live snapshot from a stored one, running registered migrations when the stored
   * version is older. A version with no migration path is refused, never guessed at.
   */
  restore(stored: StoredActor): SteppedSnapshot {
    const entry = this.byKind.get(stored.kind);
    if (!entry) {
      throw new TroupeError(
        'E_VERSION_MISMATCH',
        `actor ${stored.id} was stored by a machine of kind "${stored.kind}" that this runtime does not know; ` +
          'register it before start() (a pattern run whose stored definition is missing or does not compile ' +
          'to the same machine any more: runtime.patterns.register(pattern, inputs))',
        { details: { actorId: stored.id, kind: stored.kind } },
      );
    }
    if (stored.machineId !== entry.machineId) {
      throw new TroupeError(
        'E_VERSION_MISMATCH',
        `actor ${stored.id} was stored by machine "${stored.machineId}", expected "${entry.machineId}"`,
      );
    }
    let data = { state: stored.state, context: stored.context };
    let version = stored.version;
    while (version !== entry.version) {
      const migrate = version < entry.version ? entry.migrations?.[version] : undefined;
      if (!migrate) {
        throw new TroupeError(
          'E_VERSION_MISMATCH',
          `actor ${stored.id} was stored by ${entry.machineId} v${stored.version}; this runtime runs v${entry.version} ` +
            `and has no migration from v${version}`,
          { details: { actorId: stored.id, storedVersion: stored.version, runningVersion: entry.version } },
        );
      }
      data = migrate(data);
      version += 1;
    }
    return entry.stepper.restore(data.state, data.context);
  }
}
