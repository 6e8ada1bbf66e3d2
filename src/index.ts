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
export { DelegatingStore } from './runtime/store/delegating-store.js';
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

// Coordination: splits, joins, sync points, merges, routing, dependency guards, sagas, shared
// resources and barriers (docs/coordination.md).
export { CoordinationApi } from './coordination/coordination-api.js';
export type { MergeView } from './coordination/coordination-api.js';
export { ResourceApi } from './coordination/resource-api.js';
export { BarrierApi } from './coordination/barrier-api.js';
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
} from './coordination/coordination-input.js';
export type {
  CoordinatorView,
  SplitView,
  JoinView,
  GuardView,
  RouteView,
  SagaView,
  BarrierView,
  ResourceView,
} from './coordination/coordinator-views.js';
export { combine, union, intersection, majorityVote, runMerge } from './coordination/merge-strategies.js';
export type { MergeInput, MergeSpec, CustomMerge, MergeOutcome, Vote } from './coordination/merge-strategies.js';
export { canonicalJson } from './coordination/canonical-json.js';
export { route, testRule, ROUTING_OPERATORS, ROUTING_DECISIONS } from './machines/coordination/routing.js';
export type { RoutingRule, RoutingDecision, RoutingOperator, RoutingDecisionKind, RouteOptions } from './machines/coordination/routing.js';
export { decideJoin, joinNeed } from './machines/coordination/join-decision.js';
export type { JoinStrategy, JoinNeed, JoinTally, JoinDecision } from './machines/coordination/join-decision.js';
export type { JoinResult } from './machines/coordination/join-machine.js';
export type { Grant, ResourceMode } from './machines/coordination/coordination-effects.js';
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
} from './coordination/machines.js';
// Patterns: YAML patterns compiled to statecharts (docs/patterns.md).
export { PatternApi } from './patterns/run/pattern-api.js';
export type { ApplyPatternInput, PatternRef } from './patterns/run/pattern-api.js';
export { PatternTickets } from './patterns/run/pattern-tickets.js';
export type { PatternTicketInput, PatternPhaseInput } from './patterns/run/pattern-tickets.js';
export type { PatternRunView } from './patterns/run/run-view.js';
export { checkPatternText, checkPatternSource } from './patterns/check-pattern.js';
export type { PatternReport, PatternCheckOptions } from './patterns/check-pattern.js';
export { compilePattern } from './patterns/compile/compile.js';
export type { CompiledPattern, CompileOptions } from './patterns/compile/compile.js';
export type { StepWork, TaskWork } from './patterns/compile/work.js';
export type {
  PatternEvent,
  PatternOutcome,
  PatternFailure,
  PatternRunContext,
  PatternRunInput,
} from './patterns/compile/protocol.js';
export { checkCompiled } from './patterns/checks/check-compiled.js';
export type { StaticCheckOptions } from './patterns/checks/check-compiled.js';
export { resolvePattern } from './patterns/load/resolve.js';
export type { ResolveOptions, Resolution } from './patterns/load/resolve.js';
export { parsePatternSource, formatPath } from './patterns/load/source.js';
export type { PatternSource } from './patterns/load/source.js';
export { substitute as substituteVariables } from './patterns/load/variables.js';
export { PatternLibrary, builtInPatternDir } from './patterns/library.js';
export { patternSchema } from './patterns/format/pattern.js';
export type { Pattern, InputDecl, InputType } from './patterns/format/pattern.js';
export type {
  Step as PatternStep,
  StepKind as PatternStepKind,
  RoutingRule as PatternRoutingRule,
  JoinStrategy as PatternJoinStrategy,
  MergeStrategy as PatternMergeStrategy,
} from './patterns/format/steps.js';
export { patternJsonSchema, patternSchemaText } from './patterns/format/json-schema.js';
export { PatternValidationError, formatProblem, PATTERN_PROBLEM_CODES } from './patterns/problems.js';
export type { PatternProblem, PatternProblemCode, ProblemLocation } from './patterns/problems.js';
export { decideRoute, sampleForRoute } from './patterns/routing.js';
export type { RouteDecision } from './patterns/routing.js';
export { generatePaths } from './patterns/tools/paths.js';
export type { PatternTestPath, PathReport } from './patterns/tools/paths.js';
export { drawPattern, graphOf } from './patterns/tools/draw.js';
export type { DrawFormat, DrawnGraph } from './patterns/tools/draw.js';
export { replayPath, ScriptedAgent } from './patterns/run/replay.js';
export { scriptFromPath } from './patterns/run/path-script.js';
export type { PathScript, ScriptedOutcome } from './patterns/run/path-script.js';
export { simulatePattern, formatTimeline } from './patterns/run/simulate.js';
export type { SimulationOptions, SimulationReport } from './patterns/run/simulate.js';
