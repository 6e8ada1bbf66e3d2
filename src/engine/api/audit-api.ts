import type { Clock } from '../clock.js';
import type { AuditEntry, AuditQuery, Store } from '../store/store.js';
import { assertJson } from '../../core/json-value.js';
import { TroupeError } from '../../core/errors.js';

/** What a caller says happened; the time comes from the runtime clock. */
export interface AuditRecord {
  /** Who: the token's name from the configuration; `local` for in-process callers. */
  actor: string;
  /** What, dotted: `task.submitted`, `task.cancelled`, `task.redriven`, `ticket.created`, `config.reloaded`. */
  action: string;
  /** The id acted on, if any. */
  target?: string | null;
  details?: Record<string, unknown>;
}

/**
 * The audit log: who did what to what, and when. Edges that act for a named token (the HTTP
 * API, the CLI, a configuration reload) record here; entries are kept under their own
 * retention (`retention.auditMs`) and read with `read()` or `troupe audit`.
 *
 * @example
 * ```ts
 * await runtime.audit.record({ actor: 'ci', action: 'task.cancelled', target: 'build-42', details: { reason } });
 * const recent = await runtime.audit.read({ actor: 'ci', limit: 20 });
 * ```
 */
export class AuditApi {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly ready: () => Promise<void>,
  ) {}

  /** Appends one entry (durable once the promise resolves) and returns it with its `seq` and time. */
  async record(entry: AuditRecord): Promise<AuditEntry> {
    if (
      typeof entry.actor !== 'string' ||
      entry.actor.length === 0 ||
      typeof entry.action !== 'string' ||
      entry.action.length === 0
    ) {
      throw new TroupeError('E_INVALID_INPUT', 'an audit entry needs an actor and an action');
    }
    const details = entry.details ?? {};
    assertJson(details, 'audit details');
    await this.ready();
    const [added] = await this.store.appendAudit([
      { at: this.clock.now(), actor: entry.actor, action: entry.action, target: entry.target ?? null, details },
    ]);
    return added as AuditEntry;
  }

  /** Entries newest first (or `order: 'oldest'`), filtered by who, what, target, time. */
  async read(query: AuditQuery = {}): Promise<AuditEntry[]> {
    await this.ready();
    return this.store.readAudit(query);
  }
}
