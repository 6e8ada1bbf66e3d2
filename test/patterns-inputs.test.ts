import { describe, expect, it } from 'vitest';
import type { InputDecl } from '../src/features/patterns/format/pattern.js';
import { inputTypeError, parseCliValue, resolveInputs } from '../src/features/patterns/load/inputs.js';
import { parsePatternSource } from '../src/features/patterns/load/source.js';
import { resolvePattern } from '../src/features/patterns/load/resolve.js';

const decls: Record<string, InputDecl> = {
  n: { type: 'integer', default: 2, min: 1 },
  names: { type: 'list', items: 'string' },
  ratio: { type: 'number', max: 1 },
};

describe('pattern inputs', () => {
  it('takes given values, then defaults, and reports required inputs without a value', () => {
    const r = resolveInputs(decls, { names: ['a'] });
    expect(r.values.get('n')).toBe(2);
    expect(r.values.get('names')).toEqual(['a']);
    expect(r.issues).toEqual([
      { name: 'ratio', code: 'E_INPUT_MISSING', message: expect.stringContaining('no default') },
    ]);
  });

  it('gives required inputs a stand-in when only checking', () => {
    const r = resolveInputs(decls, {}, { placeholders: true });
    expect(r.issues).toEqual([]);
    expect([...r.placeholders].sort()).toEqual(['names', 'ratio']);
    expect(r.values.get('names')).toEqual([]);
  });

  it('reports values of the wrong type, out of range, and unknown inputs with a suggestion', () => {
    const r = resolveInputs(decls, { n: 0, names: ['a', 3], ratio: 2, nmaes: 1 });
    expect(r.issues.map((i) => [i.name, i.code, i.suggestion])).toEqual([
      ['nmaes', 'E_INPUT_UNKNOWN', 'names'],
      ['n', 'E_INPUT_TYPE', undefined],
      ['names', 'E_INPUT_TYPE', undefined],
      ['ratio', 'E_INPUT_TYPE', undefined],
    ]);
    expect(inputTypeError(decls.names!, ['a', 3])).toBe('item 1: expected a string, got number 3');
    expect(inputTypeError(decls.n!, 1.5)).toBe('expected an integer, got number 1.5');
  });

  it('reads command-line values by the declared type', () => {
    expect(parseCliValue('3', { type: 'integer' })).toBe(3);
    expect(parseCliValue('3', { type: 'string' })).toBe('3');
    expect(parseCliValue('true', { type: 'boolean' })).toBe(true);
    expect(parseCliValue('[a, b]', { type: 'list' })).toEqual(['a', 'b']);
    expect(parseCliValue('{x: 1}', { type: 'object' })).toEqual({ x: 1 });
    expect(parseCliValue('abc', { type: 'number' })).toBe('abc');
    expect(parseCliValue('anything', undefined)).toBe('anything');
  });

  it('substitutes input values into the steps with their types', () => {
    const text = [
      'name: p',
      'inputs:',
      '  voters: { type: integer, default: 3 }',
      'steps:',
      '  - id: v',
      '    vote: { voters: "${voters}", task: { type: t } }',
    ].join('\n');
    const source = parsePatternSource(text, 'p.yaml');
    expect((resolvePattern(source).pattern?.steps[0] as { vote: { voters: unknown } }).vote.voters).toBe(3);
    expect(
      (resolvePattern(source, { values: { voters: 7 } }).pattern?.steps[0] as { vote: { voters: unknown } }).vote
        .voters,
    ).toBe(7);
  });
});
