import { readdirSync, readFileSync } from 'node:fs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { checkPatternText } from '../src/features/patterns/check-pattern.js';
import type { CompiledPattern } from '../src/features/patterns/compile/compile.js';
import { replayPath } from '../src/features/patterns/run/replay.js';
import { generatePaths } from '../src/features/patterns/tools/test-paths.js';
import { SimulatedClock } from '../src/engine/clock.js';
import { createRuntime } from '../src/runtime.js';

/**
 * The paths `troupe paths` generates from each built-in pattern's statechart, replayed against
 * the runtime: each path's events become scripted agent outcomes and clock moves, and the live
 * run must end in the state the path predicts.
 */
const BUILT_IN = readdirSync('patterns')
  .filter((f) => f.endsWith('.yaml'))
  .sort();

/** The event types a built-in pattern's header comment says it emits. */
function headerEmits(text: string): Set<string> {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith('# Emits:'));
  const block = [lines[start]!.slice('# Emits:'.length)];
  for (let i = start + 1; lines[i]?.startsWith('#   '); i++) block.push(lines[i]!.slice(1));
  return new Set(
    block
      .join(' ')
      .split(/[\s,|]+/)
      .filter(Boolean),
  );
}

describe.each(BUILT_IN)('%s: generated paths replayed on the runtime', (file) => {
  const text = readFileSync(`patterns/${file}`, 'utf8');
  const compiled = checkPatternText(text, `patterns/${file}`).compiled as CompiledPattern;
  const { paths } = generatePaths(compiled);
  const emitted = new Set<string>(['pattern.cancelled']);

  it.each(paths.map((p) => [p.id, p] as const))('%s reaches the predicted state', async (_id, path) => {
    const clock = new SimulatedClock(0);
    const runtime = createRuntime({
      clock,
      logger: pino({ level: 'silent' }),
      heartbeatIntervalMs: 3_600_000,
      staleAfterMs: 1_000 * 3_600_000,
    });
    runtime.events.subscribe({ types: ['pattern.*', 'coordination.*'] }, (e) => emitted.add(e.type));
    try {
      const run = await replayPath(runtime, clock, compiled, path, 'run-1');
      expect({ state: run.state, status: run.status, failedStep: run.failure?.step ?? null }).toEqual({
        state: path.final.state,
        status: path.final.outcome,
        failedStep: path.final.failure?.step ?? null,
      });
    } finally {
      await runtime.stop();
    }
  });

  it('emits the events its header comment lists (cancellation aside, which no path makes)', () => {
    expect([...emitted].sort()).toEqual([...headerEmits(text)].sort());
  });
});
