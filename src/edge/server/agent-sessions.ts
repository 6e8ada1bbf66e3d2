import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { TroupeError } from '../../core/errors.js';
import { duplicateId } from '../../engine/host-types.js';
import type { AgentContext } from '../../core/machines/agent-machine.js';
import type { LiveActor } from '../../engine/host-types.js';
import type { Runtime } from '../../runtime.js';
import type { TroupeEvent } from '../../engine/event-bus.js';
import { AgentSession } from './agent-session.js';
import type { Connection } from './connection.js';
import { KeyedLock } from './keyed-lock.js';
import { reconcileLeases } from './lease-reconciliation.js';
import { limitsOf, type ResolvedServerOptions } from './shared/options.js';
import type { HelloMessage } from './protocol/agent-messages.js';
import { ProtocolError } from './protocol/protocol-error.js';
import { CLOSE_CODES, PROTOCOL_FEATURES, PROTOCOL_VERSION } from './protocol/codes.js';
import type { WelcomeMessage } from './protocol/server-messages.js';

/**
 * The WebSocket agents of one server, by id: hello (first registration, resume within the
 * grace period, takeover by a newer connection), the grace period after a disconnect, goodbye.
 *
 * The agent actor is the truth about an agent. Within the grace period it is still live, so a
 * reconnect reuses it; once the grace period ends it is marked lost (its tasks requeue) and a
 * later hello registers it anew.
 */
export class AgentSessions {
  private readonly sessions = new Map<string, AgentSession>();
  private readonly byConnection = new Map<Connection, AgentSession>();
  /** Connections whose hello is being handled. */
  private readonly greeting = new Set<Connection>();
  private readonly lock = new KeyedLock();
  private readonly helloTimers = new Map<Connection, unknown>();
  private closing = false;

  constructor(
    private readonly runtime: Runtime,
    private readonly options: ResolvedServerOptions,
    private readonly logger: Logger,
  ) {}

