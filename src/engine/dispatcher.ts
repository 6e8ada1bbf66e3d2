import type { AgentAvailability } from '../core/machines/agent-machine.js';
import type { TaskControls } from '../core/machines/task-types.js';
import type { Clock } from './clock.js';
import { BinaryHeap } from '../core/binary-heap.js';
import { RejectCooldown } from './reject-cooldown.js';
import { ConcurrencyKeys } from './controls/concurrency-keys.js';
import { ControlGates, type GateRefusal, type GatedTask, type Spend } from './controls/control-gates.js';

/** A queued task; it is also what the gates read (`GatedTask`): no second object per task. */
interface QueuedTask extends GatedTask {
  taskId: string;
  priority: number;
  /** Arrival order, to break priority ties: oldest first. */
  order: number;
  /** The capability queue it belongs to (where it goes back after being held back). */
  queue: CapabilityQueue;
  /** `NO_CONTROLS` for a task with none. */
  controls: TaskControls;
  type: string;
  /** The capabilities it needs (its queue's). */
  requires: readonly string[];
}

const NO_CONTROLS: TaskControls = Object.freeze({});

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
  constructor(
    readonly requires: string[],
    /** Its key in the dispatcher's map of queues (`capabilityKey(requires)`). */
    readonly key: string,
  ) {
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
  /** A gate began holding tasks back (a rate limit ran dry, a bulkhead filled): for an event. */
  onHeldBack?: (refusal: GateRefusal) => void;
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
  /** Rate limits, circuit breakers and bulkheads: whether a task may start now. */
  readonly gates = new ControlGates();
  /** Tasks per concurrency key, admitted to the queues one at a time per key. */
  private readonly keys: ConcurrencyKeys<QueuedTask>;
  /** Tasks a gate holds back, by gate (`ratelimit:<key>`, ...), until it may let them pass. */
  private readonly heldBack = new Map<string, QueuedTask[]>();
  private readonly heldBackWhy = new Map<string, string>();
  /** Controls of the tasks agents hold now: what their release gives back. */
  private readonly running = new Map<string, TaskControls>();
  private readonly refills = new Map<string, unknown>();

  constructor(private readonly options: DispatcherOptions) {
    this.cooldown = new RejectCooldown(options.clock, options.rejectCooldownMs, (taskId) => {
      if (!this.queued.has(taskId)) return;
      this.dirty = true;
      options.wake();
    });
    this.keys = new ConcurrencyKeys<QueuedTask>(
      (entry) => this.queued.get(entry.taskId) === entry,
      (entry) => this.requeue(entry, true),
    );
  }

  enqueue(taskId: string, priority: number, requires: string[], controls: TaskControls = NO_CONTROLS, type = ''): void {
    const key = capabilityKey(requires);
    let queue = this.queues.get(key);
    if (!queue) {
      queue = new CapabilityQueue([...new Set(requires)].sort(), key);
      this.queues.set(key, queue);
    }
    const entry: QueuedTask = {
      taskId,
      priority,
      order: this.order++,
      queue,
      controls: hasControls(controls) ? controls : NO_CONTROLS,
      type,
      requires: queue.requires,
    };
    this.queued.set(taskId, entry);
    if (controls.concurrency) this.keys.add(controls.concurrency.key, controls.concurrency.max, entry);
    else queue.push(entry);
    this.dirty = true;
  }

  dequeue(taskId: string): void {
    const entry = this.queued.get(taskId);
    this.queued.delete(taskId);
    this.heldBackWhy.delete(taskId);
    const key = entry?.controls.concurrency?.key;
    if (entry && key !== undefined) this.keys.withdrawn(key, entry);
  }

  /** Why a queued task has not started, in words for its view; null when it is not queued. */
  whyWaiting(taskId: string): string | null {
    const entry = this.queued.get(taskId);
    if (!entry) return null;
    const held = this.heldBackWhy.get(taskId);
    if (held !== undefined) return held;
    const key = entry.controls.concurrency?.key;
    if (key !== undefined && !this.keys.isAdmitted(key, entry)) return this.keys.reason(key);
    if (this.cooldown.has(taskId)) return 'declined lately by the agents that could take it (reject cooldown)';
    const needs = entry.queue.requires.length > 0 ? ` with ${entry.queue.requires.join(', ')}` : '';
    return `waiting for a free agent${needs}`;
  }

  /** Concurrency keys with tasks waiting or running; for tests and metrics. */
  concurrencyKeyCount(): number {
    return this.keys.size;
  }

  /** Lets the tasks a gate holds back be considered again (its state changed). */
  reopen(gate: string): void {
    const list = this.heldBack.get(gate);
    if (!list) return;
    this.heldBack.delete(gate);
    for (const entry of list) {
      if (this.queued.get(entry.taskId) !== entry) continue;
      this.heldBackWhy.delete(entry.taskId);
      this.requeue(entry, false);
    }
    this.options.wake();
  }

  /** Reopens every gate whose name starts with `prefix` (a bulkhead changed: all of them). */
  reopenAll(prefix: string): void {
    for (const gate of [...this.heldBack.keys()]) if (gate.startsWith(prefix)) this.reopen(gate);
  }

  /** Back into its capability queue: `fresh` gives it a place at the back (a key's next turn). */
  private requeue(entry: QueuedTask, fresh: boolean): void {
    if (fresh) entry.order = this.order++;
    // The queue it came from may have been dropped when it ran empty, and a new one made since.
    const queue = this.queues.get(entry.queue.key);
    if (queue) entry.queue = queue;
    else this.queues.set(entry.queue.key, entry.queue);
    entry.queue.push(entry);
    this.dirty = true;
  }

  private holdBack(entry: QueuedTask, refusal: GateRefusal): void {
    let list = this.heldBack.get(refusal.gate);
    if (!list) {
      list = [];
      this.heldBack.set(refusal.gate, list);
      this.options.onHeldBack?.(refusal);
    }
    list.push(entry);
    this.heldBackWhy.set(entry.taskId, refusal.reason);
    if (refusal.until !== null && !this.refills.has(refusal.gate)) {
      // Not durable, and need not be: after a restart the task is held back again and this re-armed.
      const handle = this.options.clock.schedule(refusal.until - this.options.clock.now(), () => {
        this.refills.delete(refusal.gate);
        this.reopen(refusal.gate);
      });
      this.refills.set(refusal.gate, handle);
    }
  }

  /** Units the last match spent, one sum per key, to persist on the rate limits' actors (emptied by the call). */
  takeSpends(): Spend[] {
    return this.gates.takeSpends();
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
  hold(agentId: string, taskId: string, controls?: TaskControls): void {
    let set = this.held.get(agentId);
    if (!set) {
      set = new Set();
      this.held.set(agentId, set);
    }
    if (set.has(taskId)) return;
    set.add(taskId);
    if (
      controls !== undefined &&
      controls !== NO_CONTROLS &&
      (controls.bulkhead !== undefined || controls.concurrency !== undefined)
    ) {
      this.running.set(taskId, controls);
      this.gates.running(controls.bulkhead, 1);
    }
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
    const controls = this.running.get(taskId);
    if (controls) {
      this.running.delete(taskId);
      if (controls.concurrency) this.keys.stopped(controls.concurrency.key);
      if (controls.bulkhead !== undefined) {
        this.gates.running(controls.bulkhead, -1);
        this.reopen(`bulkhead:${controls.bulkhead}`);
      }
    }
    if (this.heldBack.has('bulkhead:*reserved')) this.reopen('bulkhead:*reserved');
  }

  /** A task restored as held after a restart: its concurrency key counts it as running. */
  restoreRunning(controls: TaskControls): void {
    if (controls.concurrency) this.keys.restoreRunning(controls.concurrency.key, controls.concurrency.max);
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
    const gating = this.gates.declared > 0;
    let capacity = 0;
    let load = 0;
    if (gating) {
      for (const a of this.agents.values()) {
        if (!a.accepting) continue;
        capacity += a.capacity;
        load += a.load;
      }
    }
    const now = gating ? this.options.clock.now() : 0;
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
      const controls = bestTask.controls;
      if (gating) {
        const refusal = this.gates.check(bestTask, now, capacity, load);
        if (refusal) {
          this.holdBack(bestTask, refusal);
          continue;
        }
        this.gates.admit(bestTask, now);
        load += 1;
      }
      this.queued.delete(bestTask.taskId);
      this.hold(bestAgent.agentId, bestTask.taskId, controls);
      if (controls.concurrency) this.keys.started(controls.concurrency.key, bestTask);
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

/** Whether a task is under any control (tasks with none share one frozen empty object). */
function hasControls(controls: TaskControls): boolean {
  if (controls === NO_CONTROLS) return false;
  for (const _ in controls) return true;
  return false;
}

function capabilityKey(requires: string[]): string {
  return [...new Set(requires)].sort().join('\u0000');
}
