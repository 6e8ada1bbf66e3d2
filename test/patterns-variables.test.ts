import { describe, expect, it } from 'vitest';
import { parseTemplate, substitute, type VariableIssue } from '../src/features/patterns/load/variables.js';
import { parsePatternSource } from '../src/features/patterns/load/source.js';
import { resolvePattern } from '../src/features/patterns/load/resolve.js';

const scope = (values: Record<string, unknown>) => ({ values: new Map(Object.entries(values)) });

function run(tree: unknown, values: Record<string, unknown>) {
  const issues: VariableIssue[] = [];
  const out = substitute(tree, scope(values), issues);
  return { out, issues };
}

describe('${var} substitution', () => {
  it('keeps the type of a value that is the whole string', () => {
    const { out, issues } = run(
      { n: '${n}', list: '${xs}', flag: '${ok}', obj: '${o}' },
      { n: 3, xs: ['a', 'b'], ok: false, o: { a: 1 } },
    );
    expect(issues).toEqual([]);
    expect(out).toEqual({ n: 3, list: ['a', 'b'], flag: false, obj: { a: 1 } });
  });

  it('interpolates strings, numbers and booleans inside a longer string', () => {
    const { out } = run('build ${name} in ${n} steps (${fast})', { name: 'api', n: 2, fast: true });
    expect(out).toBe('build api in 2 steps (true)');
  });

  it('reads fields and list items with a dotted path', () => {
    const { out, issues } = run(['${m.name}', '${list.1}'], { m: { name: 'core' }, list: ['a', 'b'] });
    expect(issues).toEqual([]);
    expect(out).toEqual(['core', 'b']);
  });

  it('reports an unknown variable with the nearest known name, never leaving it as text', () => {
    const { issues } = run({ a: { b: 'x ${modles}' } }, { modules: [] });
    expect(issues).toEqual([
      {
        path: ['a', 'b'],
        code: 'E_UNKNOWN_VARIABLE',
        message: expect.stringContaining('${modles} names no input'),
        suggestion: 'modules',
      },
    ]);
  });

  it('reports a missing field of a known variable with the nearest field', () => {
    const { issues } = run('${m.nmae}', { m: { name: 'x' } });
    expect(issues[0]).toMatchObject({ code: 'E_UNKNOWN_VARIABLE', suggestion: 'name' });
  });

  it('refuses to interpolate a list or a mapping into a sentence', () => {
    const { issues } = run('modules: ${xs}', { xs: ['a'] });
    expect(issues[0]?.code).toBe('E_VARIABLE_NOT_SCALAR');
  });

  it('reports an unclosed reference and a bad name as syntax errors', () => {
    expect(parseTemplate('a ${b')).toEqual({ error: expect.stringContaining('not closed') });
    expect(parseTemplate('a ${b c}')).toEqual({ error: expect.stringContaining('not a valid reference') });
    expect(run('${}', {}).issues[0]?.code).toBe('E_VARIABLE_SYNTAX');
  });

  it('writes a literal ${ for $${ and leaves a lone $ alone', () => {
    const { out, issues } = run(['cost $${price}', 'a $ b', '$5'], {});
    expect(issues).toEqual([]);
    expect(out).toEqual(['cost ${price}', 'a $ b', '$5']);
  });

  it('never scans substituted text again: a value cannot smuggle in a reference', () => {
    const { out, issues } = run({ a: '${evil}', b: 'x ${evil}' }, { evil: '${secret}', secret: 'leaked' });
    expect(issues).toEqual([]);
    expect(out).toEqual({ a: '${secret}', b: 'x ${secret}' });
  });

  it('substitutes values only, never keys', () => {
    const { out } = run({ '${k}': 'v' }, { k: 'key' });
    expect(out).toEqual({ '${k}': 'v' });
  });

  it('keeps deferred (loop) variables for a later pass, escaping values so they stay literal', () => {
    const issues: VariableIssue[] = [];
    const first = substitute(
      { d: 'do ${item} for ${who}', w: '${who}' },
      { values: new Map([['who', '${item}']]), deferred: new Set(['item']) },
      issues,
    );
    expect(issues).toEqual([]);
    const second = substitute(first, { values: new Map([['item', 'X']]) }, issues);
    expect(second).toEqual({ d: 'do X for ${item}', w: '${item}' });
  });

  it('cannot break the document: a value full of YAML stays one string value', () => {
    const text = [
      'name: p',
      'inputs:',
      '  title: { type: string }',
      'steps:',
      '  - id: a',
      '    task: { type: t, description: "${title}" }',
    ].join('\n');
    const evil = 'x"\nsteps: []\n- id: injected\n  task: {type: rm}\n# ';
    const { pattern, problems } = resolvePattern(parsePatternSource(text, 'p.yaml'), { values: { title: evil } });
    expect(problems).toEqual([]);
    expect(pattern?.steps).toHaveLength(1);
    expect((pattern?.steps[0] as { task: { description: string } }).task.description).toBe(evil);
  });
});
