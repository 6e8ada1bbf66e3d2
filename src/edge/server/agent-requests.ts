import { TroupeError } from '../../core/errors.js';
import { taskStatusOf } from '../../core/machines/task-machine.js';
import type { AttemptRecord, TaskContext } from '../../core/machines/task-types.js';
import type { ReportOutcome } from '../../engine/api/lease-api.js';
import type { Runtime } from '../../runtime.js';
import type { AgentSessions } from './agent-sessions.js';
import type { Connection } from './connection.js';
import type { AgentMessage, AgentRequest } from './protocol/agent-messages.js';
import { CLOSE_CODES } from './protocol/codes.js';
import { ProtocolError } from './protocol/protocol-error.js';

/** A message about one lease. */
type LeaseReport = { type: AgentMessage['type']; ref?: string | number | undefined; taskId: string; leaseId: string };

/**
 * What agent messages do. Reports about leases go to `runtime.leases`, which applies each
 * once: a repeat gets the same ack with `applied: false`, anything else about a lease that is
 * not current is refused with `E_LEASE_MISMATCH`. In front of it, this class refuses reports
 * about leases another agent holds (`E_FORBIDDEN`).
 *
 * Reports about live tasks reach the runtime synchronously, in the order their frames came, so
 * an agent may send `accept` and `complete` back to back without waiting for the first ack.
 */
export class AgentRequests {
  /** Leases with an accept on its way to the runtime: a report right behind it needs no accept of its own. */
  private readonly accepting = new Set<string>();

  constructor(
    private readonly runtime: Runtime,
    private readonly sessions: AgentSessions,
  ) {}

  handle(connection: Connection, message: AgentRequest): void {
    if (message.type === 'hello') {
      this.sessions.hello(connection, message).catch((error: unknown) => connection.fail(message.ref, error));
      return;
    }
    const agentId = this.sessions.agentOf(connection);
    if (!agentId) {
      const hint = this.sessions.greeted(connection)
        ? 'wait for welcome before sending anything else'
        : 'say hello first';
      connection.fail(message.ref, new ProtocolError('E_HELLO_REQUIRED', hint));
      return;
    }
    switch (message.type) {
      case 'heartbeat': {
        const beat = this.runtime.agents.heartbeat(agentId);
        const { taskId, leaseId } = message;
        if (taskId === undefined || leaseId === undefined) {
          this.answer(
            connection,
            message,
            beat.then(() => ({})),
          );
          return;
        }
        // Also the task's heartbeat: its deadline moves, and the ack says how the task is. The
        // agent's beat counts even when the task's is refused.
        beat.catch(() => undefined);
        this.report(connection, agentId, { ...message, taskId, leaseId }, () =>
          Promise.all([beat, this.runtime.leases.heartbeat(taskId, leaseId)]).then(([, outcome]) => outcome),
        );
        return;
      }
      case 'accept':
        this.report(connection, agentId, message, () => this.accept(message.taskId, message.leaseId));
        return;
      case 'reject':
        this.report(connection, agentId, message, () =>
          this.runtime.leases.reject(message.taskId, message.leaseId, message.reason),
        );
        return;
      case 'progress':
        this.report(connection, agentId, message, () =>
          this.runtime.leases.progress(message.taskId, message.leaseId, message.value, message.message),
        );
        return;
      case 'complete':
        this.report(connection, agentId, message, () =>
          this.runtime.leases.complete(message.taskId, message.leaseId, {
            result: message.result ?? null,
            artifacts: message.artifacts ?? {},
            quality: message.quality ?? null,
          }),
        );
        return;
      case 'fail': {
        const report = {
          message: message.error,
          category: message.category,
          ...(message.code !== undefined ? { code: message.code } : {}),
          ...(message.retryable !== undefined ? { retryable: message.retryable } : {}),
        };
        this.report(connection, agentId, message, () =>
          this.runtime.leases.fail(message.taskId, message.leaseId, report),
        );
        return;
      }
      case 'message':
        this.answer(
          connection,
          message,
          this.runtime.events.message(agentId, message.to, message.body, message.ticketId ?? null).then(() => ({})),
        );
        return;
      case 'goodbye':
        this.sessions.goodbye(connection).then(
          () => {
            connection.ack(message.ref, 'goodbye');
            connection.close(CLOSE_CODES.NORMAL, 'goodbye');
          },
          (error: unknown) => connection.fail(message.ref, error),
        );
        return;
    }
  }

