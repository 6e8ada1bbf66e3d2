import { TroupeError } from '../../../core/errors.js';
import type { GateSpec } from '../../../core/machines/gate.js';
import type { TicketApi } from '../../../engine/api/ticket-api.js';
import type { TicketView } from '../../../engine/api/views.js';
import type { CompiledPattern } from '../compile/compile.js';

/**
 * The two calls of `runtime.patterns` that a pattern ticket makes; an interface, so that
 * pattern-api.ts (which creates `PatternTickets`) and this file do not import each other.
 */
export interface PatternStarter {
  compile(pattern: string, inputs: Record<string, unknown>): CompiledPattern;
  apply(input: { pattern: CompiledPattern; ticketId: string; phase: string; runId: string }): Promise<{ id: string }>;
}

/** One phase of a pattern ticket: its name, the pattern that does its work, and its gate. */
export interface PatternPhaseInput {
  name: string;
  /** The pattern that does the phase's work (a name in the library); none for a plain phase. */
  pattern?: string;
  inputs?: Record<string, unknown>;
  gate?: GateSpec;
  maxRounds?: number;
}

/** A ticket whose phases are done by patterns (`runtime.patterns.tickets.create`). */
export interface PatternTicketInput {
  id?: string;
  title: string;
  description?: string;
  context?: Record<string, unknown>;
  phases: PatternPhaseInput[];
}

/**
 * Tickets whose phases each use a pattern: every pattern is checked and compiled before the
 * ticket exists (a bad pattern leaves nothing behind), then each phase gets a run that starts
 * when the phase opens; the phase ends only when its run has ended and its gate passes.
 *
 * @example
 * ```ts
 * const { ticket, runs } = await runtime.patterns.tickets.create({
 *   title: 'Payments',
 *   phases: [
 *     { name: 'design', pattern: 'majority_vote', inputs: { question: 'Which provider?' } },
 *     { name: 'build', pattern: 'primary_with_reviewers', inputs: { description: 'Payment API' } },
 *   ],
 * });
 * await runtime.tickets.wait(ticket.id);
 * ```
 */
export class PatternTickets {
  constructor(
    private readonly tickets: TicketApi,
    private readonly patterns: PatternStarter,
  ) {}

  async create(input: PatternTicketInput): Promise<{ ticket: TicketView; runs: Record<string, string> }> {
    const compiled = new Map<string, CompiledPattern>();
    for (const phase of input.phases) {
      if (phase.pattern !== undefined)
        compiled.set(phase.name, this.patterns.compile(phase.pattern, phase.inputs ?? {}));
    }
    if (compiled.size === 0)
      throw new TroupeError(
        'E_INVALID_INPUT',
        'no phase names a pattern; use runtime.tickets.create for plain tickets',
      );
    const ticket = await this.tickets.create({
      ...(input.id !== undefined ? { id: input.id } : {}),
      title: input.title,
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.context !== undefined ? { context: input.context } : {}),
      phases: input.phases.map((p) => ({
        name: p.name,
        ...(p.gate !== undefined ? { gate: p.gate } : {}),
        ...(p.maxRounds !== undefined ? { maxRounds: p.maxRounds } : {}),
      })),
    });
    const runs: Record<string, string> = {};
    for (const [phase, pattern] of compiled) {
      const run = await this.patterns.apply({
        pattern,
        ticketId: ticket.id,
        phase,
        runId: `${ticket.id}/${phase}/run`,
      });
      runs[phase] = run.id;
    }
    return { ticket: await this.tickets.get(ticket.id), runs };
  }
}
