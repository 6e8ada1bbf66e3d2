/** An assignment on its way to an agent, after the batch that made it has committed. */
export interface Offer {
  taskId: string;
  agentId: string;
  leaseId: string;
  attempt: number;
  /** True when the task is already running (the agent accepted by taking it, as in-process agents do). */
  autoStart: boolean;
}

/** A lease taken back from an agent (the task was cancelled or timed out): the agent should stop working on it. */
export interface Revocation {
  taskId: string;
  agentId: string;
  leaseId: string;
  reason: string;
}

/**
 * How work reaches one kind of agent. In-process agents and WebSocket agents implement it;
 * the runtime never knows which it talks to.
 */
export interface AgentTransport {
  offer(offer: Offer): void;
  revoke(revocation: Revocation): void;
}
