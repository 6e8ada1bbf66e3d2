import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AgentTokenSpec } from './options.js';

/** Who a connection is, once its token checked out. */
export type Principal =
  | { role: 'agent'; token: string; /** Null: any agent id. */ agentIds: ReadonlySet<string> | null }
  | { role: 'observer'; token: string }
  /** Submits and steers work over HTTP; never a WebSocket connection. */
  | { role: 'client'; token: string };

const digest = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * Maps tokens to principals. Tokens are looked up by their SHA-256 digest, so the lookup
 * compares digests, never the secrets themselves (no timing hint about a token's prefix).
 */
export class TokenAuth {
  private readonly principals = new Map<string, Principal>();

  constructor(agentTokens: AgentTokenSpec[], observerTokens: string[], clientTokens: string[] = []) {
    this.replace(agentTokens, observerTokens, clientTokens);
  }

  /** Swaps in a new set of tokens at once (a configuration reload); lookups from then on see only the new set. */
  replace(agentTokens: AgentTokenSpec[], observerTokens: string[], clientTokens: string[] = []): void {
    this.principals.clear();
    for (const token of clientTokens) this.principals.set(digest(token), { role: 'client', token });
    for (const token of observerTokens) this.principals.set(digest(token), { role: 'observer', token });
    // An agent token listed as an observer token too acts as an agent.
    for (const spec of agentTokens) {
      const token = typeof spec === 'string' ? spec : spec.token;
      const ids = typeof spec === 'string' || spec.agentIds === undefined ? null : new Set(spec.agentIds);
      this.principals.set(digest(token), { role: 'agent', token, agentIds: ids });
    }
  }

  authenticate(token: string | undefined): Principal | null {
    if (token === undefined || token.length === 0 || token.length > 1_000) return null;
    return this.principals.get(digest(token)) ?? null;
  }
}

/** The token of an upgrade request: `Authorization: Bearer <token>`, else the `token` query parameter. */
export function tokenOf(request: IncomingMessage, url: URL): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1];
  }
  return url.searchParams.get('token') ?? undefined;
}
