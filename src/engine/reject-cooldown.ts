import type { Clock } from './clock.js';
import { TimerWheel } from './timer-wheel.js';

/** How long an agent that rejected a task is not offered it again, unless the runtime says otherwise. */
export const DEFAULT_REJECT_COOLDOWN_MS = 5_000;

/**
 * Which agents rejected which tasks lately: the dispatcher does not offer a task to an agent that
 * rejected it until the cooldown has passed on the runtime clock (other agents may take it at once).
 * Without it, one capable agent that keeps declining would get the task straight back, in a tight
 * offer/reject loop.
 *
 * Kept in memory only, never stored: it is a scheduling hint, not state. After a restart it is
 * forgotten, and at worst the agent is offered the task once more and rejects it again.
 *
 * An entry leaves when its cooldown ends (`onEnded` then wakes the dispatcher, so the task is offered
 * again without waiting for an unrelated event) or when its task settles (`forget`). Entries are
 * kept while the task is offered to another agent, so that two agents that both decline do not
 * bounce it between them; they end on their own a cooldown later.
 */
export class RejectCooldown {
  /** Until when (clock ms) each agent is not offered each task, by task id then agent id. */
  private readonly until = new Map<string, Map<string, number>>();
  private entries = 0;
  /** One clock callback for the earliest end; disarmed whenever nothing cools down. */
  private readonly wheel: TimerWheel;

  constructor(
    private readonly clock: Clock,
    private readonly cooldownMs: number,
    private readonly onEnded: (taskId: string) => void,
  ) {
    if (!Number.isFinite(cooldownMs) || cooldownMs < 0) {
      throw new RangeError(`rejectCooldownMs must be a number of ms >= 0, not ${cooldownMs}`);
    }
    this.wheel = new TimerWheel(clock, (taskId, agentId, at) => this.end(taskId, agentId, at));
  }

  /** The agent rejected the task now. A cooldown of 0 keeps nothing. */
  add(taskId: string, agentId: string): void {
    if (this.cooldownMs === 0) return;
    let agents = this.until.get(taskId);
    if (!agents) {
      agents = new Map();
      this.until.set(taskId, agents);
    }
    if (!agents.has(agentId)) this.entries += 1;
    const at = this.clock.now() + this.cooldownMs;
    agents.set(agentId, at);
    this.wheel.set(taskId, agentId, at);
  }

  /** True while the agent may not be offered the task. */
  blocks(taskId: string, agentId: string): boolean {
    const at = this.until.get(taskId)?.get(agentId);
    return at !== undefined && at > this.clock.now();
  }

  /** True when some agent cools down on this task (a cheap check before `blocks`). */
  has(taskId: string): boolean {
    return this.until.has(taskId);
  }

  /** Drops every entry of the task (it settled). */
  forget(taskId: string): void {
    const agents = this.until.get(taskId);
    if (!agents) return;
    for (const agentId of agents.keys()) this.wheel.clear(taskId, agentId);
    this.entries -= agents.size;
    this.until.delete(taskId);
    this.disarmIfEmpty();
  }

  /** (task, agent) pairs cooling down now. */
  get size(): number {
    return this.entries;
  }

  /** Disarms the clock callback (the runtime stops). */
  stop(): void {
    this.wheel.stop();
  }

  private end(taskId: string, agentId: string, at: number): void {
    const agents = this.until.get(taskId);
    if (agents?.get(agentId) !== at) return;
    agents.delete(agentId);
    this.entries -= 1;
    if (agents.size === 0) this.until.delete(taskId);
    this.disarmIfEmpty();
    this.onEnded(taskId);
  }

  private disarmIfEmpty(): void {
    // Nothing cools down: no clock callback should stay armed (a system clock's timer would keep
    // the process alive for nothing). The next `add` arms one again.
    if (this.entries === 0) this.wheel.stop();
  }
}
