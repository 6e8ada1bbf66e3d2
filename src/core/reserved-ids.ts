import { TroupeError } from './errors.js';

/**
 * Prefixes of the ids the runtime gives its own actors (a resource's lock, a quality gate's
 * scores, a pattern's stored definition, the controls' rate limits, breakers and bulkheads). A
 * caller's id never starts with one, so no task, ticket or agent can take an id the runtime will
 * need later, and none can be addressed as one of those actors (docs/api.md, "Ids and kinds").
 */
export const RESERVED_ID_PREFIXES = [
  'resource:',
  'quality:',
  'pattern-def:',
  'ratelimit:',
  'breaker:',
  'bulkhead:',
] as const;

/** What a refusal of a reserved id says (the zod checks of every id field reuse it). */
export const RESERVED_ID_RULE = `ids starting with ${RESERVED_ID_PREFIXES.map((p) => `"${p}"`).join(', ')} are reserved for the runtime's own actors`;

/**
 * True when `id` starts with a prefix the runtime keeps for itself.
 *
 * @example
 * ```ts
 * isReservedId('resource:db'); // true
 * isReservedId('my-task');     // false
 * ```
 */
export function isReservedId(id: string): boolean {
  return RESERVED_ID_PREFIXES.some((prefix) => id.startsWith(prefix));
}

/**
 * Throws `E_INVALID_INPUT` when a caller gives a reserved id.
 *
 * @example
 * ```ts
 * assertUserId(input.runId, 'runId'); // throws for 'quality:x'
 * ```
 */
export function assertUserId(id: string, field: string): void {
  if (isReservedId(id))
    throw new TroupeError('E_INVALID_INPUT', `invalid ${field}: "${id.slice(0, 200)}": ${RESERVED_ID_RULE}`);
}
