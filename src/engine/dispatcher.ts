import type { AgentAvailability } from '../core/machines/agent-machine.js';
import type { Clock } from './clock.js';
import { BinaryHeap } from './binary-heap.js';
import { RejectCooldown } from './reject-cooldown.js';

interface QueuedTask {
  taskId: string;
  priority: number;
  /** Arrival order, to break priority ties: oldest first. */
  order: number;
}

interface AgentSlots {
  agentId: string;
  capabilities: Set<string>;
  capacity: number;
  load: number;
  accepting: boolean;
  autoStart: boolean;
  /** Load at the last time the agent actor was told; the host sends one update per batch. */
  reportedLoad: number;
}

/** A queue of tasks that need the same capabilities, highest priority then oldest first. */
class CapabilityQueue extends BinaryHeap<QueuedTask> {
  constructor(readonly requires: string[]) {
    super(before);
  }
}

function before(a: QueuedTask, b: QueuedTask): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.order < b.order);
}

export interface DispatcherOptions {
  clock: Clock;
  /** How long an agent that rejected a task is not offered it again (0: no cooldown). */
  rejectCooldownMs: number;
  /** Asks for a batch (so `match` runs) once a queued task's cooldown has ended. */
  wake: () => void;
}

export interface Assignment {
  taskId: string;
  agentId: string;
  autoStart: boolean;
}

/**
 * Matches queued tasks with agents: highest priority first (then oldest), to the least-loaded
 * agent whose capabilities include all the task requires, never beyond an agent's capacity.
 * It only holds indexes; the decision becomes a `task.assign` message the task machine accepts
 * or refuses, so a task can never be held by two agents. An agent that rejected a task is not
 * offered it again before a cooldown has passed (`RejectCooldown`); others may take it at once.
 */
export class Dispatcher {
  private readonly queues = new Map<string, CapabilityQueue>();
  /** Tasks in the queue now, by id, with their entry; cancelled entries are skipped lazily. */
  private readonly queued = new Map<string, QueuedTask>();
  private readonly agents = new Map<string, AgentSlots>();
  /** Which agent holds which tasks: what goes back to the queue if the agent is lost. */
  private readonly held = new Map<string, Set<string>>();
  private order = 0;
  private dirty = false;
  private readonly changedLoad = new Set<string>();
  private readonly cooldown: RejectCooldown;

  constructor(options: DispatcherOptions) {
    this.cooldown = new RejectCooldown(options.clock, options.rejectCooldownMs, (taskId) => {
      if (!this.queued.has(taskId)) return;
      this.dirty = true;
      options.wake();
    });
  }

  enqueue(taskId: string, priority: number, requires: string[]): void {
    const key = capabilityKey(requires);
    let queue = this.queues.get(key);
    if (!queue) {
      queue = new CapabilityQueue([...new Set(requires)].sort());
      this.queues.set(key, queue);
    }
    const entry = { taskId, priority, order: this.order++ };
    this.queued.set(taskId, entry);
    queue.push(entry);
    this.dirty = true;
  }

  dequeue(taskId: string): void {
    this.queued.delete(taskId);
  }

  addAgent(availability: AgentAvailability): void {
    const existing = this.agents.get(availability.agentId);
    this.agents.set(availability.agentId, {
      agentId: availability.agentId,
      capabilities: new Set(availability.capabilities),
      capacity: availability.capacity,
      load: existing?.load ?? this.held.get(availability.agentId)?.size ?? 0,
      accepting: true,
      autoStart: availability.transport === 'in-process',
      reportedLoad: existing?.reportedLoad ?? 0,
    });
    this.dirty = true;
  }

  /** The agent takes no new work; what it holds stays with it until released. */
  stopOffering(agentId: string): void {
    const slots = this.agents.get(agentId);
    if (slots) slots.accepting = false;
  }

  /** Records a task as held by an agent (on assignment, and when restoring after a restart). */
  hold(agentId: string, taskId: string): void {
    let set = this.held.get(agentId);
    if (!set) {
      set = new Set();
      this.held.set(agentId, set);
    }
    if (set.has(taskId)) return;
    set.add(taskId);
    const slots = this.agents.get(agentId);
    if (slots) {
      slots.load += 1;
      this.changedLoad.add(agentId);
    }
  }

  release(agentId: string, taskId: string): void {
    const set = this.held.get(agentId);
    if (!set?.delete(taskId)) return;
    const slots = this.agents.get(agentId);
    if (slots) {
      slots.load -= 1;
      this.changedLoad.add(agentId);
    }
    this.dirty = true;
  }

  /** The agent rejected the offered task: it is not offered it again until the cooldown ends. */
  rejected(taskId: string, agentId: string): void {
    this.cooldown.add(taskId, agentId);
  }

