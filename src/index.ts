/**
 * Troupe: durable coordination of AI agent teams on long-running work.
 *
 * @example
 * ```ts
 * import { createRuntime } from 'troupe';
 * const runtime = createRuntime();
 * await runtime.agents.register({ id: 'a', capabilities: ['code'], handler: async () => 'done' });
 * const t = await runtime.tasks.create({ type: 'write', requires: ['code'] });
 * await runtime.tasks.wait(t.id);
 * ```
 */
export { createRuntime, Runtime, EventApi } from './runtime/runtime.js';
export type { RuntimeOptions, RecoveryReport } from './runtime/runtime.js';
export { TaskApi } from './runtime/task-api.js';
export type { TaskListFilter } from './runtime/task-api.js';
export type { TaskCreateInput, PriorityName } from './runtime/task-input.js';
export { PRIORITY_LEVELS } from './runtime/task-input.js';
export { TicketApi } from './runtime/ticket-api.js';
export type { TicketCreateInput } from './runtime/ticket-api.js';
export { AgentApi } from './runtime/agent-api.js';
export type { RegisterAgentInput } from './runtime/agent-api.js';
export { LeaseApi } from './runtime/lease-api.js';
export type { CompleteReport, FailReport, ReportOutcome } from './runtime/lease-api.js';
export type { TaskView, AgentView, TicketView, PhaseView, TicketStatus, PhaseStatus } from './runtime/views.js';
export type { ContextPackage } from './runtime/context-package.js';
export type { TaskHandler, TaskHandlerContext } from './actors/in-process-agents.js';
export { RuntimeMetrics } from './runtime/metrics.js';
export { SimulatedClock, SystemClock } from './runtime/clock.js';
export type { Clock } from './runtime/clock.js';
export { MemoryStore } from './runtime/store/memory-store.js';
export type {
  Store,
  StoredActor,
  StoredEvent,
  StoredTimer,
  CommitBatch,
  OutboxEntry,
  ActorQuery,
  EventQuery,
  ActorKind,
} from './runtime/store/store.js';
export type { TroupeEvent, EventFilter, HistoryQuery } from './runtime/event-bus.js';
export type { AgentTransport, Offer, Revocation } from './runtime/agent-transport.js';
export { TroupeError, NonRetryableError, ERROR_CODES, isTroupeError } from './errors.js';
export type { ErrorCode, ErrorCategory } from './errors.js';
export { taskMachine } from './machines/task-machine.js';
export { agentMachine, DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_STALE_AFTER_MS } from './machines/agent-machine.js';
export { phaseMachine, DEFAULT_MAX_ROUNDS } from './machines/phase-machine.js';
export { ticketMachine, DEFAULT_PHASES } from './machines/ticket-machine.js';
export { backoffDelay, DEFAULT_RETRY_POLICY } from './machines/backoff.js';
export type { RetryPolicy, BackoffPolicy } from './machines/backoff.js';
export type { GateSpec, ValidatorSpec } from './machines/gate.js';
export type { TaskStatus, TaskTimeouts, AttemptError, AttemptRecord } from './machines/task-types.js';
export type { SnapshotMigration } from './runtime/machine-registry.js';
