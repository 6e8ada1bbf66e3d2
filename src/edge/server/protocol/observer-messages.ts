import { z } from 'zod';
import { agentIdField, entityId, refField } from './fields.js';

export const eventFilterField = z
  .strictObject({
    ticketId: entityId.optional(),
    taskId: entityId.optional(),
    agentId: agentIdField.optional(),
    types: z
      .array(z.string().min(1).max(200))
      .max(100)
      .optional()
      .meta({ description: 'Exact event types, or prefixes ending in `*` such as `task.*`. Empty or absent: all.' }),
  })
  .meta({ description: 'Every given field must match (AND); an absent field matches everything.' });

export const subscribeMessage = z
  .strictObject({
    type: z.literal('subscribe'),
    ref: refField,
    filter: eventFilterField.default({}),
    afterSeq: z.int().min(0).optional().meta({
      description:
        'Resume after this `seq`: every stored event with a greater seq that matches the filter comes first, in seq order, then the live ones, each seq once and none missed. Absent: live events only.',
    }),
  })
  .meta({ title: 'subscribe', description: 'Starts an event stream; the ack names the subscription.' });

export const unsubscribeMessage = z
  .strictObject({ type: z.literal('unsubscribe'), ref: refField, subscription: z.string().min(1).max(100) })
  .meta({ title: 'unsubscribe', description: 'Ends an event stream.' });

export const queryMessage = z
  .strictObject({
    type: z.literal('query'),
    ref: refField,
    target: z.enum(['ticket', 'task', 'agent']),
    id: entityId,
  })
  .meta({
    title: 'query',
    description: 'Reads the current state of a ticket, task or agent; the ack carries it as `view`.',
  });

/**
 * Every message an observer may send, by type (zod schemas).
 *
 * @example
 * ```ts
 * OBSERVER_MESSAGES.subscribe.parse({ type: 'subscribe', filter: { types: ['task.*'] } });
 * ```
 */
export const OBSERVER_MESSAGES = {
  subscribe: subscribeMessage,
  unsubscribe: unsubscribeMessage,
  query: queryMessage,
} as const;

export type SubscribeMessage = z.output<typeof subscribeMessage>;
export type UnsubscribeMessage = z.output<typeof unsubscribeMessage>;
export type QueryMessage = z.output<typeof queryMessage>;
/** Any frame an observer may send: subscribe, unsubscribe or query. */
export type ObserverMessage = SubscribeMessage | UnsubscribeMessage | QueryMessage;
