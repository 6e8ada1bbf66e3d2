import { TroupeError } from '../../../core/errors.js';
import type { PatternRunView } from '../../../features/patterns/run/run-view.js';
import { checkPatternSource } from '../../../features/patterns/check-pattern.js';
import type { CompiledPattern } from '../../../features/patterns/compile/compile.js';
import { parsePatternSource } from '../../../features/patterns/load/source.js';
import { PatternValidationError, type PatternProblem } from '../../../features/patterns/problems/problems.js';
import { patternKindOf } from '../../../features/patterns/run/registered.js';
import type { Runtime } from '../../../runtime.js';
import { HttpError, type PatternProblemBody } from '../shared/http-errors.js';
import type { RunCreateBody } from '../schemas/run-schemas.js';
import { actorAt } from './task-submission.js';

/**
 * The pattern a request names, compiled with its inputs. YAML text is compiled against the
 * runtime's library without being added to it: one client's pattern never replaces a built-in
 * that others apply by name.
 */
function compileRequest(runtime: Runtime, body: RunCreateBody): CompiledPattern {
  const inputs = body.inputs ?? {};
  if (body.pattern !== undefined) return runtime.patterns.compile(body.pattern, inputs);
  // Named after the field, so that a problem reads `yaml:4:7 ...`: a line and column of its text.
  const source = parsePatternSource(body.yaml ?? '', 'yaml');
  const report = checkPatternSource(source, { library: runtime.patterns.library, values: inputs, requireInputs: true });
  if (!report.ok || !report.compiled) throw new PatternValidationError(report.problems);
  return report.compiled;
}

/** A problem as the error body carries it: its place in the text, not a file of the server's. */
function problemBody(p: PatternProblem): PatternProblemBody {
  return {
    code: p.code,
    severity: p.severity,
    message: p.message,
    line: p.line,
    column: p.column,
    path: p.path,
    ...(p.suggestion !== undefined ? { suggestion: p.suggestion } : {}),
  };
}

/**
 * Applies a pattern, idempotently by run id: a run under that id of the same compiled pattern
 * (same pattern, same inputs: the same machine kind) for the same ticket and phase is answered
 * as it is now; anything else under a used id is 409 `E_DUPLICATE_ID`.
 */
export async function submitRun(
  runtime: Runtime,
  body: RunCreateBody,
): Promise<{ run: PatternRunView; created: boolean }> {
  let compiled: CompiledPattern;
  try {
    compiled = compileRequest(runtime, body);
  } catch (error) {
    if (error instanceof TroupeError && error.code === 'E_INVALID_INPUT') {
      const problems = error instanceof PatternValidationError ? error.problems.map(problemBody) : undefined;
      throw new HttpError(
        'E_INVALID_INPUT',
        error.message,
        ['body', body.pattern !== undefined ? 'pattern' : 'yaml'],
        {},
        problems,
      );
    }
    throw error;
  }
  for (let round = 0; ; round++) {
    if (body.runId !== undefined) {
      const found = await actorAt(runtime, body.runId);
      if (found) {
        const context = found.context as { ticketId?: unknown; phase?: unknown };
        const same =
          found.kind === patternKindOf(compiled) &&
          context.ticketId === (body.ticketId ?? null) &&
          context.phase === (body.phase ?? null);
        if (!same)
          throw new HttpError(
            'E_DUPLICATE_ID',
            `id "${body.runId}" is taken by another run or entity; resubmit the same body, or choose another id`,
            ['body', 'runId'],
          );
        return { run: await runtime.patterns.get(body.runId), created: false };
      }
    }
    try {
      const run = await runtime.patterns.apply({
        pattern: compiled,
        ...(body.runId !== undefined ? { runId: body.runId } : {}),
        ...(body.ticketId !== undefined ? { ticketId: body.ticketId } : {}),
        ...(body.phase !== undefined ? { phase: body.phase } : {}),
      });
      return { run, created: true };
    } catch (error) {
      if (round === 0 && body.runId !== undefined && error instanceof TroupeError && error.code === 'E_DUPLICATE_ID')
        continue;
      throw error;
    }
  }
}
