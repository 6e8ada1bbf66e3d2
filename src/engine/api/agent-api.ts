import { z } from 'zod';
import { TroupeError } from '../../core/errors.js';
import type { InProcessAgents } from './in-process-agents.js';
import { type TaskHandler } from './task-handler.js';
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_STALE_AFTER_MS,
  type AgentContext,
  type AgentTransportKind,
} from '../../core/machines/agent-machine.js';
import type { AgentTransport } from '../agent-transport.js';
import type { RuntimeCore } from '../runtime-core.js';
import { parseOrThrow } from '../validation.js';
import { agentView, type AgentView } from './views.js';
import { isReservedId, RESERVED_ID_RULE } from '../../core/reserved-ids.js';

const agentSchema = z
  .object({
    id: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9._:@-]+$/, 'ids use letters, digits and . _ : @ - only')
      .refine((id) => !isReservedId(id), RESERVED_ID_RULE),
    capabilities: z.array(z.string().min(1)).default([]),
    capacity: z.number().int().min(1).max(10_000).default(1),
    staleAfterMs: z.number().int().positive().optional(),
  })
  .strict();

/**
 * An in-process agent for `runtime.agents.register`: its id, what it can do, how much at once, and the handler that does the work.
 *
 * @example
 * ```ts
 * await runtime.agents.register({ id: 'coder', capabilities: ['code'], capacity: 4, handler: async ({ input }) => ({ ok: true }) });
 * ```
 */
export interface RegisterAgentInput {
  id: string;
  capabilities?: string[];
  /** Tasks the agent runs at once. Default 1. */
  capacity?: number;
  handler: TaskHandler;
  /**
   * In-process agents beat on their own (they live as long as the process) unless this is false;
   * then call `runtime.agents.heartbeat(id)` yourself.
   */
  autoHeartbeat?: boolean;
  /** Silence after which the agent is stale. Default 90 s. */
  staleAfterMs?: number;
}

export interface AgentApiOptions {
  heartbeatIntervalMs: number;
  staleAfterMs: number;
}

/**
 * Agents: register in-process workers, beat, drain, deregister, inspect.
 *
 * @example
 * ```ts
 * await runtime.agents.register({
 *   id: 'coder-1', capabilities: ['typescript'], capacity: 2,
 *   handler: async (task, ctx) => {
 *     ctx.progress(0.5, 'half way');
 *     ctx.artifact('patch', '--- a/x.ts ...');
 *     return { ok: true };
 *   },
 * });
 * ```
 */
export class AgentApi {
  readonly inProcess: InProcessAgents;
  private readonly beats = new Map<string, unknown>();

  constructor(
    private readonly core: RuntimeCore,
    private readonly ready: () => Promise<void>,
    private readonly options: AgentApiOptions,
    inProcess: InProcessAgents,
  ) {
    this.inProcess = inProcess;
  }

  /** Registers an agent whose handler runs in this process. */
  async register(input: RegisterAgentInput): Promise<AgentView> {
    if (typeof input?.handler !== 'function')
      throw new TroupeError('E_INVALID_INPUT', 'invalid agent: handler: must be a function');
    const { handler, autoHeartbeat, ...rest } = input;
    const spec = parseOrThrow(agentSchema, rest, 'agent');
    await this.ready();
    if (this.core.host.getLive(spec.id))
      throw new TroupeError('E_DUPLICATE_ID', `agent "${spec.id}" is already registered`);
    // The transport is in place before the agent exists: work may be offered in its first batch.
    this.inProcess.add(spec.id, handler);
    this.core.transports.set(spec.id, this.inProcess);
    try {
      const view = await this.registerWith(spec, 'in-process');
      if (autoHeartbeat !== false) this.startBeating(spec.id);
      return view;
    } catch (error) {
      this.inProcess.remove(spec.id);
      this.core.transports.delete(spec.id);
      throw error;
    }
  }

  /**
   * Registers an agent reached through another transport (the WebSocket server uses this).
   * @internal
   */
  async registerRemote(
    spec: { id: string; capabilities: string[]; capacity: number; staleAfterMs?: number },
    transport: AgentTransport,
  ): Promise<AgentView> {
    const parsed = parseOrThrow(agentSchema, spec, 'agent');
    await this.ready();
    if (this.core.host.getLive(parsed.id))
      throw new TroupeError('E_DUPLICATE_ID', `agent "${parsed.id}" is already registered`);
    const previous = this.core.transports.get(parsed.id);
    this.core.transports.set(parsed.id, transport);
    try {
      return await this.registerWith(parsed, 'websocket');
    } catch (error) {
      if (previous) this.core.transports.set(parsed.id, previous);
      else this.core.transports.delete(parsed.id);
      throw error;
    }
  }

