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
export { createRuntime } from './runtime.js';
export type { Runtime } from './runtime.js';
export type { EventApi } from './engine/api/event-api.js';
export type { RuntimeOptions, RecoveryReport } from './runtime.js';
export type { TaskApi } from './engine/api/task-api.js';
export type { TaskListFilter } from './engine/api/task-api.js';
export type { TaskCreateInput, PriorityName } from './engine/api/task-input.js';
export { PRIORITY_LEVELS } from './engine/api/task-input.js';
export type { TicketApi } from './engine/api/ticket-api.js';
export type { TicketCreateInput } from './engine/api/ticket-api.js';
export type { AgentApi } from './engine/api/agent-api.js';
export type { RegisterAgentInput } from './engine/api/agent-api.js';
export type { LeaseApi } from './engine/api/lease-api.js';
export type { CompleteReport, FailReport, ReportOutcome } from './engine/api/lease-api.js';
export type { TaskView, AgentView, TicketView, PhaseView, TicketStatus, PhaseStatus } from './engine/api/views.js';
export type { ContextPackage } from './engine/api/context-package.js';
export type { ValidationPackage } from './engine/api/validation-package.js';
export type { TaskHandler, TaskHandlerContext } from './engine/api/task-handler.js';
export type { RuntimeMetrics } from './engine/metrics.js';
export type { ControlsApi } from './engine/api/controls-api.js';
export type {
  RateLimitInput,
  BreakerInput,
  BulkheadInput,
  RateLimitView,
  BreakerView,
} from './engine/api/controls-api.js';
export type { DeadLetterApi } from './engine/api/dead-letter-api.js';
export type { RedriveChanges } from './engine/api/dead-letter-api.js';
export type { DeadLetter, DeadLetterFilter } from './engine/controls/dead-letter-index.js';
export type { ScheduleApi, ScheduleCreateInput, ScheduleView } from './features/schedules/schedule-api.js';
export type { CatchUp, ScheduleTarget } from './features/schedules/schedule-machine.js';
export { scheduleMachine, scheduleRunIdOf } from './features/schedules/schedule-machine.js';
export { breakerMachine } from './core/controls/breaker-machine.js';
export type { BreakerStatus, BreakerContext } from './core/controls/breaker-machine.js';
export type { BreakerPolicy } from './core/controls/breaker-window.js';
export type { RateLimitDefinition } from './core/controls/rate-budget.js';
export type { BulkheadDefinition } from './core/controls/bulkhead-rules.js';
export { SimulatedClock, SystemClock } from './engine/clock.js';
export type { Clock } from './engine/clock.js';
export { MemoryStore } from './engine/store/memory-store.js';
export { SqliteStore } from './engine/store/sqlite-store.js';
export type { SqliteStoreOptions } from './engine/store/sqlite-store.js';
export { backupSqliteFile, restoreSqliteFile } from './engine/store/sqlite-backup.js';
export type { RetentionSweeper } from './engine/retention/retention-sweeper.js';
export type { SweepReport } from './engine/retention/retention-sweeper.js';
export { resolveRetention } from './engine/retention/retention-policy.js';
export type { RetentionOptions, RetentionPolicy } from './engine/retention/retention-policy.js';
export { readArchive } from './engine/retention/archive-file.js';
export type { ArchiveLine } from './engine/retention/archive-file.js';
export type { AuditApi } from './engine/api/audit-api.js';
export type { AuditRecord } from './engine/api/audit-api.js';
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
  ExpiryQuery,
  ExpiredUnit,
  UnitRecord,
  SweepCounts,
  AuditEntry,
  AuditQuery,
  StorageStats,
  Lease,
  LeaseTerm,
  LeaseStore,
} from './engine/store/store.js';
export type { TroupeEvent, EventFilter, HistoryQuery } from './engine/event-bus.js';
export type { AgentTransport, Offer, Revocation } from './engine/agent-transport.js';
export { TroupeError, NonRetryableError, ERROR_CODES, isTroupeError } from './core/errors.js';
export type { ErrorCode, ErrorCategory } from './core/errors.js';
export { taskMachine } from './core/machines/task-machine.js';
export { agentMachine, DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_STALE_AFTER_MS } from './core/machines/agent-machine.js';
export { phaseMachine, DEFAULT_MAX_ROUNDS } from './core/machines/phase-machine.js';
export { ticketMachine, DEFAULT_PHASES } from './core/machines/ticket-machine.js';
export { backoffDelay, DEFAULT_RETRY_POLICY } from './core/machines/retry-backoff.js';
export type { RetryPolicy, BackoffPolicy } from './core/machines/retry-backoff.js';
export type { GateSpec, ValidatorSpec } from './core/machines/gate.js';
export type {
  TaskStatus,
  TaskTimeouts,
  AttemptError,
  AttemptRecord,
  TaskControls,
  RedriveRecord,
  DependencyFailurePolicy,
} from './core/machines/task-types.js';
export type { SnapshotMigration } from './engine/machine-registry.js';

