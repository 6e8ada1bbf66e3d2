import { timerChanges } from './effects.js';
import type { TaskContext, TaskEvent } from './task-types.js';

/** The observable events and outward effects the task machine asks for, as action objects. */

export const emitFor = (type: string, data: (context: TaskContext) => Record<string, unknown> = () => ({})) => ({
  type: 'emit' as const,
  params: ({ context }: { context: TaskContext }) => ({
    type,
    taskId: context.id,
    ticketId: context.spec.ticketId,
    phase: context.spec.phase,
    agentId: context.lease?.agentId ?? null,
    data: data(context),
  }),
});

/** The agent of the latest attempt (the lease is already cleared once a task settles). */
export const lastAgent = (c: TaskContext): string | null => c.attempts[c.attempts.length - 1]?.agentId || null;

export const offerAction = {
  type: 'offer' as const,
  params: ({ context, event }: { context: TaskContext; event: TaskEvent }) => ({
    taskId: context.id,
    agentId: context.lease?.agentId ?? '',
    leaseId: context.lease?.id ?? '',
    attempt: context.attempt,
    autoStart: event.type === 'task.assign' && event.autoStart,
  }),
};

export const failedEmit = {
  type: 'emit' as const,
  params: ({ context }: { context: TaskContext }) => ({
    type: context.error?.category === 'timeout' ? 'task.timed_out' : 'task.failed',
    taskId: context.id,
    ticketId: context.spec.ticketId,
    phase: context.spec.phase,
    agentId: context.lease?.agentId ?? null,
    data: { attempt: context.attempt, error: context.error },
  }),
};

export const assignedEmit = emitFor('task.assigned', (c) => ({ attempt: c.attempt, leaseId: c.lease?.id }));

/** The seeds' `agent.completed` signal: which agent finished what, how well, how fast. */
export const agentCompletedEmit = {
  type: 'emit' as const,
  params: ({ context }: { context: TaskContext }) => {
    const last = context.attempts[context.attempts.length - 1];
    return {
      type: 'agent.completed',
      taskId: context.id,
      ticketId: context.spec.ticketId,
      phase: context.spec.phase,
      agentId: last?.agentId ?? null,
      data: {
        quality: context.output?.quality ?? null,
        durationMs: last?.startedAt !== undefined && last.endedAt !== undefined ? last.endedAt - last.startedAt : null,
      },
    };
  },
};

/** What every settled state asks for once `markSettled` has run. */
export const settleEffects = [
  {
    type: 'timers' as const,
    params: ({ context }: { context: TaskContext }) =>
      timerChanges(
        [],
        (['start', 'finish', 'heartbeat'] as const).filter((n) => context.spec.timeouts[n] !== undefined),
      ),
  },
  {
    type: 'settled' as const,
    params: ({ context }: { context: TaskContext }) => ({
      taskId: context.id,
      status: context.outcome ?? 'succeeded',
      ticketId: context.spec.ticketId,
      phase: context.spec.phase,
      role: context.spec.role,
      agentId: lastAgent(context),
    }),
  },
  {
    type: 'emit' as const,
    params: ({ context }: { context: TaskContext }) => {
      const status = context.outcome ?? 'succeeded';
      const data: Record<string, unknown> = { attempt: context.attempt };
      if (status === 'succeeded') {
        data.quality = context.output?.quality ?? null;
        data.artifacts = Object.keys(context.output?.artifacts ?? {});
      } else if (status === 'dead_lettered') data.error = context.error;
      else data.reason = context.reason;
      return {
        type: status === 'succeeded' ? 'task.completed' : `task.${status}`,
        taskId: context.id,
        ticketId: context.spec.ticketId,
        phase: context.spec.phase,
        agentId: lastAgent(context),
        data,
      };
    },
  },
];
