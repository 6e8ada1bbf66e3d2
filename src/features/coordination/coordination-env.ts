import { TroupeError } from '../../core/errors.js';
import type { RetryPolicy } from '../../core/machines/retry-backoff.js';
import type { RuntimeCore } from '../../engine/runtime-core.js';
import type { CustomMerge } from '../../core/coordination/merge-strategies.js';
import type { InFlightWork } from './in-flight-work.js';
import type { ResolveContext } from './template-resolution.js';

/** What the coordination API's parts share. */
export interface CoordinationEnv {
  core: RuntimeCore;
  /** Starts the runtime if needed; throws once it is stopped or failed. */
  ready: () => Promise<void>;
  retry: RetryPolicy;
  maxPayloadBytes: number;
  merges: Map<string, CustomMerge>;
  /** After-commit work owed to each coordinator: a call answers once its coordinator's is done. */
  inFlight: InFlightWork;
}

/** An actor a builder wants created. */
export interface Spawnable {
  kind: string;
  id: string;
  input: Record<string, unknown>;
  ticketId: string | null;
}

export const resolveContext = (env: CoordinationEnv, requires?: string[]): ResolveContext => ({
  retry: env.retry,
  maxPayloadBytes: env.maxPayloadBytes,
  requires,
});

/** Creates the actor and returns its first snapshot's value and context once committed. */
export async function spawnCoordinator(
  env: CoordinationEnv,
  s: Spawnable,
): Promise<{ value: unknown; context: unknown }> {
  const outcome = await env.core.host.spawn(s.kind, s.id, s.input, s.ticketId);
  if (outcome.error) throw outcome.error;
  if (!outcome.snapshot) throw new TroupeError('E_INVALID_STATE', `${s.kind} ${s.id} was not created`);
  return { value: outcome.snapshot.value, context: outcome.snapshot.context };
}
