import type { Logger } from 'pino';
import type { AgentTransport, Offer, Revocation } from '../../engine/agent-transport.js';
import type { Runtime } from '../../runtime.js';
import { buildAssignment, leasedTask } from './assignment.js';
import type { Connection } from './connection.js';
import type { WelcomeMessage } from './protocol/server-messages.js';

/** The messages an assignment's answer takes (its accept and its complete or fail): they do not count against the rate limit. */
const REPORTS_PER_ASSIGNMENT = 2;

/**
 * One WebSocket agent, by id, across its connections: the transport the runtime offers its
 * work through. It outlives a dropped connection for the grace period, so a reconnect finds
 * its leases where it left them.
 *
 * Offers are sent only to a connection that has been welcomed: the runtime may offer work in
 * the very batch that registers the agent, before the welcome has gone out, and an agent must
 * see its welcome first. Offers made while no connection is attached are not kept: the task
 * stays offered to this agent, and the next hello sends it again (or the grace period ends
 * and the task is requeued).
 */
export class AgentSession implements AgentTransport {
  private current: Connection | null = null;
  private welcomed = false;
  /** Offers made between attach and welcome, by lease id. */
  private readonly early = new Map<string, Offer>();
  /** The grace timer while disconnected (a handle of the runtime's clock). */
  graceTimer: unknown = null;
  /**
   * The session's resume secret, given in every welcome: a hello that carries it is this
   * session coming back. Null for a session adopted from the store after a restart (secrets are
   * kept in memory only): its first hello sets one.
   */
  secret: string | null = null;

  constructor(
    readonly agentId: string,
    private readonly runtime: Runtime,
    private readonly logger: Logger,
  ) {}

  get connection(): Connection | null {
    return this.current;
  }

  get connected(): boolean {
    return this.current !== null && this.welcomed;
  }

  offer(offer: Offer): void {
    if (!this.current) return;
    if (!this.welcomed) this.early.set(offer.leaseId, offer);
    else this.deliver(this.current, offer);
  }

  revoke(revocation: Revocation): void {
    this.early.delete(revocation.leaseId);
    if (!this.current || !this.welcomed) return;
    this.current.send({
      type: 'cancel',
      taskId: revocation.taskId,
      leaseId: revocation.leaseId,
      reason: revocation.reason,
    });
  }

  /** Makes `connection` the agent's; offers wait for `welcome`. */
  attach(connection: Connection): void {
    this.current = connection;
    this.welcomed = false;
    this.early.clear();
  }

  /** Forgets `connection` if it is still the agent's; true when it was. */
  detach(connection: Connection): boolean {
    if (this.current !== connection) return false;
    this.current = null;
    this.welcomed = false;
    this.early.clear();
    return true;
  }

  /**
   * Sends the welcome, then the assignments to send again and those offered meanwhile. With the
   * `batch` feature granted, frames after the welcome may be batched (the welcome itself never is:
   * the agent learns from it that batches may come).
   */
  welcome(connection: Connection, frame: WelcomeMessage, resend: Offer[]): boolean {
    if (this.current !== connection) return false;
    connection.send(frame);
    if (frame.features.includes('batch')) connection.startBatching();
    this.welcomed = true;
    const offers = new Map(resend.map((o) => [o.leaseId, o]));
    for (const [leaseId, offer] of this.early) offers.set(leaseId, offer);
    this.early.clear();
    for (const offer of offers.values()) this.deliver(connection, offer);
    return true;
  }

  /** Delivers an inter-agent message, if the agent is connected. */
  deliverMessage(frame: object): void {
    if (this.connected) this.current?.send(frame);
  }

  private deliver(connection: Connection, offer: Offer): void {
    const built = buildAssignment(this.runtime, offer);
    if (built === null) return;
    if (!(built instanceof Promise)) {
      if (connection.send(built)) connection.allow(REPORTS_PER_ASSIGNMENT);
      return;
    }
    built.then(
      (frame) => {
        // Sent only if the lease is still current and the same connection still carries it.
        if (
          frame &&
          this.current === connection &&
          leasedTask(this.runtime, offer.taskId, offer.leaseId) &&
          connection.send(frame)
        ) {
          connection.allow(REPORTS_PER_ASSIGNMENT);
        }
      },
      (error: unknown) => this.logger.error({ err: error, offer }, 'could not build an assignment'),
    );
  }
}
