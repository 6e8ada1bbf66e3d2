import { z } from 'zod';
import { isReservedId, RESERVED_ID_RULE } from '../../../core/reserved-ids.js';

/**
 * Field schemas shared by the messages of protocol v1. Every string and list is bounded: the
 * edge distrusts its input, and a bound is cheaper to check than an allocation is to undo.
 */

/** The client's correlation id, echoed in the answer. A string of up to 128 characters or an integer. */
export const refField = z
  .union([z.string().max(128), z.int()])
  .optional()
  .meta({ description: 'Correlation id chosen by the client; the ack or error answering this message carries it.' });

/** What an answer carries back: the request's ref, or null when it had none (or could not be read). */
export const refEcho = z.union([z.string(), z.int(), z.null()]);

export const entityId = z.string().min(1).max(200);

export const agentIdField = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:@-]+$/, 'agent ids use letters, digits and . _ : @ - only')
  .refine((id) => !isReservedId(id), RESERVED_ID_RULE);

export const leaseIdField = z.string().min(1).max(300);

/** A finite number (JSON has no NaN or Infinity, but a decoder may still produce large values). */
export const finite = z.number().refine(Number.isFinite, 'must be a finite number');