  /** Accepts, remembering the lease until the runtime has answered (see `report`). */
  private accept(taskId: string, leaseId: string): Promise<ReportOutcome> {
    this.accepting.add(leaseId);
    const outcome = this.runtime.leases.accept(taskId, leaseId);
    void outcome.finally(() => this.accepting.delete(leaseId)).catch(() => undefined);
    return outcome;
  }

  /**
   * Carries out a report about a lease after checking the lease is this agent's. `run` is
   * called synchronously when the task is live (the hot path), so reports keep their order.
   * A report on a task still only offered counts as its accept (the accept goes first).
   */
  private report(
    connection: Connection,
    agentId: string,
    message: LeaseReport,
    run: () => Promise<ReportOutcome>,
  ): void {
    const verdict = this.check(agentId, message.taskId, message.leaseId);
    const go = ({ refusal, offered }: Verdict) => {
      if (refusal) {
        connection.fail(message.ref, refusal);
        return;
      }
      if (offered && message.type !== 'accept' && message.type !== 'reject' && !this.accepting.has(message.leaseId)) {
        this.accept(message.taskId, message.leaseId).catch(() => undefined);
      }
      let outcome: Promise<ReportOutcome>;
      try {
        outcome = run();
      } catch (thrown) {
        connection.fail(message.ref, thrown);
        return;
      }
      this.answer(
        connection,
        message,
        outcome.then((o) => ({ applied: o.applied, status: o.task.status })),
      );
    };
    if (verdict instanceof Promise) void verdict.then(go);
    else go(verdict);
  }

  private answer(
    connection: Connection,
    message: { type: string; ref?: string | number | undefined },
    work: Promise<Record<string, unknown>>,
  ): void {
    work.then(
      (fields) => connection.ack(message.ref, message.type, fields),
      (error: unknown) => connection.fail(message.ref, error),
    );
  }

  /**
   * Whether the agent may report on this lease: yes when it is the agent's, or when no attempt
   * of the task has it (the runtime then refuses with `E_LEASE_MISMATCH`). Synchronous for a
   * live task; settled tasks are read from the store.
   */
  private check(agentId: string, taskId: string, leaseId: string): Verdict | Promise<Verdict> {
    const byAttempts = (attempts: AttemptRecord[]): Verdict => {
      for (let i = attempts.length - 1; i >= 0; i--) {
        const attempt = attempts[i] as AttemptRecord;
        if (attempt.leaseId !== leaseId) continue;
        return attempt.agentId === agentId
          ? ALLOWED
          : { refusal: new ProtocolError('E_FORBIDDEN', `lease ${leaseId} belongs to another agent`), offered: false };
      }
      return ALLOWED;
    };
    const live = this.runtime.core.host.getLive(taskId);
    if (live) {
      if (live.kind !== 'task')
        return { refusal: new TroupeError('E_UNKNOWN_TASK', `no task has id "${taskId}"`), offered: false };
      const context = live.snapshot.context as TaskContext;
      const verdict = byAttempts(context.attempts);
      const offered = context.lease?.id === leaseId && taskStatusOf(live.snapshot.value) === 'offered';
      return verdict.refusal || !offered ? verdict : { refusal: null, offered: true };
    }
    return this.runtime.tasks.get(taskId).then(
      (task) => byAttempts(task.attempts),
      (error: unknown) => ({
        refusal: error instanceof TroupeError ? error : new TroupeError('E_UNKNOWN_TASK', `no task has id "${taskId}"`),
        offered: false,
      }),
    );
  }
}

interface Verdict {
  refusal: TroupeError | ProtocolError | null;
  /** The lease is current and the task only offered: a report counts as its accept. */
  offered: boolean;
}

const ALLOWED: Verdict = { refusal: null, offered: false };
