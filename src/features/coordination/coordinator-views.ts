import type { BarrierContext } from '../../core/coordination/barrier-machine.js';
import type { Grant, ResourceMode } from '../../core/coordination/coordinator-effects.js';
import { COORDINATOR_KINDS, statusOfMark } from '../../core/coordination/coordination-types.js';
import { describeDependency, type GuardContext } from '../../core/coordination/guard-machine.js';
import type { JoinContext, JoinResult } from '../../core/coordination/join-machine.js';
import { strategyName } from '../../core/coordination/join-decision.js';
import type { ResourceContext } from '../../core/coordination/resource-machine.js';
import type { RouteContext } from '../../core/coordination/route-machine.js';
import type { RoutingDecision } from '../../core/coordination/routing-rules.js';
import type { SagaContext } from '../../core/coordination/saga-machine.js';
import type { SplitContext } from '../../core/coordination/split-machine.js';

/** Read-only views of coordinators, as the API returns them. */

export interface SplitView {
  id: string;
  kind: 'split';
  status: 'waiting' | 'created' | 'failed';
  ticketId: string | null;
  sourceTaskId: string;
  /** Child task ids in order (empty until a `map` split has expanded). */
  children: string[];
  reason: string | null;
}

/** A join or sync point as the APIs show it: what it waits for, what arrived, and its decision. */
export interface JoinView {
  id: string;
  /** `sync` for a sync point. */
  kind: 'join' | 'sync';
  status: 'waiting' | 'ready' | 'failed';
  ticketId: string | null;
  sources: string[];
  fromSplit: string | null;
  strategy: string;
  /** Successes needed (null until a split has said how many sources there are). */
  needed: number | null;
  succeeded: number;
  failed: number;
  timedOut: boolean;
  reason: string | null;
  /** Tasks held until the join is ready: the continuation, or a sync point's dependents. */
  held: string[];
  /** Present once ready: what the held tasks receive. */
  result: JoinResult | null;
}

/** A dependency guard as the APIs show it: its dependencies and which of them hold. */
export interface GuardView {
  id: string;
  kind: 'guard';
  status: 'waiting' | 'resolved' | 'failed';
  ticketId: string | null;
  taskId: string;
  dependencies: Array<{ description: string; met: boolean }>;
  grants: Grant[];
  reason: string | null;
}

/** A route as the APIs show it: the decision taken, by which rule, and why. */
export interface RouteView {
  id: string;
  kind: 'route';
  status: 'waiting' | 'decided' | 'failed';
  ticketId: string | null;
  sourceTaskId: string;
  decision: RoutingDecision | null;
  /** Tasks the chosen branch created. */
  created: string[];
  reason: string | null;
}

/** A saga as the APIs show it: the steps done and the compensations run. */
export interface SagaView {
  id: string;
  kind: 'saga';
  status: 'running' | 'compensating' | 'completed' | 'compensated' | 'compensation_failed';
  ticketId: string | null;
  steps: Array<{ taskId: string; status: string }>;
  /** Step tasks whose compensation succeeded, in the order they were compensated. */
  compensated: string[];
  compensationFailures: string[];
  reason: string | null;
}

/** A barrier as the APIs show it: parties expected and arrived. */
export interface BarrierView {
  id: string;
  kind: 'barrier';
  status: 'waiting' | 'released' | 'broken';
  ticketId: string | null;
  parties: number;
  arrived: string[];
  timedOut: boolean;
  reason: string | null;
}

/** A shared resource as the APIs show it: its holders and its queue. */
export interface ResourceView {
  name: string;
  kind: 'lock' | 'semaphore';
  permits: number | null;
  holders: Grant[];
  waiters: Array<{ owner: string; mode: ResourceMode }>;
  /** The last fencing token issued. */
  fence: number;
}

/** Any coordinator as the APIs show it; `kind` says which. */
export type CoordinatorView = SplitView | JoinView | GuardView | RouteView | SagaView | BarrierView;

const topState = (value: unknown): string =>
  typeof value === 'string' ? value : (Object.keys(value as object)[0] ?? '');

