import { z } from 'zod';
import { HTTP_STATUS_OF_CODE } from '../shared/http-errors.js';

/**
 * Schemas every resource of the HTTP API shares: the error body, ids in paths, and the query
 * and answer of a paged list. They import nothing but zod (and the code table), so that the
 * client (`troupe/client`) takes its types from them without loading the server.
 */

export const errorBodySchema = z
  .strictObject({
    error: z.strictObject({
      code: z
        .enum(Object.keys(HTTP_STATUS_OF_CODE) as [keyof typeof HTTP_STATUS_OF_CODE])
        .meta({ description: 'A stable code from docs/errors.md; branch on it, never on the message.' }),
      message: z.string().meta({ description: 'What was wrong, for people; names each bad field.' }),
      path: z.array(z.union([z.string(), z.int()])).meta({
        description:
          'Where in the request: `["body", "tasks", 0, "type"]`, `["query", "limit"]`, `["path", "id"]`; empty when the request as a whole was refused.',
      }),
      retryable: z
        .boolean()
        .meta({ description: 'True when the same request may succeed later unchanged (429, 503).' }),
      problems: z
        .array(
          z.strictObject({
            code: z
              .string()
              .meta({ description: 'A pattern problem code (docs/patterns.md): `E_...` errors, `W_...` warnings.' }),
            severity: z.enum(['error', 'warning']),
            message: z.string(),
            line: z.int().meta({ description: 'In the text of `yaml`, from 1; 0 when the problem has no one place.' }),
            column: z.int(),
            path: z.string().meta({ description: 'Where in the document: `steps[2].join.strategy`.' }),
            suggestion: z
              .string()
              .optional()
              .meta({ description: 'The nearest valid name for a misspelt key or reference.' }),
          }),
        )
        .optional()
        .meta({
          description: 'A pattern refused by `POST /v1/runs`: every problem, as `troupe validate` reports them.',
        }),
    }),
  })
  .meta({ description: 'Every error answer has this body.' });

/** An entity id in a path. Ids may hold `/` (tasks of pattern runs): send it as `%2F`. */
export const idParams = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(300)
    .meta({
      param: { name: 'id', in: 'path' },
      description: 'The id, URL-encoded (`run-1%2Freview`).',
      example: 'task-1',
    }),
});

export const cancelBodySchema = z
  .strictObject({
    reason: z.string().min(1).max(1_000).optional().meta({ description: 'Why; kept on the entity and its events.' }),
  })
  .meta({ description: 'Optional; an empty body cancels with the reason "cancelled by request".' });

/** Paging of every list: newest first by default, `cursor` from the previous page's `nextCursor`. */
export const pageQueryShape = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000)
    .default(100)
    .meta({ description: 'Items per page (1-1000). Default 100.' }),
  cursor: z.string().min(1).max(1_000).optional().meta({ description: 'The `nextCursor` of the previous page.' }),
  order: z.enum(['newest', 'oldest']).default('newest').meta({ description: 'By creation time. Default `newest`.' }),
};

/** A comma-separated list in a query parameter (`status=queued,running`). */
export const csv = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .string()
    .max(2_000)
    .transform((s) =>
      s
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p.length > 0),
    )
    .pipe(z.array(item).max(100));

/** The answer of a list: one page and where the next one starts (null: this was the last). */
export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z
    .strictObject({
      items: z.array(item),
      nextCursor: z
        .string()
        .nullable()
        .meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
    })
    .meta({ description: `A page of ${name}.` });
