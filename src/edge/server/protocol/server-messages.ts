import { z } from 'zod';
import { agentIdField, refEcho } from './fields.js';
import { contextPackageShape, eventShape, taskViewShape } from './shapes.js';

const endedLease = z.looseObject({ taskId: z.string(), leaseId: z.string(), reason: z.string() });

export const welcomeMessage = z
  .looseObject({
    type: z.literal('welcome'),
    ref: refEcho,
    protocol: z.literal(1),
    agentId: agentIdField,
    capabilities: z.array(z.string()),
    capacity: z.int(),
    heartbeatIntervalMs: z.int(),
    staleAfterMs: z.int(),
    graceMs: z.int(),
    serverTime: z.number(),
    limits: z.looseObject({
      maxFrameBytes: z.int(),
      frameCutoffBytes: z.int(),
      maxBufferedBytes: z.int(),
      messagesPerSecond: z.number().nullable(),
      burst: z.number().nullable(),
      helloTimeoutMs: z.int(),
      maxSubscriptions: z.int(),
    }),
    resumed: z.array(z.string()).meta({ description: "Task ids of the held leases that are still the agent's." }),
    revoked: z.array(endedLease).meta({ description: "Held leases that are no longer the agent's: stop that work." }),
    features: z.array(z.string()).default([]).meta({
      description:
        'The optional parts of the protocol granted to this connection: those of hello.features the server knows.',
    }),
    resumeSecret: z.string().optional().meta({
      description:
        'Secret of this agent session: send it as hello.resumeSecret when reconnecting. Keep it private; it stays the same while the session lasts.',
    }),
  })
  .meta({ title: 'welcome', description: 'Server to agent, the answer to hello.' });

export const assignMessage = z
  .looseObject({
    type: z.literal('assign'),
    taskId: z.string(),
    leaseId: z.string(),
    attempt: z.int(),
    task: taskViewShape,
    context: contextPackageShape,
    deadlines: z.looseObject({
      acceptBy: z
        .number()
        .nullable()
        .meta({ description: 'Runtime-clock ms by which the task must have started, or null.' }),
      finishWithinMs: z.int().nullable().meta({ description: 'Longest run from accept to completion, or null.' }),
      heartbeatWithinMs: z
        .int()
        .nullable()
        .meta({ description: 'Longest silence (no heartbeat or progress) while running, or null.' }),
    }),
    serverTime: z.number(),
    traceparent: z.string().max(55).optional().meta({
      description:
        "W3C trace context of this attempt (present when the server traces or the task was submitted with one): run the work under it so the agent's spans join the trace.",
    }),
  })
  .meta({ title: 'assign', description: 'Server to agent: a task under a lease. Answer with accept or reject.' });

export const cancelMessage = z
  .looseObject({ type: z.literal('cancel'), taskId: z.string(), leaseId: z.string(), reason: z.string() })
  .meta({
    title: 'cancel',
    description: 'Server to agent: the lease has ended; stop the work. Reports on it are refused.',
  });

export const deliveredMessage = z
  .looseObject({
    type: z.literal('message'),
    from: z.string(),
    to: z.string(),
    body: z.unknown(),
    ticketId: z.string().nullable(),
  })
  .meta({ title: 'message (delivered)', description: 'Server to agent: a message another agent sent to this one.' });

export const eventMessage = z
  .looseObject({ type: z.literal('event'), subscription: z.string(), event: eventShape })
  .meta({ title: 'event', description: 'Server to observer: one event matching a subscription.' });

export const ackMessage = z
  .looseObject({
    type: z.literal('ack'),
    ref: refEcho,
    of: z.string().meta({ description: 'The type of the message this answers.' }),
    applied: z.boolean().optional().meta({
      description: 'Reports on a lease: false when this repeats one already applied (the same answer again).',
    }),
    status: z.string().optional().meta({ description: "Reports on a lease: the task's status afterwards." }),
    subscription: z.string().optional(),
    target: z.enum(['ticket', 'task', 'agent']).optional(),
    view: z.unknown().optional().meta({ description: 'query: the TaskView, TicketView or AgentView.' }),
  })
  .meta({ title: 'ack', description: 'Server to client: the request was carried out.' });

export const errorMessage = z
  .looseObject({
    type: z.literal('error'),
    ref: refEcho,
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ title: 'error', description: 'Server to client: the request (or frame) was refused; nothing changed.' });

/** Several server messages in one frame, once the welcome granted the `batch` feature. */
export const serverBatchMessage = z
  .looseObject({
    type: z.literal('batch'),
    messages: z
      .array(z.unknown())
      .meta({ description: 'Server messages (never welcome or batch), in the order they were sent.' }),
  })
  .meta({
    title: 'batch (server)',
    description: 'Server to agent: several messages in one frame, once the welcome granted the `batch` feature.',
  });

/**
 * Every message the server sends, by type (zod schemas; objects are open to added fields).
 *
 * @example
 * ```ts
 * const welcome = SERVER_MESSAGES.welcome.parse(JSON.parse(text));
 * ```
 */
export const SERVER_MESSAGES = {
  welcome: welcomeMessage,
  assign: assignMessage,
  cancel: cancelMessage,
  message: deliveredMessage,
  event: eventMessage,
  ack: ackMessage,
  error: errorMessage,
  batch: serverBatchMessage,
} as const;

/** The server's answer to `hello`: the connection is accepted, with the limits that apply. */
export type WelcomeMessage = z.output<typeof welcomeMessage>;
/** A task offered to an agent under a lease. */
export type AssignMessage = z.output<typeof assignMessage>;
/** A lease taken back: the agent should stop the task. */
export type CancelMessage = z.output<typeof cancelMessage>;
/** Confirms that a report was applied (or was a repeat). */
export type DeliveredMessage = z.output<typeof deliveredMessage>;
/** An event sent to an observer's subscription. */
export type EventMessage = z.output<typeof eventMessage>;
/** Confirms a frame that needs no other answer. */
export type AckMessage = z.output<typeof ackMessage>;
/** A refused frame: the code, a message, and where in the frame the problem is. */
export type ErrorMessage = z.output<typeof errorMessage>;
/** Several server messages in one frame (the `batch` feature). */
export type ServerBatchMessage = z.output<typeof serverBatchMessage>;
/** Any frame the server sends (docs/protocol.md); `type` says which. */
export type ServerMessage =
  | WelcomeMessage
  | AssignMessage
  | CancelMessage
  | DeliveredMessage
  | EventMessage
  | AckMessage
  | ErrorMessage
  | ServerBatchMessage;
