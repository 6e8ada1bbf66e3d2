/**
 * The TypeScript client of a Troupe server's HTTP API, behind the `troupe/client` subpath: it
 * loads neither the engine nor the server, only `fetch`.
 *
 * @example
 * ```ts
 * import { createClient } from 'troupe/client';
 * const troupe = createClient({ url: 'http://127.0.0.1:7411', token: process.env.TROUPE_TOKEN! });
 * const ticket = await troupe.tickets.create({ title: 'Add user roles', phases: ['design', 'build'] });
 * await troupe.wait(ticket.id);
 * ```
 */
export { createClient } from './create-client.js';
export type {
  ClientOptions,
  EventStreamQuery,
  Page,
  TroupeClient,
  TaskView,
  TicketView,
  AgentView,
  PatternRunView,
  ScheduleView,
  TroupeEvent,
} from './create-client.js';
export { ApiError } from './api-error.js';
export type { ApiPatternProblem } from './api-error.js';
export { isSettled } from './wait.js';
export type { EntityKind, WaitOptions } from './wait.js';
export { readSse } from './sse-reader.js';
export type { SseMessage } from './sse-reader.js';
