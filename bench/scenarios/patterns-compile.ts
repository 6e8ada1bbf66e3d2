import { stringify } from 'yaml';
import { checkPatternText } from '../../src/features/patterns/check-pattern.js';
import { checkCompiled } from '../../src/features/patterns/checks/check-compiled.js';
import { compilePattern } from '../../src/features/patterns/compile/compile.js';
import { PatternLibrary } from '../../src/features/patterns/load/library.js';
import { resolvePattern } from '../../src/features/patterns/load/resolve.js';
import { parsePatternSource } from '../../src/features/patterns/load/source.js';
import type { Figure, Scenario } from '../harness.js';
import { percentile } from '../harness.js';

const STEPS = 1_000;

/**
 * A 1,000-step pattern that uses every kind of step: groups of a split, a task, a sync point,
 * a join, a merge, a vote, a review loop, a branch, a pipeline and a saga, over and over.
 */
export function bigPatternYaml(steps = STEPS): string {
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; out.length < steps; i++) {
    const p = `g${i}_`;
    const group: Array<Record<string, unknown>> = [
      { id: `${p}split`, split: { count: 4, task: { type: 'part', requires: ['code'] } } },
      { id: `${p}task`, needs: [`${p}split`], timeout: '30m', task: { type: 'build', description: 'build ${target}' } },
      { id: `${p}sync`, timeout: '1h', sync: { wait_for: [`${p}split`], required: 3 } },
      {
        id: `${p}join`,
        join: { from: [`${p}split`, `${p}task`], strategy: 'k_of_n', k: 4, then: { type: 'integrate' } },
      },
      { id: `${p}merge`, merge: { from: [`${p}join`], strategy: 'combine' } },
      { id: `${p}vote`, vote: { voters: 3, task: { type: 'choose' }, on_tie: 'continue' } },
      {
        id: `${p}review`,
        review: {
          work: { type: 'write' },
          reviewers: [{ type: 'check' }, { type: 'test' }],
          max_rounds: 2,
          on_exhausted: 'continue',
        },
      },
      {
        id: `${p}route`,
        branch: { on: `${p}task`, rules: [{ key: 'score', operator: '>', value: 5, decision: 'continue' }] },
      },
      {
        id: `${p}pipe`,
        pipeline: {
          stages: [
            { id: 'a', task: { type: 'a' }, produces: ['x'] },
            { id: 'b', task: { type: 'b' }, consumes: ['x'] },
          ],
        },
      },
      {
        id: `${p}saga`,
        saga: {
          steps: [
            { id: 'one', task: { type: 'one' }, compensate: { type: 'undo_one' } },
            { id: 'two', task: { type: 'two' } },
          ],
        },
      },
    ];
    out.push(...group.slice(0, steps - out.length));
  }
  return stringify({ name: 'big', inputs: { target: { type: 'string', default: 'api' } }, steps: out });
}

const median = (xs: number[]): number =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/**
 * A 1,000-step pattern: compiling it to a statechart and running the static checks (the target),
 * and the whole of `troupe validate` on it (reading the YAML with positions, the schema,
 * variables and references, then compiling and checking).
 */
export const patternsCompile: Scenario = {
  name: 'patterns-compile',
  description: '1,000-step pattern: compile to a statechart + static checks; and the full validate from YAML',
  async run(): Promise<Figure[]> {
    const text = bigPatternYaml();
    const library = PatternLibrary.builtIn();
    const source = parsePatternSource(text, 'big.yaml');
    const { pattern } = resolvePattern(source);
    if (!pattern) throw new Error('the bench pattern is not valid');
    const compileTimes: number[] = [];
    const fullTimes: number[] = [];
    let states = 0;
    for (let i = 0; i < 14; i++) {
      const t0 = performance.now();
      const compiled = compilePattern(pattern, source, { library });
      const problems = checkCompiled(compiled, { agents: [['code']] });
      compileTimes.push(performance.now() - t0);
      if (problems.length > 0) throw new Error(`the bench pattern has problems: ${problems[0]?.message}`);
      states = Object.keys(compiled.machine.root.states).length;
      const t1 = performance.now();
      const report = checkPatternText(text, 'big.yaml', { library, agents: [['code']] });
      fullTimes.push(performance.now() - t1);
      if (!report.ok) throw new Error(`the bench pattern is not valid: ${report.problems[0]?.message}`);
    }
    return [
      {
        name: 'compile + static checks, 1,000 steps (p50)',
        value: median(compileTimes.slice(2)),
        unit: 'ms',
        target: { op: '<=', value: 200 },
        note: `${states} top-level states`,
      },
      {
        name: 'validate from YAML, 1,000 steps (p50)',
        value: median(fullTimes.slice(2)),
        unit: 'ms',
        note: `${Math.round(text.length / 1024)} KiB of YAML`,
      },
    ];
  },
};
