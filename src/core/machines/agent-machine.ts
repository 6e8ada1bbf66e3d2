import { assign, enqueueActions, setup } from 'xstate';
import { EFFECT_ACTIONS, hostEffect, type Stamped } from './effects.js';

/** Heartbeat defaults from the seeds: a beat every 30 s, stale after 90 s of silence. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;
/** Silence after which an agent is stale and its leases are requeued, in ms (90 s). */
export const DEFAULT_STALE_AFTER_MS = 90_000;

export type AgentTransportKind = 'in-process' | 'websocket';

export interface AgentContext {
  id: string;
  capabilities: string[];
  capacity: number;
  transport: AgentTransportKind;
  /** Slots in use, as of the last batch. */
  load: number;
  lastBeatAt: number;
  staleAfterMs: number;
  registeredAt: number;
  reason: string | null;
  /** Asked to drain: it takes no new work, even after coming back from stale. */
  draining: boolean;
}

export interface AgentInput {
  id: string;
  capabilities: string[];
  capacity: number;
  transport: AgentTransportKind;
  staleAfterMs: number;
  now: number;
}

export type AgentEvent =
  | ({ type: 'agent.heartbeat' } & Stamped)
  | ({ type: 'agent.load'; load: number } & Stamped)
  | ({ type: 'agent.drain' } & Stamped)
  | ({ type: 'agent.deregister'; reason: string } & Stamped)
  | ({ type: 'agent.lost'; reason: string } & Stamped)
  | ({ type: 'timer'; name: string } & Stamped);

export interface AgentAvailability {
  agentId: string;
  capabilities: string[];
  capacity: number;
  transport: AgentTransportKind;
}

const emitAgent = (type: string, data: (c: AgentContext) => Record<string, unknown> = () => ({})) => ({
  type: 'emit' as const,
  params: ({ context }: { context: AgentContext }) => ({ type, agentId: context.id, data: data(context) }),
});

/**
 * An agent: registered and accepting work (idle or busy with some of its slots), draining,
 * stale when its heartbeats stop, or gone. Going stale or gone hands its tasks back
 * (`agentLost`), and the runtime requeues them with category `agent-lost`.
 */