  /** Marks the agent alive now. */
  async heartbeat(id: string): Promise<void> {
    await this.get(id);
    const outcome = await this.core.host.request(id, { type: 'agent.heartbeat' }, 'agent');
    if (outcome.error) throw outcome.error;
  }

  /** Takes no new work; the agent leaves once what it holds is done. */
  async drain(id: string): Promise<AgentView> {
    await this.get(id);
    const outcome = await this.core.host.request(id, { type: 'agent.drain' }, 'agent');
    if (!outcome.applied) throw new TroupeError('E_INVALID_STATE', `agent ${id} cannot drain now`);
    return this.get(id);
  }

  /** Removes the agent now; the tasks it holds go back to the queue (category `agent-lost`). */
  async deregister(id: string, reason = 'deregistered'): Promise<AgentView> {
    await this.get(id);
    const outcome = await this.core.host.request(id, { type: 'agent.deregister', reason }, 'agent');
    if (!outcome.applied) throw new TroupeError('E_INVALID_STATE', `agent ${id} is already gone`);
    this.stopBeating(id);
    this.inProcess.remove(id);
    return this.get(id);
  }

  /** Marks a remote agent lost (its connection is gone for good). @internal */
  async lose(id: string, reason: string): Promise<void> {
    this.stopBeating(id);
    await this.core.host.request(id, { type: 'agent.lost', reason }, 'agent');
  }

  async get(id: string): Promise<AgentView> {
    await this.ready();
    const live = this.core.host.getLive(id);
    if (live?.kind === 'agent') {
      return agentView(live.snapshot.value, live.snapshot.context as AgentContext, this.core.dispatcher.loadOf(id));
    }
    const stored = await this.core.options.store.getActor(id);
    if (stored?.kind !== 'agent') throw new TroupeError('E_UNKNOWN_AGENT', `no agent has id "${id}"`);
    return agentView(stored.state, stored.context as AgentContext, 0);
  }

  async list(): Promise<AgentView[]> {
    await this.ready();
    const records = await this.core.options.store.listActors({ kind: 'agent' });
    const ids = new Set(records.map((r) => r.id));
    for (const a of this.core.host.liveActors()) if (a.kind === 'agent') ids.add(a.id);
    return Promise.all([...ids].sort().map((id) => this.get(id)));
  }

  /** Stops the heartbeat loops (when the runtime stops). @internal */
  stopAll(): void {
    for (const id of [...this.beats.keys()]) this.stopBeating(id);
  }

  private async registerWith(spec: z.output<typeof agentSchema>, transport: AgentTransportKind): Promise<AgentView> {
    const outcome = await this.core.host.spawn(
      'agent',
      spec.id,
      {
        id: spec.id,
        capabilities: [...new Set(spec.capabilities)],
        capacity: spec.capacity,
        transport,
        staleAfterMs: spec.staleAfterMs ?? this.options.staleAfterMs,
      },
      null,
      { replaceSettled: true },
    );
    if (outcome.error) throw outcome.error;
    return this.get(spec.id);
  }

  private startBeating(id: string): void {
    this.stopBeating(id);
    const clock = this.core.options.clock;
    const beat = () => {
      if (!this.beats.has(id)) return;
      if (!this.core.host.failed && this.core.host.getLive(id)) this.core.host.send(id, { type: 'agent.heartbeat' });
      this.beats.set(id, clock.schedule(this.options.heartbeatIntervalMs, beat));
    };
    this.beats.set(id, clock.schedule(this.options.heartbeatIntervalMs, beat));
  }

  private stopBeating(id: string): void {
    const handle = this.beats.get(id);
    if (handle !== undefined) this.core.options.clock.clear(handle);
    this.beats.delete(id);
  }
}

export const AGENT_DEFAULTS: AgentApiOptions = {
  heartbeatIntervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS,
  staleAfterMs: DEFAULT_STALE_AFTER_MS,
};
