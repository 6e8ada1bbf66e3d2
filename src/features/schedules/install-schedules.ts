import { TroupeError } from '../../core/errors.js';
import type { LiveActor } from '../../engine/host-types.js';
import type { RuntimeCore } from '../../engine/runtime-core.js';
import { ScheduleApi, SCHEDULE_KIND, type PatternCheck } from './schedule-api.js';
import {
  scheduleIdOf,
  scheduleMachine,
  type ScheduleContext,
  type ScheduleLaunchParams,
  type ScheduleTarget,
} from './schedule-machine.js';

/**
 * How a fire becomes a run: the runtime's own APIs, each given the run id. Each throws
 * `E_DUPLICATE_ID` when a run of that id exists, which is how a launch repeated after a restart
 * knows it was done.
 */
export interface ScheduleLaunchers {
  task(runId: string, spec: Record<string, unknown>): Promise<unknown>;
  ticket(runId: string, spec: Record<string, unknown>): Promise<unknown>;
  pattern(runId: string, pattern: string, inputs: Record<string, unknown>): Promise<unknown>;
}

export interface SchedulesInstallOptions {
  ready: () => Promise<void>;
  launchers: ScheduleLaunchers;
  checkPattern: PatternCheck;
  maxPayloadBytes: number;
}

function launch(launchers: ScheduleLaunchers, runId: string, target: ScheduleTarget): Promise<unknown> {
  if ('task' in target) return launchers.task(runId, target.task);
  if ('ticket' in target) return launchers.ticket(runId, target.ticket);
  return launchers.pattern(runId, target.pattern, target.inputs ?? {});
}

/**
 * Adds schedules to a runtime core: the schedule machine (its next fire time a durable timer,
 * armed and recovered like every actor timer), the launch of each run once the fire that decided
 * it has committed, and the launch again, after a restart, of runs decided and not confirmed.
 */
export function installSchedules(core: RuntimeCore, options: SchedulesInstallOptions): ScheduleApi {
  core.options.machines.register({
    kind: SCHEDULE_KIND,
    machineId: 'troupe.schedule',
    version: 1,
    machine: scheduleMachine,
  });
  const inFlight = new Set<Promise<unknown>>();
  const start = (scheduleId: string, runId: string, target: ScheduleTarget): void => {
    const launching = launch(options.launchers, runId, target).then(
      () => acknowledge(scheduleId, runId, null),
      (error: unknown) => {
        // Created before (a launch repeated after a restart): done, not doubled.
        if (error instanceof TroupeError && error.code === 'E_DUPLICATE_ID') acknowledge(scheduleId, runId, null);
        else if (error instanceof TroupeError && (error.code === 'E_RUNTIME_STOPPED' || error.code === 'E_STORE'))
          return;
        else {
          const e =
            error instanceof TroupeError
              ? { code: error.code, message: error.message }
              : { code: 'E_INTERNAL', message: String(error) };
          core.options.logger.warn({ scheduleId, runId, err: error }, 'schedule could not launch its run');
          acknowledge(scheduleId, runId, e);
        }
      },
    );
    inFlight.add(launching);
    void launching.finally(() => inFlight.delete(launching));
  };
  const acknowledge = (scheduleId: string, runId: string, error: { code: string; message: string } | null): void => {
    // Stopped meanwhile: the launch stays pending and is made again on the next start.
    if (core.host.failed) return;
    try {
      core.host.send(scheduleIdOf(scheduleId), { type: 'schedule.launched', runId, error });
    } catch {
      // The runtime stopped: the pending launch is found again on the next start.
    }
  };
  core.addEffects({
    scheduleLaunch: (_actor, p, scope) => {
      const l = p as unknown as ScheduleLaunchParams;
      if (l.runId === '') return;
      scope.afterCommit(() => start(l.scheduleId, l.runId, l.target));
    },
  });
  core.onRecovered((actors: LiveActor[]) => {
    for (const actor of actors) {
      if (actor.kind !== SCHEDULE_KIND) continue;
      const c = actor.snapshot.context as ScheduleContext;
      for (const p of c.pending) start(c.id, p.runId, c.target);
    }
  });
  const launched = async (): Promise<void> => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  return new ScheduleApi(core, options.ready, options.checkPattern, options.maxPayloadBytes, launched);
}
