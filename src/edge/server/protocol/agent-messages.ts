import { z } from 'zod';
import { MAX_BATCH_MESSAGES } from './codes.js';
import { agentIdField, entityId, finite, leaseIdField, refField } from './fields.js';

/** A lease as the agent names it: which task, and which lease of it. */
const heldLease = z.strictObject({ taskId: entityId, leaseId: leaseIdField });

export const helloMessage = z
  .strictObject({
    type: z.literal('hello'),
    ref: refField,
    agentId: agentIdField,
    capabilities: z.array(z.string().min(1).max(200)).max(200).default([]),
    capacity: z.int().min(1).max(10_000).default(1),
    token: z
      .string()
      .max(1_000)
      .optional()
      .meta({ description: 'When given, must equal the token the connection was opened with.' }),
    held: z
      .array(heldLease)
      .max(10_000)
      .default([])
      .meta({ description: 'Leases the agent still works on after a reconnect.' }),
    features: z.array(z.string().min(1).max(100)).max(50).default([]).meta({
      description:
        'Optional parts of the protocol the agent speaks (`batch`); the welcome says which the server grants. Unknown ones are ignored.',
    }),
    resumeSecret: z.string().min(1).max(200).optional().meta({
      description:
        'The `resumeSecret` of an earlier welcome for this agent id: proves the hello comes from the same session (a reconnect).',
    }),
  })
  .meta({ title: 'hello', description: 'Agent to server, first message: who the agent is and what it still holds.' });

export const heartbeatMessage = z
  .strictObject({
    type: z.literal('heartbeat'),
    ref: refField,
    taskId: entityId.optional(),
    leaseId: leaseIdField.optional(),
  })
  .refine((m) => (m.taskId === undefined) === (m.leaseId === undefined), {
    message: 'taskId and leaseId go together',
    path: ['leaseId'],
  })
  .meta({
    title: 'heartbeat',
    description: "The agent is alive. With taskId and leaseId it also resets that task's heartbeat deadline.",
  });

export const acceptMessage = z
  .strictObject({ type: z.literal('accept'), ref: refField, taskId: entityId, leaseId: leaseIdField })
  .meta({ title: 'accept', description: 'The agent starts the assigned task.' });

export const rejectMessage = z
  .strictObject({
    type: z.literal('reject'),
    ref: refField,
    taskId: entityId,
    leaseId: leaseIdField,
    reason: z.string().max(10_000).default('rejected'),
  })
  .meta({ title: 'reject', description: 'The agent declines the assigned task; it goes back to the queue.' });

export const progressMessage = z
  .strictObject({
    type: z.literal('progress'),
    ref: refField,
    taskId: entityId,
    leaseId: leaseIdField,
    value: finite.nullable().default(null),
    message: z.string().max(100_000).nullable().default(null),
  })
  .meta({ title: 'progress', description: "Progress of a running task; also counts as the task's heartbeat." });

export const completeMessage = z
  .strictObject({
    type: z.literal('complete'),
    ref: refField,
    taskId: entityId,
    leaseId: leaseIdField,
    result: z.unknown().optional(),
    artifacts: z.record(z.string().max(200), z.unknown()).optional(),
    quality: finite.nullable().optional(),
  })
  .meta({ title: 'complete', description: 'The task succeeded with this result.' });

export const failMessage = z
  .strictObject({
    type: z.literal('fail'),
    ref: refField,
    taskId: entityId,
    leaseId: leaseIdField,
    error: z.string().max(100_000),
    category: z.enum(['transient', 'permanent', 'timeout', 'cancelled']).default('transient'),
    retryable: z.boolean().optional(),
    code: z
      .string()
      .max(100)
      .regex(/^[A-Z][A-Z0-9_]*$/, 'codes are UPPER_SNAKE_CASE')
      .optional(),
  })
  .meta({
    title: 'fail',
    description:
      'The attempt failed. Retried while `retryable` (default: true unless category is permanent or cancelled) and attempts remain.',
  });

export const agentMessageMessage = z
  .strictObject({
    type: z.literal('message'),
    ref: refField,
    to: agentIdField,
    body: z.unknown(),
    ticketId: entityId.optional(),
  })
  .meta({ title: 'message', description: 'A message to another agent by id, recorded as an `agent.message` event.' });

export const goodbyeMessage = z
  .strictObject({ type: z.literal('goodbye'), ref: refField })
  .meta({ title: 'goodbye', description: 'The agent leaves for good: what it holds goes back to the queue at once.' });

/** Several agent messages in one frame, once the welcome granted the `batch` feature. */
export const batchMessage = z
  .strictObject({
    type: z.literal('batch'),
    ref: refField.meta({
      description: 'Answers only a refusal of the batch frame itself; each message carries its own ref.',
    }),
    messages: z.array(z.unknown()).min(1).max(MAX_BATCH_MESSAGES).meta({
      description:
        'Agent messages (not hello, not batch), handled in order as if each came in its own frame; each is answered by its own ack or error.',
    }),
  })
  .meta({
    title: 'batch',
    description: 'Several messages in one frame; only once the welcome granted the `batch` feature.',
  });

/**
 * Every message an agent may send, by type: zod schemas that check a message and fill in its
 * defaults.
 *
 * @example
 * ```ts
 * const hello = AGENT_MESSAGES.hello.parse({ type: 'hello', agentId: 'a1' }); // capacity 1, held []
 * ```
 */
export const AGENT_MESSAGES = {
  hello: helloMessage,
  heartbeat: heartbeatMessage,
  accept: acceptMessage,
  reject: rejectMessage,
  progress: progressMessage,
  complete: completeMessage,
  fail: failMessage,
  message: agentMessageMessage,
  goodbye: goodbyeMessage,
  batch: batchMessage,
} as const;

/** An agent's first frame: its id, capabilities, capacity and protocol version. */
export type HelloMessage = z.output<typeof helloMessage>;
export type HeartbeatMessage = z.output<typeof heartbeatMessage>;
export type AcceptMessage = z.output<typeof acceptMessage>;
export type RejectMessage = z.output<typeof rejectMessage>;
export type ProgressMessage = z.output<typeof progressMessage>;
export type CompleteMessage = z.output<typeof completeMessage>;
export type FailMessage = z.output<typeof failMessage>;
export type AgentMessageMessage = z.output<typeof agentMessageMessage>;
export type GoodbyeMessage = z.output<typeof goodbyeMessage>;
/** Several agent messages in one frame (the `batch` feature). */
export type BatchMessage = z.output<typeof batchMessage>;

/** Any frame an agent may send (docs/protocol.md); `type` says which. */
export type AgentMessage =
  | HelloMessage
  | HeartbeatMessage
  | AcceptMessage
  | RejectMessage
  | ProgressMessage
  | CompleteMessage
  | FailMessage
  | AgentMessageMessage
  | GoodbyeMessage
  | BatchMessage;

/** A message the server carries out: any but `batch`, which only carries others. */
export type AgentRequest = Exclude<AgentMessage, BatchMessage>;

/** What an agent sends, as it may be written (defaults not yet applied). */
export type AgentMessageInput = {
  [K in keyof typeof AGENT_MESSAGES]: z.input<(typeof AGENT_MESSAGES)[K]>;
}[keyof typeof AGENT_MESSAGES];
