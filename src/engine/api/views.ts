import type { SteppedSnapshot } from '../../core/stepper/machine-stepper.js';
import { agentStatusOf, type AgentContext, type AgentStatus } from '../../core/machines/agent-machine.js';
import type { PhaseContext } from '../../core/machines/phase-machine.js';
import { taskStatusOf } from '../../core/machines/task-machine.js';
import type {
  AttemptError,
  AttemptRecord,
  RedriveRecord,
  TaskContext,
  TaskControls,
  TaskStatus,
} from '../../core/machines/task-types.js';
import type { PhaseOutput, TicketContext } from '../../core/machines/ticket-machine.js';
import type { StoredActor } from '../store/store.js';

/** A task as the API shows it: a flat, read-only copy of what the machine knows. */
export interface TaskView {
  id: string;
  status: TaskStatus;
  type: string;
  description: string;
  ticketId: string | null;
  phase: string | null;
  priority: number;
  requires: string[];
  dependsOn: string[];
  pendingDependencies: string[];
  input: unknown;
  role: string | null;
  attempt: number;
  maxAttempts: number;
  attempts: AttemptRecord[];
  agentId: string | null;
  leaseId: string | null;
  result: unknown;
  artifacts: Record<string, unknown>;
  quality: number | null;
  error: AttemptError | null;
  reason: string | null;
  progress: { value: number | null; message: string | null } | null;
  round: number;
  feedback: string | null;
  createdAt: number;
  queuedAt: number | null;
  startedAt: number | null;
  retryAt: number | null;
  settledAt: number | null;
  /** Not queued before this instant (a delayed task); null once passed. */
  notBefore: number | null;
  /** Rate limits, concurrency key, bulkhead, breakers, dependency failure policies. */
  controls: TaskControls;
  /** Each time it was sent back out of the dead letters. */
  redrives: RedriveRecord[];
  /**
   * Why it has not started, while queued or waiting: a rate limit, a breaker, a bulkhead, its
   * concurrency key, a delay, dependencies, no free agent. Null otherwise.
   */
  waitingFor: string | null;
}

export function taskView(value: unknown, context: TaskContext): TaskView {
  const c = context;
  return {
    id: c.id,
    status: taskStatusOf(value),
    type: c.spec.type,
    description: c.spec.description,
    ticketId: c.spec.ticketId,
    phase: c.spec.phase,
    priority: c.spec.priority,
    requires: c.spec.requires,
    dependsOn: c.spec.dependsOn,
    pendingDependencies: c.pendingDeps,
    input: c.spec.input,
    role: c.spec.role,
    attempt: c.attempt,
    maxAttempts: c.spec.retry.maxAttempts,
    attempts: c.attempts,
    agentId: c.lease?.agentId ?? null,
    leaseId: c.lease?.id ?? null,
    result: c.output?.result ?? null,
    artifacts: c.output?.artifacts ?? {},
    quality: c.output?.quality ?? null,
    error: c.error,
    reason: c.reason,
    progress: c.progress,
    round: c.round,
    feedback: c.feedback,
    createdAt: c.spec.createdAt,
    queuedAt: c.at.queuedAt,
    startedAt: c.at.startedAt,
    retryAt: c.at.retryAt,
    settledAt: c.at.settledAt,
    notBefore: c.at.notBefore ?? null,
    controls: c.spec.controls ?? {},
    redrives: c.redrives ?? [],
    waitingFor: null,
  };
}

/** An agent as the APIs show it: status, capabilities, load and last heartbeat. */
export interface AgentView {
  id: string;
  status: AgentStatus;
  capabilities: string[];
  capacity: number;
  /** Slots in use right now. */
  load: number;
  transport: AgentContext['transport'];
  lastHeartbeatAt: number;
  registeredAt: number;
  reason: string | null;
}

export function agentView(value: unknown, c: AgentContext, load: number): AgentView {
  return {
    id: c.id,
    status: agentStatusOf(value),
    capabilities: c.capabilities,
    capacity: c.capacity,
    load,
    transport: c.transport,
    lastHeartbeatAt: c.lastBeatAt,
    registeredAt: c.registeredAt,
    reason: c.reason,
  };
}

/** Where a phase is in its life: waiting, working, under its gate's evaluation or validation, reworking, or settled. */
export type PhaseStatus =
  'pending' | 'active' | 'evaluating' | 'validating' | 'reworking' | 'passed' | 'failed' | 'cancelled';

/** One phase of a ticket as the APIs show it: status, gate round and verdicts. */
export interface PhaseView {
  name: string;
  status: PhaseStatus;
  round: number;
  maxRounds: number;
  tasks: PhaseContext['counts'];
  artifacts: string[];
  quality: number | null;
  reasons: string[];
  feedback: string | null;
  /** Map splits whose children will join this phase once their source's result is known. */
  pendingSplits: string[];
}

export function phaseView(value: unknown, c: PhaseContext): PhaseView {
  return {
    name: c.name,
    status: value as PhaseStatus,
    round: c.round,
    maxRounds: c.maxRounds,
    tasks: c.counts,
    artifacts: c.artifacts,
    quality: c.minQuality,
    reasons: c.reasons,
    feedback: c.feedback,
    pendingSplits: c.pendingSplits ?? [],
  };
}

/** Where a ticket is: `active` until all its phases pass (`completed`), one fails, or it is cancelled. */
export type TicketStatus = 'active' | 'completed' | 'failed' | 'cancelled';

/** A ticket as the APIs show it: status, current phase, and each phase's view. */
export interface TicketView {
  id: string;
  status: TicketStatus;
  title: string;
  description: string;
  currentPhase: string | null;
  phases: PhaseView[];
  context: Record<string, unknown>;
  shared: Record<string, unknown>;
  phaseOutputs: Record<string, PhaseOutput>;
  reason: string | null;
  createdAt: number;
}

export function ticketView(value: unknown, c: TicketContext, phases: PhaseView[]): TicketView {
  const status = value as TicketStatus;
  return {
    id: c.id,
    status,
    title: c.title,
    description: c.description,
    currentPhase: status === 'active' ? (c.phases[c.index]?.name ?? null) : null,
    phases,
    context: c.context,
    shared: c.shared,
    phaseOutputs: c.phaseOutputs,
    reason: c.reason,
    createdAt: c.createdAt,
  };
}

/** Reads value and context from a live snapshot or a stored record alike. */
export function stateOf(source: SteppedSnapshot | StoredActor): { value: unknown; context: unknown } {
  if ('machineId' in source) return { value: source.state, context: source.context };
  return { value: source.value, context: source.context };
}