  /** The task settled (or was cancelled): no agent cools down on it any more. */
  forgetRejections(taskId: string): void {
    this.cooldown.forget(taskId);
  }

  /** (task, agent) pairs in a reject cooldown now; for tests and metrics. */
  cooldownCount(): number {
    return this.cooldown.size;
  }

  /** Disarms the cooldown's clock callback (the runtime stops). */
  stop(): void {
    this.cooldown.stop();
  }

  heldBy(agentId: string): string[] {
    return [...(this.held.get(agentId) ?? [])];
  }

  loadOf(agentId: string): number {
    return this.agents.get(agentId)?.load ?? this.held.get(agentId)?.size ?? 0;
  }

  queuedCount(): number {
    return this.queued.size;
  }

  /** Agents whose load changed since the last call, with the new load (one update per batch). */
  takeLoadChanges(): Array<{ agentId: string; load: number }> {
    const changes: Array<{ agentId: string; load: number }> = [];
    for (const agentId of this.changedLoad) {
      const slots = this.agents.get(agentId);
      if (slots && slots.load !== slots.reportedLoad) {
        slots.reportedLoad = slots.load;
        changes.push({ agentId, load: slots.load });
      }
    }
    this.changedLoad.clear();
    return changes;
  }

  /** Decides assignments for as much queued work as free slots allow. */
  match(): Assignment[] {
    if (!this.dirty) return [];
    this.dirty = false;
    const assignments: Assignment[] = [];
    const free = [...this.agents.values()].filter((a) => a.accepting && a.load < a.capacity);
    if (free.length === 0) return assignments;
    const eligibleFor = new Map<CapabilityQueue, AgentSlots[]>();
    for (const queue of this.queues.values()) {
      eligibleFor.set(
        queue,
        free.filter((a) => queue.requires.every((c) => a.capabilities.has(c))),
      );
    }
    // Heads no free agent may take now (all of them rejected it lately), set aside for this pass.
    const setAside: Array<[CapabilityQueue, QueuedTask]> = [];
    for (;;) {
      // The best head among the queues that some free agent can serve.
      let bestQueue: CapabilityQueue | undefined;
      let bestTask: QueuedTask | undefined;
      let bestAgent: AgentSlots | undefined;
      for (const [queue, agents] of eligibleFor) {
        const pick = this.servableHead(queue, agents, bestTask, setAside);
        if (!pick) continue;
        bestQueue = queue;
        bestTask = pick.task;
        bestAgent = pick.agent;
      }
      if (!bestQueue || !bestTask || !bestAgent) break;
      bestQueue.pop();
      this.queued.delete(bestTask.taskId);
      this.hold(bestAgent.agentId, bestTask.taskId);
      assignments.push({ taskId: bestTask.taskId, agentId: bestAgent.agentId, autoStart: bestAgent.autoStart });
    }
    // Still queued, same entry: they keep their place (priority, then arrival).
    for (const [queue, task] of setAside) queue.push(task);
    for (const [key, queue] of this.queues) if (queue.size === 0) this.queues.delete(key);
    return assignments;
  }

  /**
   * The queue's first task that a free agent may take, with the least-loaded such agent; none when
   * that task does not come before `better`. A head that every free agent rejected lately is set
   * aside, so the tasks behind it are not held up.
   */
  private servableHead(
    queue: CapabilityQueue,
    agents: AgentSlots[],
    better: QueuedTask | undefined,
    setAside: Array<[CapabilityQueue, QueuedTask]>,
  ): { task: QueuedTask; agent: AgentSlots } | undefined {
    for (;;) {
      const head = this.liveHead(queue);
      if (!head || (better && !before(head, better))) return undefined;
      if (!this.cooldown.has(head.taskId)) {
        const agent = leastLoaded(agents);
        return agent && { task: head, agent };
      }
      const agent = leastLoaded(agents, (a) => !this.cooldown.blocks(head.taskId, a.agentId));
      if (agent) return { task: head, agent };
      if (!leastLoaded(agents)) return undefined;
      queue.pop();
      setAside.push([queue, head]);
    }
  }

  private liveHead(queue: CapabilityQueue): QueuedTask | undefined {
    for (;;) {
      const head = queue.peek();
      if (!head) return undefined;
      if (this.queued.get(head.taskId) === head) return head;
      queue.pop();
    }
  }
}

function leastLoaded(agents: AgentSlots[], allowed?: (agent: AgentSlots) => boolean): AgentSlots | undefined {
  let best: AgentSlots | undefined;
  for (const a of agents) {
    if (!a.accepting || a.load >= a.capacity) continue;
    if (allowed && !allowed(a)) continue;
    if (!best || a.load / a.capacity < best.load / best.capacity) best = a;
  }
  return best;
}

function capabilityKey(requires: string[]): string {
  return [...new Set(requires)].sort().join('\u0000');
}
