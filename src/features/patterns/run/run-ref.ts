import type { CompiledPattern } from '../compile/compile.js';
import type { PatternRunContext } from '../compile/protocol.js';

/** A run as the driver sees it while starting one of its steps. */
export interface RunRef {
  runId: string;
  ticketId: string | null;
  phase: string | null;
  compiled: CompiledPattern;
  context: PatternRunContext;
}
