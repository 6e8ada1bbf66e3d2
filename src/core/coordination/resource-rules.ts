import type { EmitParams } from '../machines/effects.js';
import type { Grant, ResourceMode, ResourceReplyParams, ResourceReplyTo } from './coordinator-effects.js';

/**
 * The rules of a shared resource (a lock or a semaphore), as a pure function from state and
 * request to the next state, the answers and the events. The resource machine only wraps it.
 *
 * - A lock admits one exclusive holder, or any number of shared holders.
 * - A semaphore of `permits` admits that many shared holders (one permit each), or one
 *   exclusive holder (all permits).
 * - Strictly first come, first served: a request waits while anyone waits before it, so a
 *   stream of shared holders cannot starve an exclusive request.
 * - Every grant carries a fencing token, one more than the resource's last; a lease that
 *   expires (on the runtime clock) ends the grant, and its token is no longer current.
 */

export type ResourceKind = 'lock' | 'semaphore';

export interface Holder {
  owner: string;
  mode: ResourceMode;
  token: number;
  grantedAt: number;
  expiresAt: number | null;
}

export interface Waiter {
  owner: string;
  mode: ResourceMode;
  leaseMs: number | null;
  replyTo: ResourceReplyTo;
  requestedAt: number;
  /** When the request gives up (`E_TIMEOUT`), or null to wait as long as it takes. */
  waitUntil: number | null;
}

export interface ResourceState {
  name: string;
  kind: ResourceKind;
  /** Permits of a semaphore; null for a lock. */
  permits: number | null;
  holders: Holder[];
  waiters: Waiter[];
  /** The last fencing token issued. */
  fence: number;
}

export type ResourceRequest =
  | {
      type: 'acquire';
      owner: string;
      mode: ResourceMode | null;
      leaseMs: number | null;
      waitMs: number | null;
      replyTo: ResourceReplyTo;
    }
  | { type: 'release'; owner: string; reason: string }
  | { type: 'refuse'; owner: string; code: 'E_DEPENDENCY_CYCLE'; message: string; cycle: string[] }
  | { type: 'expire' }
  | { type: 'giveUp' };

export interface ResourceStep {
  state: ResourceState;
  replies: ResourceReplyParams[];
  events: EmitParams[];
  /** True when who holds or waits changed (the wait-for graph must be told). */
  membershipChanged: boolean;
}

export const defaultMode = (kind: ResourceKind): ResourceMode => (kind === 'lock' ? 'exclusive' : 'shared');

/** Whether a request of `mode` could be granted with `holders` holding. */
export function fits(state: ResourceState, mode: ResourceMode, holders: readonly Holder[]): boolean {
  if (holders.length === 0) return true;
  if (mode === 'exclusive' || holders.some((h) => h.mode === 'exclusive')) return false;
  return state.permits === null || holders.length < state.permits;
}

/** The holder of a still current `token` at `now`, if any (the fencing check). */
export function currentHolder(state: ResourceState, token: number, now: number): Holder | undefined {
  return state.holders.find((h) => h.token === token && (h.expiresAt === null || h.expiresAt > now));
}

