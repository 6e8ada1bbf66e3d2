import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { checkPatternText } from '../src/features/patterns/check-pattern.js';
import { durationMs } from '../src/features/patterns/format/common.js';
import { patternJsonSchema, patternSchemaText } from '../src/features/patterns/format/pattern-json-schema.js';
import { patternSchema } from '../src/features/patterns/format/pattern.js';
import { STEP_KINDS } from '../src/features/patterns/format/steps.js';
import { editDistance, nearestName } from '../src/features/patterns/problems/suggest.js';

describe('the pattern format', () => {
  it('is published as JSON Schema in patterns/pattern.schema.json, generated from the zod schema', () => {
    // Regenerate with: npx tsx src/patterns/tools/write-schema.ts
    expect(readFileSync('patterns/pattern.schema.json', 'utf8')).toBe(patternSchemaText());
  });

  it('names every step kind in the JSON Schema and lets ${var} stand for non-string values', () => {
    const schema = patternJsonSchema() as { $defs: Record<string, { anyOf?: unknown[] }>; required: string[] };
    for (const kind of STEP_KINDS)
      expect(Object.keys(schema.$defs)).toContain(`${kind[0]!.toUpperCase()}${kind.slice(1)}Step`);
    expect(schema.required).toEqual(['name', 'steps']);
    const vote = JSON.stringify(schema.$defs.VoteStep);
    expect(vote).toContain('"^\\\\$\\\\{[A-Za-z_][A-Za-z0-9_.]*\\\\}$"');
  });

  it('reads durations with units', () => {
    expect([
      durationMs(250),
      durationMs('500ms'),
      durationMs('30s'),
      durationMs('5m'),
      durationMs('2h'),
      durationMs('1d'),
    ]).toEqual([250, 500, 30_000, 300_000, 7_200_000, 86_400_000]);
    expect(() => durationMs('5 minutes')).toThrow(RangeError);
  });

  it('accepts a minimal pattern and refuses an empty one', () => {
    expect(patternSchema.safeParse({ name: 'p', steps: [{ id: 'a', task: { type: 't' } }] }).success).toBe(true);
    expect(patternSchema.safeParse({ name: 'p', steps: [] }).success).toBe(false);
  });
});

describe('docs/patterns.md', () => {
  it('opens with an example that validates', () => {
    const doc = readFileSync('docs/patterns.md', 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const report = checkPatternText(example, 'docs/patterns.md');
    expect(report.problems).toEqual([]);
    expect(report.compiled?.name).toBe('parallel_implementation');
  });

  it('has only YAML examples that parse', () => {
    const doc = readFileSync('docs/patterns.md', 'utf8');
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(blocks.length).toBeGreaterThan(12);
    for (const block of blocks)
      expect(
        parseDocument(block).errors.map((e) => e.message),
        block,
      ).toEqual([]);
  });

  it('has an example for every step kind', () => {
    const doc = readFileSync('docs/patterns.md', 'utf8');
    for (const kind of STEP_KINDS)
      expect(doc).toMatch(new RegExp(`### \`${kind}\` — [\\s\\S]*?\`\`\`yaml\\n[\\s\\S]*?${kind}:`));
  });
});

describe('suggestions', () => {
  it('measures edits with transpositions counted once', () => {
    expect(editDistance('strategy', 'stratgey')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests only names near enough to be a misspelling', () => {
    expect(nearestName('majorty', ['all', 'any', 'majority', 'k_of_n'])).toBe('majority');
    expect(nearestName('xyz', ['all', 'any'])).toBeUndefined();
    expect(nearestName('Task', ['task'])).toBe('task');
  });
});
