import type { EventApi } from '../../../engine/api/event-api.js';
import type { TicketApi } from '../../../engine/api/ticket-api.js';
import type { RuntimeCore } from '../../../engine/runtime-core.js';
import type { CoordinationApi } from '../../coordination/coordination-api.js';

/**
 * What the pattern feature needs from the runtime that carries it. `createRuntime` (src/runtime.ts)
 * hands it over, so that this layer never imports the wiring above it.
 */
export interface PatternHost {
  readonly core: RuntimeCore;
  readonly coordination: CoordinationApi;
  readonly tickets: TicketApi;
  readonly events: Pick<EventApi, 'subscribe'>;
  /** Resolves once the runtime has opened its store and restored its actors. */
  start(): Promise<unknown>;
}