// Coordination: splits, joins, sync points, merges, routing, dependency guards, sagas, shared
// resources and barriers (docs/coordination.md).
export type { CoordinationApi } from './features/coordination/coordination-api.js';
export type { MergeView } from './features/coordination/coordination-api.js';
export type { ResourceApi } from './features/coordination/resource-api.js';
export type { BarrierApi } from './features/coordination/barrier-api.js';
export { Leadership } from './features/coordination/leader-election.js';
export type { LeaderOptions, LeaderTerm, LeaderEvents } from './features/coordination/leader-election.js';
export type {
  TaskTemplate,
  NestedSplitInput,
  SplitRequest,
  JoinRequest,
  SyncPointRequest,
  MergeRequest,
  RouteRequest,
  GuardRequest,
  DependencyRequest,
  SagaRequest,
  DefineResourceRequest,
  AcquireRequest,
  BarrierRequest,
} from './features/coordination/coordination-input.js';
export type {
  CoordinatorView,
  SplitView,
  JoinView,
  GuardView,
  RouteView,
  SagaView,
  BarrierView,
  ResourceView,
} from './features/coordination/coordinator-views.js';
export { combine, union, intersection, majorityVote, runMerge } from './core/coordination/merge-strategies.js';
export type { MergeInput, MergeSpec, CustomMerge, MergeOutcome, Vote } from './core/coordination/merge-strategies.js';
export { canonicalJson } from './core/canonical-json.js';
export { route, testRule, ROUTING_OPERATORS, ROUTING_DECISIONS } from './core/coordination/routing-rules.js';
export type {
  RoutingRule,
  RoutingDecision,
  RoutingOperator,
  RoutingDecisionKind,
  RouteOptions,
} from './core/coordination/routing-rules.js';
export { decideJoin, joinNeed } from './core/coordination/join-decision.js';
export type { JoinStrategy, JoinNeed, JoinTally, JoinDecision } from './core/coordination/join-decision.js';
export type { JoinResult } from './core/coordination/join-machine.js';
export type { Grant, ResourceMode } from './core/coordination/coordinator-effects.js';
export {
  joinMachine,
  splitMachine,
  guardMachine,
  routeMachine,
  sagaMachine,
  resourceMachine,
  barrierMachine,
  qualityMachine,
  COORDINATION_MACHINES,
} from './features/coordination/machines.js';
// Patterns: YAML patterns compiled to statecharts (docs/patterns.md).
export type { PatternApi } from './features/patterns/run/pattern-api.js';
export type { ApplyPatternInput, PatternRef } from './features/patterns/run/pattern-api.js';
export type { PatternTickets } from './features/patterns/run/pattern-tickets.js';
export type { PatternTicketInput, PatternPhaseInput } from './features/patterns/run/pattern-tickets.js';
export type { PatternRunView } from './features/patterns/run/run-view.js';
export { checkPatternText, checkPatternSource } from './features/patterns/check-pattern.js';
export type { PatternReport, PatternCheckOptions } from './features/patterns/check-pattern.js';
export { compilePattern } from './features/patterns/compile/compile.js';
export type { CompiledPattern, CompileOptions } from './features/patterns/compile/compile.js';
export type { StepWork, TaskWork } from './features/patterns/compile/work.js';
export type {
  PatternEvent,
  PatternOutcome,
  PatternFailure,
  PatternRunContext,
  PatternRunInput,
} from './features/patterns/compile/protocol.js';
export { checkCompiled } from './features/patterns/checks/check-compiled.js';
export type { StaticCheckOptions } from './features/patterns/checks/check-compiled.js';
export { resolvePattern } from './features/patterns/load/resolve.js';
export type { ResolveOptions, Resolution } from './features/patterns/load/resolve.js';
export { parsePatternSource, formatPath } from './features/patterns/load/source.js';
export type { PatternSource } from './features/patterns/load/source.js';
export { PatternLibrary, builtInPatternDir } from './features/patterns/load/library.js';
export { patternSchema } from './features/patterns/format/pattern.js';
export type { Pattern, InputDecl, InputType } from './features/patterns/format/pattern.js';
export type {
  Step as PatternStep,
  StepKind as PatternStepKind,
  RoutingRule as PatternRoutingRule,
  JoinStrategy as PatternJoinStrategy,
  MergeStrategy as PatternMergeStrategy,
} from './features/patterns/format/steps.js';
export { patternJsonSchema, patternSchemaText } from './features/patterns/format/pattern-json-schema.js';
export { PatternValidationError, formatProblem, PATTERN_PROBLEM_CODES } from './features/patterns/problems/problems.js';
export type { PatternProblem, PatternProblemCode, ProblemLocation } from './features/patterns/problems/problems.js';
export { decideRoute, sampleForRoute } from './features/patterns/compile/route-decision.js';
export type { RouteDecision } from './features/patterns/compile/route-decision.js';
export { generatePaths } from './features/patterns/tools/test-paths.js';
export type { PatternTestPath, PathReport } from './features/patterns/tools/test-paths.js';
export { drawPattern } from './features/patterns/tools/draw.js';
export type { DrawFormat, DrawnGraph } from './features/patterns/tools/draw.js';
export { replayPath, ScriptedAgent } from './features/patterns/run/replay.js';
export { scriptFromPath } from './features/patterns/run/path-script.js';
export type { PathScript, ScriptedOutcome } from './features/patterns/run/path-script.js';
