import type { StateValue } from 'xstate';
import type { PatternFailure, PatternOutcome, PatternRunContext } from '../compile/protocol.js';
import { flatState } from '../tools/test-paths.js';

/** A pattern run as the API shows it. */
export interface PatternRunView {
  id: string;
  pattern: string;
  /** The machine kind the run is stored under (`pattern:<name>:<hash>`). */
  kind: string;
  status: 'pending' | 'running' | PatternOutcome;
  /** The state it is in, dotted (`review.reviewing`, `completed`). */
  state: string;
  ticketId: string | null;
  phase: string | null;
  /** Review rounds reached, by review step. */
  rounds: Record<string, number>;
  /** Values computed by merges and votes, by step. */
  results: Record<string, unknown>;
  failure: PatternFailure | null;
  startedAt: number;
  settledAt: number | null;
}

export function runView(id: string, kind: string, value: unknown, context: unknown): PatternRunView {
  const c = context as PatternRunContext;
  const state = flatState(value as StateValue);
  return {
    id,
    pattern: c.pattern,
    kind,
    status: c.outcome ?? (state === 'pending' ? 'pending' : 'running'),
    state,
    ticketId: c.ticketId,
    phase: c.phase,
    rounds: c.rounds,
    results: c.results,
    failure: c.failure,
    startedAt: c.startedAt,
    settledAt: c.settledAt,
  };
}
