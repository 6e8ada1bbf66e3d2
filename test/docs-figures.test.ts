import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** A figure quoted in two documents is one figure: they must not drift apart. */
const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const coordination = readFileSync(join(root, 'docs/coordination.md'), 'utf8');

describe('figures quoted twice', () => {
  it('the README and docs/coordination.md give the same split-join times', () => {
    const inReadme = /\| split-join \| 1k \/ 10k children to join ready \| ([^|/]+) \/ ([^|]+) ms \|/.exec(readme);
    const inDoc = /\| split → join-ready \| ([^|]+) ms \| ([^|]+) ms \|/.exec(coordination);
    expect(inReadme, 'README row').not.toBeNull();
    expect(inDoc, 'docs/coordination.md row').not.toBeNull();
    expect([inReadme?.[1]?.trim(), inReadme?.[2]?.trim()]).toEqual([inDoc?.[1]?.trim(), inDoc?.[2]?.trim()]);
    // The doc names the command its figures come from.
    expect(coordination).toContain('runs of `npm run bench -- --only split-join`');
  });
});
