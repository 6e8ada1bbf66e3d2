import { phaseIdOf, type PhaseContext } from '../../core/machines/phase-machine.js';
import type { TaskContext, TaskStatus } from '../../core/machines/task-types.js';
import type { ActorHost } from '../actor-host.js';
import type { Store } from '../store/store.js';

/**
 * What a phase's validator judges, in its context package: the work of the phase's round
 * (every task's outcome, result, artifacts and quality score), the gate's criteria, the round
 * and the feedback that led to it. Its result `{ approved, feedback }` decides the gate.
 */
export interface ValidationPackage {
  phase: string;
  /** The round being judged (1 for the first). */
  round: number;
  maxRounds: number;
  /** The gate's own criteria, all of which already hold when a validator is asked. */
  criteria: { allTasksSucceeded: boolean; requiredArtifacts: string[]; minQuality: number | null };
  /** The phase's tasks (validators left out) by id, in creation order. */
  tasks: Record<
    string,
    { type: string; status: TaskStatus; result: unknown; artifacts: Record<string, unknown>; quality: number | null }
  >;
  /** The artifacts of the phase's succeeded tasks, merged by name in creation order. */
  artifacts: Record<string, unknown>;
  /** The lowest quality score a succeeded task reported, or null if none did. */
  minQuality: number | null;
  /** The feedback that sent the phase into this round (a rejection's, or the gate's reasons); null in round 1. */
  previousFeedback: string | null;
}

/** The validation package of a validator task, read from its phase and the phase's tasks. */
export async function buildValidationPackage(
  task: TaskContext,
  host: ActorHost,
  store: Store,
): Promise<ValidationPackage | null> {
  const { ticketId, phase } = task.spec;
  if (ticketId === null || phase === null) return null;
  const phaseId = phaseIdOf(ticketId, phase);
  const phaseContext = (host.getLive(phaseId)?.snapshot.context ?? (await store.getActor(phaseId))?.context) as
    PhaseContext | undefined;
  if (!phaseContext) return null;
  const tasks = (await store.listActors({ kind: 'task', ticketId }))
    .map((record) => (host.getLive(record.id)?.snapshot.context ?? record.context) as TaskContext)
    .filter((t) => t.spec.phase === phase && t.spec.role !== 'validator')
    .sort((a, b) => a.spec.createdAt - b.spec.createdAt || a.id.localeCompare(b.id));
  const pkg: ValidationPackage = {
    phase,
    round: phaseContext.round,
    maxRounds: phaseContext.maxRounds,
    criteria: {
      allTasksSucceeded: phaseContext.gate.allTasksSucceeded !== false,
      requiredArtifacts: phaseContext.gate.requiredArtifacts ?? [],
      minQuality: phaseContext.gate.minQuality ?? null,
    },
    tasks: {},
    artifacts: {},
    minQuality: phaseContext.minQuality,
    previousFeedback: phaseContext.round > 1 ? phaseContext.feedback : null,
  };
  for (const t of tasks) {
    const succeeded = t.outcome === 'succeeded' && t.output !== null;
    pkg.tasks[t.id] = {
      type: t.spec.type,
      status: t.outcome ?? 'running',
      result: succeeded ? t.output?.result : null,
      artifacts: succeeded ? (t.output?.artifacts ?? {}) : {},
      quality: succeeded ? (t.output?.quality ?? null) : null,
    };
    if (succeeded) Object.assign(pkg.artifacts, t.output?.artifacts);
  }
  return pkg;
}