  /** Agents with a welcomed connection. */
  connectedCount(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.connected) n += 1;
    return n;
  }

  /** The agent id a connection said hello as, once welcomed. */
  agentOf(connection: Connection): string | null {
    const session = this.byConnection.get(connection);
    return session?.connection === connection && session.connected ? session.agentId : null;
  }

  /** True while a hello of this connection is being handled or once it has succeeded. */
  greeted(connection: Connection): boolean {
    return this.greeting.has(connection) || this.byConnection.has(connection);
  }

  /**
   * WebSocket agents the store knows but no connection carries (after a restart): each gets a
   * grace period to reconnect and resume, as if it had just disconnected.
   */
  adopt(actors: Iterable<LiveActor>): void {
    for (const actor of actors) {
      if (actor.kind !== 'agent') continue;
      const context = actor.snapshot.context as AgentContext;
      if (context.transport !== 'websocket' || this.sessions.has(context.id)) continue;
      const session = new AgentSession(context.id, this.runtime, this.logger);
      this.sessions.set(context.id, session);
      this.runtime.core.transports.set(context.id, session);
      this.startGrace(session);
    }
  }

  /** An agent connection must say hello in time. */
  expectHello(connection: Connection): void {
    const timer = this.runtime.clock.schedule(this.options.helloTimeoutMs, () => {
      this.helloTimers.delete(connection);
      if (!this.agentOf(connection)) connection.close(CLOSE_CODES.HELLO_TIMEOUT, 'no hello in time');
    });
    this.helloTimers.set(connection, timer);
  }

  async hello(connection: Connection, hello: HelloMessage): Promise<void> {
    const principal = connection.principal;
    if (principal.role !== 'agent') throw new TroupeError('E_INVALID_STATE', 'only agent connections say hello');
    if (this.greeted(connection)) throw new ProtocolError('E_ALREADY_HELLO', 'this connection has already said hello');
    if (hello.token !== undefined && hello.token !== principal.token) {
      throw new ProtocolError('E_FORBIDDEN', 'the hello token differs from the token the connection was opened with');
    }
    if (principal.agentIds && !principal.agentIds.has(hello.agentId)) {
      throw new ProtocolError('E_FORBIDDEN', `this token may not act as agent "${hello.agentId}"`);
    }
    this.greeting.add(connection);
    try {
      await this.lock.run(hello.agentId, () => this.greet(connection, hello));
    } catch (error) {
      const session = this.byConnection.get(connection);
      if (session?.detach(connection)) this.afterDetach(session);
      this.byConnection.delete(connection);
      throw error;
    } finally {
      this.greeting.delete(connection);
    }
  }

  /** The connection is gone: its agent keeps its leases for the grace period. */
  disconnected(connection: Connection): void {
    this.greeting.delete(connection);
    const timer = this.helloTimers.get(connection);
    if (timer !== undefined) this.runtime.clock.clear(timer);
    this.helloTimers.delete(connection);
    const session = this.byConnection.get(connection);
    this.byConnection.delete(connection);
    if (session?.detach(connection)) this.afterDetach(session);
  }

  /** The agent leaves for good: deregistered at once, its tasks requeued, no grace period. */
  async goodbye(connection: Connection): Promise<void> {
    const agentId = this.agentOf(connection);
    if (!agentId) throw new ProtocolError('E_HELLO_REQUIRED', 'say hello first');
    await this.lock.run(agentId, async () => {
      const session = this.sessions.get(agentId);
      if (session) {
        this.sessions.delete(agentId);
        session.detach(connection);
        this.clearGrace(session);
      }
      this.byConnection.delete(connection);
      await this.runtime.agents.deregister(agentId, 'said goodbye');
    });
  }

  /**
   * The runtime removed an agent (deregistered, or drained and now idle) while it was connected:
   * it is told so (4004), and gets no grace period.
   */
  gone(agentId: string, reason: string): void {
    const session = this.sessions.get(agentId);
    const connection = session?.connection;
    if (!session || !connection) return;
    this.sessions.delete(agentId);
    this.clearGrace(session);
    session.detach(connection);
    this.byConnection.delete(connection);
    connection.close(CLOSE_CODES.AGENT_GONE, reason.slice(0, 100));
  }

  /** Routes an `agent.message` event to its addressee, if it is connected here. */
  deliver(event: TroupeEvent): void {
    if (event.agentId === null) return;
    const data = event.data as { from?: unknown; to?: unknown; body?: unknown };
    this.sessions.get(event.agentId)?.deliverMessage({
      type: 'message',
      from: data.from,
      to: data.to,
      body: data.body,
      ticketId: event.ticketId,
    });
  }

  /** Stops every timer without losing anyone: agents resume after the next start. */
  close(): void {
    this.closing = true;
    for (const session of this.sessions.values()) this.clearGrace(session);
    for (const timer of this.helloTimers.values()) this.runtime.clock.clear(timer);
    this.helloTimers.clear();
  }

  private async greet(connection: Connection, hello: HelloMessage): Promise<void> {
    if (!connection.open || this.closing)
      throw new TroupeError('E_INVALID_STATE', 'the connection closed during hello');
    const id = hello.agentId;
    const live = this.runtime.core.host.getLive(id);
    // An id keeps its first kind: a task's, ticket's or coordinator's id, live or settled, is
    // never an agent's (checked before anything is attached, so nothing of the connection's
    // session touches that actor). The host and the store refuse it too, should this be raced.
    const kind = live?.kind ?? (await this.runtime.core.options.store.getActor(id))?.kind;
    if (kind !== undefined && kind !== 'agent') throw duplicateId(id, kind);
    if (live && (live.snapshot.context as AgentContext).transport !== 'websocket') {
      throw new TroupeError('E_DUPLICATE_ID', `agent "${id}" is registered in-process`);
    }
    let session = this.sessions.get(id);
    const held =
      session !== undefined && session.secret !== null && (session.connection !== null || live !== undefined);
    if (session && held && !sameSecret(hello.resumeSecret, session.secret)) {
      // Another session holds the id: only its secret resumes it, unless the operator lets the
      // newest session win (it gets a secret of its own; the old one stops working).
      if (!this.options.allowTakeover) {
        throw new ProtocolError(
          'E_AGENT_TAKEN',
          `another session holds agent "${id}" (${session.connection ? 'connected' : 'within its grace period'}); say hello with its resumeSecret, or retry once it has ended`,
        );
      }
      session.secret = null;
    }
    if (!session) {
      session = new AgentSession(id, this.runtime, this.logger);
      this.sessions.set(id, session);
    }
    // A new agent, a takeover, or a session adopted after a restart: a fresh secret.
    if (!live || session.secret === null) session.secret = randomBytes(24).toString('base64url');
    const previous = session.connection;
    if (previous && previous !== connection) {
      session.detach(previous);
      this.byConnection.delete(previous);
      previous.close(CLOSE_CODES.REPLACED, 'replaced by a newer connection of the same agent');
    }
    this.clearGrace(session);
    session.attach(connection);
    this.byConnection.set(connection, session);
    if (live) {
      // Within the grace period (or after a restart): the same agent actor carries on.
      this.runtime.core.transports.set(id, session);
      await this.runtime.agents.heartbeat(id);
    } else {
      await this.runtime.agents.registerRemote(
        { id, capabilities: hello.capabilities, capacity: hello.capacity, staleAfterMs: this.options.staleAfterMs },
        session,
      );
    }
    const reconciliation = await reconcileLeases(this.runtime, id, hello.held);
    const agent = await this.runtime.agents.get(id);
    const welcome: WelcomeMessage = {
      type: 'welcome',
      ref: hello.ref ?? null,
      protocol: PROTOCOL_VERSION,
      agentId: id,
      capabilities: agent.capabilities,
      capacity: agent.capacity,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs,
      staleAfterMs: this.options.staleAfterMs,
      graceMs: this.options.graceMs,
      serverTime: this.runtime.clock.now(),
      limits: limitsOf(this.options),
      resumed: reconciliation.resumed,
      revoked: reconciliation.revoked,
      features: PROTOCOL_FEATURES.filter((f) => hello.features.includes(f)),
      resumeSecret: session.secret,
    };
    if (!session.welcome(connection, welcome, reconciliation.resend)) {
      throw new TroupeError('E_INVALID_STATE', 'the connection closed during hello');
    }
    const timer = this.helloTimers.get(connection);
    if (timer !== undefined) this.runtime.clock.clear(timer);
    this.helloTimers.delete(connection);
  }

  private afterDetach(session: AgentSession): void {
    if (this.closing || this.sessions.get(session.agentId) !== session) return;
    this.startGrace(session);
  }

  private startGrace(session: AgentSession): void {
    this.clearGrace(session);
    session.graceTimer = this.runtime.clock.schedule(this.options.graceMs, () => {
      session.graceTimer = null;
      void this.lock
        .run(session.agentId, () => this.expire(session))
        .catch((error: unknown) =>
          this.logger.error({ err: error, agentId: session.agentId }, 'could not mark an agent lost'),
        );
    });
  }

  private async expire(session: AgentSession): Promise<void> {
    // A hello that won the lock first has attached a connection: nothing to expire.
    if (session.connection || this.sessions.get(session.agentId) !== session) return;
    this.sessions.delete(session.agentId);
    if (this.runtime.core.transports.get(session.agentId) === session)
      this.runtime.core.transports.delete(session.agentId);
    if (this.runtime.core.host.getLive(session.agentId)?.kind === 'agent') {
      await this.runtime.agents.lose(
        session.agentId,
        `disconnected for longer than the grace period of ${this.options.graceMs} ms`,
      );
    }
  }

  private clearGrace(session: AgentSession): void {
    if (session.graceTimer !== null) this.runtime.clock.clear(session.graceTimer);
    session.graceTimer = null;
  }
}

/** Compares a hello's secret with the session's without a timing hint (digests of equal length). */
function sameSecret(given: string | undefined, secret: string | null): boolean {
  if (given === undefined || secret === null) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(secret));
}
