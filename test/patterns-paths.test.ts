import { readdirSync, readFileSync } from 'node:fs';
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { formatPaths } from '../src/edge/cli/commands/paths.js';
import { checkPatternText } from '../src/features/patterns/check-pattern.js';
import type { CompiledPattern } from '../src/features/patterns/compile/compile.js';
import { drawPattern, graphOf } from '../src/features/patterns/tools/draw.js';
import { flatState, generatePaths, traversalInput } from '../src/features/patterns/tools/test-paths.js';

const BUILT_IN = readdirSync('patterns')
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const compiledOf = (file: string): CompiledPattern =>
  checkPatternText(readFileSync(`patterns/${file}`, 'utf8'), `patterns/${file}`).compiled as CompiledPattern;

describe('test paths from the statechart', () => {
  it.each(BUILT_IN)(
    '%s: the paths take every transition and reach every state, each ending in a final state',
    (file) => {
      const compiled = compiledOf(file);
      const report = generatePaths(compiled);
      expect(report.transitions).toBeGreaterThan(0);
      expect(report.covered).toBe(report.transitions);
      expect(report.statesCovered).toBe(report.states);
      for (const path of report.paths) {
        // Replayed on a live actor, independently of the traversal, each path ends where it says.
        const actor = createActor(compiled.machine, { input: traversalInput(compiled.name) }).start();
        for (const event of path.events) actor.send(event);
        const snapshot = actor.getSnapshot();
        expect(snapshot.status).toBe('done');
        expect(flatState(snapshot.value)).toBe(path.final.state);
        expect(snapshot.context.outcome).toBe(path.final.outcome);
      }
      // Every step, and every failure and timeout branch, is on some path.
      const taken = new Set(report.paths.flatMap((p) => p.events.map((e) => JSON.stringify(e))));
      for (const event of compiled.events) expect(taken, JSON.stringify(event)).toContain(JSON.stringify(event));
    },
  );

  it('prints paths readably and as JSON', () => {
    const report = generatePaths(compiledOf('conditional_branching.yaml'));
    const text = formatPaths(report);
    expect(text).toContain('conditional_branching: 5 paths; they take 9 of 9 transitions and reach 9 of 9 states');
    expect(text).toContain('start, analyze done, route → r0, refactor done → completed');
    expect(text).toContain('ends failed (refactor: scripted failure)');
    const json = JSON.parse(JSON.stringify(report)) as typeof report;
    expect(json.paths.find((p) => p.final.state === 'cleanup')).toBeUndefined();
    expect(json.paths.map((p) => p.final.outcome).sort()).toEqual([
      'completed',
      'completed',
      'failed',
      'failed',
      'failed',
    ]);
  });
});

describe('drawings of the statechart', () => {
  const compiled = compiledOf('primary_with_reviewers.yaml');

  it('draws Mermaid with compound states and labelled transitions', () => {
    const text = drawPattern(compiled, 'mermaid');
    expect(text.split('\n')[0]).toBe('stateDiagram-v2');
    expect(text).toContain('state reviewed_work {');
    expect(text).toContain(
      'reviewed_work_reviewing --> reviewed_work_work : review.rejected [rejected, rounds left (max 2)]',
    );
    expect(text).toContain('reviewed_work_reviewing --> escalated : review.rejected [rejected, no rounds left]');
    expect(text).not.toContain('timed_out');
  });

  it('draws DOT with a cluster per compound state', () => {
    const text = drawPattern(compiled, 'dot');
    expect(text.startsWith('digraph "primary_with_reviewers" {')).toBe(true);
    expect(text).toContain('subgraph "cluster_reviewed_work" {');
    expect(text).toContain('"reviewed_work/work" -> "reviewed_work/reviewing" [label="step.done"];');
    expect(text.trim().endsWith('}')).toBe(true);
  });

  it('gives JSON nodes and edges that match the statechart', () => {
    const graph = graphOf(compiled);
    expect(JSON.parse(drawPattern(compiled, 'json'))).toEqual(graph);
    expect(graph.initial).toBe('pending');
    expect(graph.nodes.map((n) => n.id)).toEqual([
      'pending',
      'reviewed_work',
      'reviewed_work/work',
      'reviewed_work/reviewing',
      'completed',
      'failed',
      'escalated',
    ]);
    expect(graph.edges).toHaveLength(7);
  });
});
