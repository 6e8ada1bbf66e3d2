import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { checkPatternText } from '../src/features/patterns/check-pattern.js';
import type { Pattern } from '../src/features/patterns/format/pattern.js';
import { PatternLibrary } from '../src/features/patterns/load/library.js';
import { resolvePattern } from '../src/features/patterns/load/resolve.js';
import { parsePatternSource } from '../src/features/patterns/load/source.js';
import { drawPattern } from '../src/features/patterns/tools/draw.js';

/**
 * Random valid patterns: every step kind, references only to steps that ran before, joins and
 * sync points that can be met, branches whose routes continue, end or fail.
 */
type Plan = Array<{ kind: string; seed: number; timeout: boolean }>;

const task = (i: number, n = 0) => ({ type: `t${i}_${n}`, requires: n % 2 === 0 ? ['code'] : ['review'] });

function buildPattern(plan: Plan): Pattern {
  const steps: Array<Record<string, unknown>> = [];
  const made: Array<{ id: string; kind: string; tasks: number }> = [];
  plan.forEach(({ kind, seed, timeout }, i) => {
    const id = `s${i}`;
    const tasksBefore = made.filter((m) => m.kind === 'task' || m.kind === 'split');
    const resultBefore = made.filter((m) =>
      ['task', 'split', 'join', 'merge', 'vote', 'review', 'pipeline'].includes(m.kind),
    );
    const step: Record<string, unknown> = { id };
    if (timeout) step.timeout = `${(seed % 5) + 1}m`;
    let tasks = 0;
    if (kind === 'split') {
      tasks = (seed % 4) + 1;
      step.split =
        seed % 2 === 0
          ? { count: tasks, task: task(i) }
          : { tasks: Array.from({ length: tasks }, (_, n) => task(i, n)) };
    } else if (kind === 'join' && tasksBefore.length > 0) {
      const from = tasksBefore.slice(-((seed % tasksBefore.length) + 1));
      const n = from.reduce((s, m) => s + m.tasks, 0);
      const strategies = ['all', 'any', 'majority', 'k_of_n'] as const;
      const strategy = strategies[seed % 4]!;
      step.join = {
        from: from.map((m) => m.id),
        strategy,
        ...(strategy === 'k_of_n' ? { k: (seed % n) + 1 } : {}),
        ...(seed % 3 === 0 ? { then: task(i) } : {}),
      };
    } else if (kind === 'sync' && tasksBefore.length > 0) {
      const from = tasksBefore[seed % tasksBefore.length]!;
      step.timeout = '10m';
      step.sync = { wait_for: [from.id], required: (seed % from.tasks) + 1 };
    } else if (kind === 'merge' && resultBefore.length > 0) {
      step.merge = {
        from: [resultBefore[seed % resultBefore.length]!.id],
        strategy: ['combine', 'union', 'intersection', 'majority'][seed % 4],
      };
    } else if (kind === 'vote') {
      step.vote = { voters: (seed % 5) + 1, task: task(i), ...(seed % 2 === 0 ? { on_tie: 'escalate' } : {}) };
    } else if (kind === 'review') {
      step.review = {
        work: task(i),
        reviewers: [task(i, 1), task(i, 2)].slice(0, (seed % 2) + 1),
        max_rounds: (seed % 3) + 1,
      };
    } else if (kind === 'pipeline') {
      const stages = (seed % 3) + 1;
      step.pipeline = {
        stages: Array.from({ length: stages }, (_, n) => ({
          id: `p${n}`,
          task: task(i, n),
          produces: [`a${n}`],
          ...(n > 0 ? { consumes: [`a${n - 1}`] } : {}),
        })),
      };
    } else if (kind === 'saga') {
      step.saga = {
        steps: Array.from({ length: (seed % 3) + 1 }, (_, n) => ({
          id: `g${n}`,
          task: task(i, n),
          ...(n % 2 === 0 ? { compensate: task(i, n + 10) } : {}),
        })),
      };
    } else if (kind === 'branch' && i > 0 && resultBefore.some((m) => m.id === `s${i - 1}`)) {
      const decisions = ['continue', 'end', 'error'] as const;
      step.branch = {
        rules: [
          {
            key: 'score',
            operator: ['>', '<', '==', 'in'][seed % 4],
            value: seed % 4 === 3 ? [seed] : seed,
            decision: decisions[seed % 3],
          },
        ],
      };
    } else if (kind === 'wait') {
      step.timeout = '1h';
      step.wait = { signal: `go${i}` };
    } else {
      tasks = 1;
      step.task = { ...task(i), description: `step ${i}` };
    }
    const actual = Object.keys(step).find((k) => !['id', 'timeout'].includes(k))!;
    steps.push(step);
    made.push({ id, kind: actual, tasks });
  });
  return { name: 'random', description: 'a random pattern', steps } as unknown as Pattern;
}

const planArb = fc.array(
  fc.record({
    kind: fc.constantFrom(
      'task',
      'split',
      'join',
      'sync',
      'merge',
      'vote',
      'review',
      'pipeline',
      'saga',
      'branch',
      'wait',
    ),
    seed: fc.nat({ max: 1_000 }),
    timeout: fc.boolean(),
  }),
  { minLength: 1, maxLength: 10 },
);

const library = PatternLibrary.builtIn();

describe('random valid patterns', () => {
  it('validate, pass the static checks and compile to a state per step', () => {
    fc.assert(
      fc.property(planArb, (plan) => {
        const pattern = buildPattern(plan);
        const report = checkPatternText(stringify(pattern), 'random.yaml', { library });
        expect(report.problems.filter((p) => p.severity === 'error')).toEqual([]);
        expect(report.compiled).toBeDefined();
        const root = report.compiled!.machine.root;
        for (const step of pattern.steps) {
          expect(root.states[step.id]).toBeDefined();
          expect(
            root.states[step.id]!.transitions.has('timer') ||
              step.timeout === undefined ||
              Object.keys(root.states[step.id]!.states).length > 0,
          ).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('survive a round trip through their JSON form (and YAML), compiling to the same statechart', () => {
    fc.assert(
      fc.property(planArb, (plan) => {
        const pattern = buildPattern(plan);
        const viaYaml = resolvePattern(parsePatternSource(stringify(pattern), 'p.yaml')).pattern!;
        const viaJson = resolvePattern(parsePatternSource(JSON.stringify(viaYaml), 'p.json')).pattern!;
        expect(viaJson).toEqual(viaYaml);
        expect(JSON.parse(JSON.stringify(viaJson))).toEqual(pattern);
        const a = checkPatternText(stringify(viaYaml), 'a.yaml', { library }).compiled!;
        const b = checkPatternText(JSON.stringify(viaJson), 'b.json', { library }).compiled!;
        expect(drawPattern(b, 'mermaid')).toBe(drawPattern(a, 'mermaid'));
        expect(drawPattern(b, 'dot')).toBe(drawPattern(a, 'dot'));
        expect([...b.works.entries()]).toEqual([...a.works.entries()]);
      }),
      { numRuns: 100 },
    );
  });
});