/** Applies one request at `now`. */
export function stepResource(state: ResourceState, request: ResourceRequest, now: number): ResourceStep {
  const out: ResourceStep = { state: { ...state }, replies: [], events: [], membershipChanged: false };
  const s = out.state;
  const event = (type: string, data: Record<string, unknown>) =>
    out.events.push({ type: `coordination.resource.${type}`, data: { resource: s.name, ...data } });
  const reply = (replyTo: ResourceReplyTo, owner: string, grant: Grant | null, error: ResourceReplyParams['error']) =>
    out.replies.push({ replyTo, resource: s.name, owner, grant, error });
  const grantOf = (h: Holder): Grant => ({
    resource: s.name,
    owner: h.owner,
    mode: h.mode,
    token: h.token,
    grantedAt: h.grantedAt,
    expiresAt: h.expiresAt,
  });
  const grant = (w: Pick<Waiter, 'owner' | 'mode' | 'leaseMs' | 'replyTo'>) => {
    s.fence += 1;
    const holder: Holder = {
      owner: w.owner,
      mode: w.mode,
      token: s.fence,
      grantedAt: now,
      expiresAt: w.leaseMs === null ? null : now + w.leaseMs,
    };
    s.holders = [...s.holders, holder];
    out.membershipChanged = true;
    event('granted', { owner: holder.owner, mode: holder.mode, token: holder.token, expiresAt: holder.expiresAt });
    reply(w.replyTo, w.owner, grantOf(holder), null);
  };
  const admitWaiting = () => {
    while (s.waiters.length > 0 && fits(s, (s.waiters[0] as Waiter).mode, s.holders)) {
      const [next, ...rest] = s.waiters as [Waiter, ...Waiter[]];
      s.waiters = rest;
      grant(next);
    }
  };

  // Time has passed since the last step: leases that ended and waits given up take effect first,
  // whatever the request, so that a grant never depends on whether a timer fired yet.
  const expired = s.holders.filter((h) => h.expiresAt !== null && h.expiresAt <= now);
  if (expired.length > 0) {
    s.holders = s.holders.filter((h) => !expired.includes(h));
    for (const h of expired) event('expired', { owner: h.owner, token: h.token, expiresAt: h.expiresAt });
    out.membershipChanged = true;
  }
  const late = s.waiters.filter((w) => w.waitUntil !== null && w.waitUntil <= now);
  if (late.length > 0) {
    s.waiters = s.waiters.filter((w) => !late.includes(w));
    for (const w of late) {
      reply(w.replyTo, w.owner, null, {
        code: 'E_TIMEOUT',
        message: `gave up waiting for "${s.name}" after ${(w.waitUntil ?? now) - w.requestedAt} ms`,
      });
    }
    out.membershipChanged = true;
  }
  if (expired.length > 0 || late.length > 0) admitWaiting();

  switch (request.type) {
    case 'acquire': {
      const mode = request.mode ?? defaultMode(s.kind);
      const held = s.holders.find((h) => h.owner === request.owner);
      if (held) {
        if (held.mode !== mode) {
          reply(request.replyTo, request.owner, null, {
            code: 'E_INVALID_STATE',
            message: `${request.owner} already holds "${s.name}" ${held.mode}; release it first`,
          });
          break;
        }
        // Asking again for what one holds renews the lease and keeps the token.
        const renewed: Holder = {
          ...held,
          expiresAt: request.leaseMs === null ? held.expiresAt : now + request.leaseMs,
        };
        s.holders = s.holders.map((h) => (h === held ? renewed : h));
        reply(request.replyTo, request.owner, grantOf(renewed), null);
        break;
      }
      const waiting = s.waiters.findIndex((w) => w.owner === request.owner);
      if (waiting >= 0) {
        // The same owner asking again (say, after a restart) takes over the place in the queue.
        s.waiters = s.waiters.map((w, i) => (i === waiting ? { ...w, replyTo: request.replyTo } : w));
        break;
      }
      if (s.waiters.length === 0 && fits(s, mode, s.holders)) {
        grant({ owner: request.owner, mode, leaseMs: request.leaseMs, replyTo: request.replyTo });
        break;
      }
      if (request.waitMs === 0) {
        reply(request.replyTo, request.owner, null, { code: 'E_TIMEOUT', message: `"${s.name}" is busy` });
        break;
      }
      s.waiters = [
        ...s.waiters,
        {
          owner: request.owner,
          mode,
          leaseMs: request.leaseMs,
          replyTo: request.replyTo,
          requestedAt: now,
          waitUntil: request.waitMs === null ? null : now + request.waitMs,
        },
      ];
      out.membershipChanged = true;
      event('waiting', { owner: request.owner, mode, position: s.waiters.length });
      break;
    }
    case 'release': {
      const held = s.holders.find((h) => h.owner === request.owner);
      const waiter = s.waiters.find((w) => w.owner === request.owner);
      if (held) {
        s.holders = s.holders.filter((h) => h !== held);
        event('released', { owner: held.owner, token: held.token, reason: request.reason });
      }
      if (waiter) {
        s.waiters = s.waiters.filter((w) => w !== waiter);
        reply(waiter.replyTo, waiter.owner, null, {
          code: 'E_CANCELLED',
          message: `request for "${s.name}" withdrawn: ${request.reason}`,
        });
      }
      if (!held && !waiter) break;
      out.membershipChanged = true;
      admitWaiting();
      break;
    }
    case 'refuse': {
      const waiter = s.waiters.find((w) => w.owner === request.owner);
      if (!waiter) break;
      s.waiters = s.waiters.filter((w) => w !== waiter);
      out.membershipChanged = true;
      event('deadlock', { owner: waiter.owner, cycle: request.cycle });
      reply(waiter.replyTo, waiter.owner, null, { code: request.code, message: request.message, cycle: request.cycle });
      admitWaiting();
      break;
    }
    case 'expire':
    case 'giveUp':
      // Done below, as for every request.
      break;
  }
  return out;
}

/** The earliest instant a lease ends, and a waiter gives up; null when none. */
export function nextDeadlines(state: ResourceState): { lease: number | null; wait: number | null } {
  const min = (xs: Array<number | null>) =>
    xs.reduce<number | null>((m, x) => (x === null ? m : m === null || x < m ? x : m), null);
  return { lease: min(state.holders.map((h) => h.expiresAt)), wait: min(state.waiters.map((w) => w.waitUntil)) };
}