export const agentMachine = setup({
  types: {
    context: {} as AgentContext,
    events: {} as AgentEvent,
    input: {} as AgentInput,
  },
  actions: {
    ...EFFECT_ACTIONS,
    /** The dispatcher may offer this agent work. */
    available: hostEffect<AgentAvailability>(),
    /** The dispatcher must stop offering this agent work. */
    unavailable: hostEffect<{ agentId: string }>(),
    /** Every task the agent holds is handed back. */
    agentLost: hostEffect<{ agentId: string; reason: string }>(),
    armStaleTimer: enqueueActions(({ context, enqueue }) => {
      enqueue({ type: 'setTimer', params: { name: 'stale', at: context.lastBeatAt + context.staleAfterMs } });
    }),
    beat: assign({ lastBeatAt: ({ event }) => event.now }),
    setLoad: assign({ load: ({ context, event }) => (event.type === 'agent.load' ? event.load : context.load) }),
    setReason: assign({
      reason: ({ event }) => ('reason' in event ? event.reason : event.type === 'timer' ? 'heartbeat missed' : null),
    }),
  },
  guards: {
    hasLoad: ({ context }) => context.load > 0,
    wasDraining: ({ context }) => context.draining,
    idle: ({ context }) => context.load === 0,
    staleDue: ({ context, event }) =>
      event.type === 'timer' && event.name === 'stale' && event.now >= context.lastBeatAt + context.staleAfterMs,
    staleTimer: ({ event }) => event.type === 'timer' && event.name === 'stale',
  },
}).createMachine({
  id: 'agent',
  context: ({ input }) => ({
    id: input.id,
    capabilities: input.capabilities,
    capacity: input.capacity,
    transport: input.transport,
    load: 0,
    lastBeatAt: input.now,
    staleAfterMs: input.staleAfterMs,
    registeredAt: input.now,
    reason: null,
    draining: false,
  }),
  entry: emitAgent('agent.registered', (c) => ({
    capabilities: c.capabilities,
    capacity: c.capacity,
    transport: c.transport,
  })),
  initial: 'active',
  states: {
    active: {
      initial: 'idle',
      entry: [
        'armStaleTimer',
        {
          type: 'available',
          params: ({ context }) => ({
            agentId: context.id,
            capabilities: context.capabilities,
            capacity: context.capacity,
            transport: context.transport,
          }),
        },
        emitAgent('agent.initialized', (c) => ({ capabilities: c.capabilities, capacity: c.capacity })),
      ],
      on: {
        'agent.heartbeat': { actions: 'beat' },
        'agent.load': { actions: 'setLoad' },
        'agent.drain': { target: 'draining', actions: assign({ draining: true }) },
        timer: [
          { guard: 'staleDue', target: 'stale' },
          { guard: 'staleTimer', actions: 'armStaleTimer' },
        ],
      },
      states: {
        idle: {
          always: { guard: 'hasLoad', target: 'busy' },
          entry: emitAgent('agent.idle'),
        },
        busy: {
          always: { guard: 'idle', target: 'idle' },
          entry: emitAgent('agent.busy', (c) => ({ load: c.load, capacity: c.capacity })),
        },
      },
    },
    draining: {
      entry: [
        { type: 'unavailable', params: ({ context }) => ({ agentId: context.id }) },
        emitAgent('agent.draining', (c) => ({ load: c.load })),
      ],
      always: { guard: 'idle', target: 'gone', actions: assign({ reason: 'drained' }) },
      on: {
        'agent.heartbeat': { actions: 'beat' },
        'agent.load': { actions: 'setLoad' },
        timer: [
          { guard: 'staleDue', target: 'stale' },
          { guard: 'staleTimer', actions: 'armStaleTimer' },
        ],
      },
    },
    stale: {
      entry: [
        'setReason',
        { type: 'unavailable', params: ({ context }) => ({ agentId: context.id }) },
        { type: 'agentLost', params: ({ context }) => ({ agentId: context.id, reason: 'stale' }) },
        emitAgent('agent.stale', (c) => ({ lastBeatAt: c.lastBeatAt, staleAfterMs: c.staleAfterMs })),
        assign({ load: 0 }),
      ],
      on: {
        // A stale agent that beats again may take new work (what it held was already handed back),
        // unless it was draining: then, holding nothing, it is done.
        'agent.heartbeat': [
          { guard: 'wasDraining', target: 'draining', actions: 'beat' },
          { target: 'active', actions: ['beat', emitAgent('agent.recovered')] },
        ],
      },
    },
    /** Deregistered or lost: hands back what it holds, then ends. */
    leaving: {
      entry: [
        { type: 'unavailable', params: ({ context }) => ({ agentId: context.id }) },
        { type: 'agentLost', params: ({ context }) => ({ agentId: context.id, reason: context.reason ?? 'left' }) },
        assign({ load: 0 }),
      ],
      always: { target: 'gone' },
    },
    gone: {
      type: 'final',
      entry: [
        { type: 'clearTimer', params: { name: 'stale' } },
        emitAgent('agent.gone', (c) => ({ reason: c.reason })),
      ],
    },
  },
  on: {
    'agent.deregister': { target: '.leaving', actions: 'setReason' },
    'agent.lost': { target: '.leaving', actions: 'setReason' },
  },
});

export type AgentMachine = typeof agentMachine;

export type AgentStatus = 'idle' | 'busy' | 'draining' | 'stale' | 'leaving' | 'gone';

export function agentStatusOf(value: unknown): AgentStatus {
  if (typeof value === 'string') return value as AgentStatus;
  if (value && typeof value === 'object' && 'active' in value) return (value as { active: 'idle' | 'busy' }).active;
  throw new Error(`unexpected agent state ${JSON.stringify(value)}`);
}
