/**
 * The arithmetic of rate limits, pure and on plain JSON (it is persisted as a limiter actor's
 * context): how many units a key may spend now, what a spend leaves, and when enough will be
 * back. Time comes in as an argument; nothing here reads a clock.
 */

/**
 * A declared limit: `limit` units per `per` ms.
 * - `token-bucket`: a bucket of `limit` tokens refilled evenly (`limit / per` per ms); starts full,
 *   so a burst of `limit` passes at once.
 * - `sliding-window`: at most `limit` units spent in any window of `per` ms (exact: one entry per
 *   spending instant is kept while it is in the window).
 */
export interface RateLimitDefinition {
  key: string;
  limit: number;
  per: number;
  kind: 'token-bucket' | 'sliding-window';
}

/** What a key has spent; the shape depends on the kind. */
export type RateBudgetState =
  | { kind: 'token-bucket'; tokens: number; at: number }
  | { kind: 'sliding-window'; spends: Array<[at: number, units: number]> };

/** A full budget, as of `now`. */
export function freshBudget(def: RateLimitDefinition, now: number): RateBudgetState {
  return def.kind === 'token-bucket'
    ? { kind: 'token-bucket', tokens: def.limit, at: now }
    : { kind: 'sliding-window', spends: [] };
}

/**
 * The budget under a changed definition. A window keeps its spends (a higher limit is headroom at
 * once). A bucket keeps what it holds, plus what a raise adds (a spent bucket of 1 raised to 10
 * has 9 at once), capped at the new limit. A change of kind starts full.
 */
export function redefineBudget(
  previous: RateLimitDefinition,
  def: RateLimitDefinition,
  state: RateBudgetState,
  now: number,
): RateBudgetState {
  if (state.kind !== def.kind) return freshBudget(def, now);
  if (state.kind === 'token-bucket') {
    const held = refilled(previous, state, now) + Math.max(0, def.limit - previous.limit);
    return { kind: 'token-bucket', tokens: Math.min(def.limit, held), at: now };
  }
  return state;
}

function refilled(def: RateLimitDefinition, s: { tokens: number; at: number }, now: number): number {
  return Math.min(def.limit, s.tokens + (Math.max(0, now - s.at) * def.limit) / def.per);
}

function windowUsed(def: RateLimitDefinition, spends: ReadonlyArray<[number, number]>, now: number): number {
  let used = 0;
  for (const [at, units] of spends) if (at > now - def.per) used += units;
  return used;
}

/** Units that may be spent now (negative while a reported overspend is being paid back). */
export function availableUnits(def: RateLimitDefinition, state: RateBudgetState, now: number): number {
  return state.kind === 'token-bucket' ? refilled(def, state, now) : def.limit - windowUsed(def, state.spends, now);
}

/**
 * Units a task must find before it may start: its own, but never more than the limit (a task that
 * asks for more than a whole window waits for a full budget instead of forever).
 */
export function unitsNeeded(def: RateLimitDefinition, units: number): number {
  return Math.min(units, def.limit);
}

/**
 * The budget after spending `units` at `now`. Spending more than is available is allowed (units
 * reported after the fact, such as tokens a model call used): the overspend counts against the
 * next window, so later work waits longer.
 */
export function spendUnits(
  def: RateLimitDefinition,
  state: RateBudgetState,
  units: number,
  now: number,
): RateBudgetState {
  if (state.kind === 'token-bucket')
    return { kind: 'token-bucket', tokens: refilled(def, state, now) - units, at: now };
  const spends = state.spends.filter(([at]) => at > now - def.per);
  const last = spends[spends.length - 1];
  if (last && last[0] === now) spends[spends.length - 1] = [now, last[1] + units];
  else spends.push([now, units]);
  return { kind: 'sliding-window', spends };
}

/**
 * The earliest instant at or after `now` when `units` are available, assuming nothing else is
 * spent meanwhile.
 */
export function availableAt(def: RateLimitDefinition, state: RateBudgetState, units: number, now: number): number {
  const need = unitsNeeded(def, units);
  const have = availableUnits(def, state, now);
  if (have >= need) return now;
  if (state.kind === 'token-bucket') {
    let at = now + Math.ceil(((need - have) * def.per) / def.limit);
    // The division is rounded: it may land a ms before the refill is whole, or one after. The
    // answer is the first ms at which `availableUnits` (what the gate checks) says yes.
    while (availableUnits(def, state, at) < need) at += 1;
    while (at - 1 > now && availableUnits(def, state, at - 1) >= need) at -= 1;
    return at;
  }
  // The window frees each spend `per` ms after it was made, oldest first.
  let free = have;
  for (const [at, spent] of state.spends) {
    if (at <= now - def.per) continue;
    free += spent;
    if (free >= need) return at + def.per;
  }
  return now + def.per;
}