/** The view of a coordinator from its kind, state value and context; null for other actors. */
export function coordinatorView(kind: string, value: unknown, context: unknown): CoordinatorView | null {
  const state = topState(value);
  switch (kind) {
    case COORDINATOR_KINDS.split: {
      const c = context as SplitContext;
      const status = state === 'created' ? 'created' : state === 'failed' ? 'failed' : 'waiting';
      return {
        id: c.id,
        kind: 'split',
        status,
        ticketId: c.ticketId,
        sourceTaskId: c.sourceTaskId,
        children: c.children,
        reason: c.outcome?.reason ?? null,
      };
    }
    case COORDINATOR_KINDS.join: {
      const c = context as JoinContext;
      const status = state === 'ready' ? 'ready' : state === 'failed' ? 'failed' : 'waiting';
      return {
        id: c.id,
        kind: c.spec.flavor,
        status,
        ticketId: c.spec.ticketId,
        sources: c.sources,
        fromSplit: c.spec.fromSplit,
        strategy: strategyName(c.spec.strategy, c.need?.n ?? null),
        needed: c.need?.k ?? null,
        succeeded: c.tally.succeeded,
        failed: c.tally.failed,
        timedOut: c.outcome?.timedOut ?? false,
        reason: c.outcome?.reason ?? null,
        held: c.spec.held,
        result: (c.output?.result as JoinResult | undefined) ?? null,
      };
    }
    case COORDINATOR_KINDS.guard: {
      const c = context as GuardContext;
      const status = state === 'resolved' ? 'resolved' : state === 'failed' ? 'failed' : 'waiting';
      return {
        id: c.id,
        kind: 'guard',
        status,
        ticketId: c.ticketId,
        taskId: c.heldTaskId,
        dependencies: c.deps.map((d, i) => ({ description: describeDependency(d), met: c.marks[i] === 'y' })),
        grants: c.grants,
        reason: c.outcome?.reason ?? null,
      };
    }
    case COORDINATOR_KINDS.route: {
      const c = context as RouteContext;
      const status = state === 'decided' ? 'decided' : state === 'failed' ? 'failed' : 'waiting';
      return {
        id: c.id,
        kind: 'route',
        status,
        ticketId: c.ticketId,
        sourceTaskId: c.sourceTaskId,
        decision: c.decision,
        created: c.created,
        reason: c.outcome?.reason ?? null,
      };
    }
    case COORDINATOR_KINDS.saga: {
      const c = context as SagaContext;
      const status = (
        ['completed', 'compensated', 'compensation_failed', 'compensating'].includes(state) ? state : 'running'
      ) as SagaView['status'];
      return {
        id: c.id,
        kind: 'saga',
        status,
        ticketId: c.ticketId,
        steps: c.steps.map((s, i) => ({ taskId: s.taskId, status: statusOfMark(c.marks[i] ?? '.') ?? 'open' })),
        compensated: c.compensated,
        compensationFailures: c.compensationFailures,
        reason: c.outcome?.reason ?? null,
      };
    }
    case COORDINATOR_KINDS.barrier: {
      const c = context as BarrierContext;
      const status = state === 'released' ? 'released' : state === 'broken' ? 'broken' : 'waiting';
      return {
        id: c.id,
        kind: 'barrier',
        status,
        ticketId: c.ticketId,
        parties: c.parties,
        arrived: c.arrived,
        timedOut: c.outcome?.timedOut ?? false,
        reason: c.outcome?.reason ?? null,
      };
    }
    default:
      return null;
  }
}

export function resourceView(c: ResourceContext, now: number): ResourceView {
  return {
    name: c.name,
    kind: c.kind,
    permits: c.permits,
    // A lease past its end no longer counts even if its timer has not fired yet.
    holders: c.holders
      .filter((h) => h.expiresAt === null || h.expiresAt > now)
      .map((h) => ({
        resource: c.name,
        owner: h.owner,
        mode: h.mode,
        token: h.token,
        grantedAt: h.grantedAt,
        expiresAt: h.expiresAt,
      })),
    waiters: c.waiters.map((w) => ({ owner: w.owner, mode: w.mode })),
    fence: c.fence,
  };
}
