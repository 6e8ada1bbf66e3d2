import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The package as a user gets it: `npm pack` (which builds dist/ through `prepack`), the tarball
 * installed into an empty folder, then the `troupe` bin, the demo, the README's examples and
 * every import the docs show, all through the installed package by its name.
 *
 * Cost: one tsc build, one pack and one install from the npm cache (about 40 s of wall time on
 * the 2-core development machine when idle). The dependencies' install scripts are skipped and
 * better-sqlite3's native addon is copied from this clone's install: its install script compiles
 * it from source here (no prebuilt binary can be downloaded), which takes minutes.
 */
const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'troupe-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (file: string, args: string[], cwd: string): string =>
  execFileSync(file, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 180_000,
    env: { ...process.env, npm_config_loglevel: 'error' },
  });

/** Every name the README, the docs and the JSDoc examples import from the package, by entry point. */
function documentedImports(): Map<string, Set<string>> {
  const files = [
    join(root, 'README.md'),
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => join(root, 'docs', f)),
  ];
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : [],
    );
  const out = new Map<string, Set<string>>();
  for (const file of [...files, ...walk(join(root, 'src'))]) {
    for (const m of readFileSync(file, 'utf8').matchAll(/import\s+\{([^}]*)\}\s+from\s+'(troupe(?:\/[a-z]+)?)'/g)) {
      const names = (m[1] as string)
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== '' && !n.startsWith('type '));
      const set = out.get(m[2] as string) ?? new Set<string>();
      for (const n of names) set.add(n.split(/\s+as\s+/)[0] as string);
      out.set(m[2] as string, set);
    }
  }
  return out;
}

/** The README's TypeScript examples, in order, as one JavaScript module. */
function readmeExamples(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  return transformSync(blocks.join('\n'), { loader: 'ts', format: 'esm' }).code;
}

describe('the troupe bin in a clone', () => {
  it("runs after npm ci with no build: npx finds the package's own bin (a self link) and it runs the source", () => {
    const help = run('npx', ['--no-install', 'troupe', '--help'], root);
    expect(help).toContain('Usage: troupe');
  }, 60_000);
});

describe('the packed package', () => {
  it('installs from its tarball and runs: the bin, the demo, the README examples, the documented imports', () => {
    run('npm', ['pack', '--pack-destination', dir], root);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz')) as string;
    expect(tarball).toBeDefined();
    const listing = run('tar', ['-tzf', join(dir, tarball)], dir)
      .split('\n')
      .filter(Boolean);
    expect(listing).toContain('package/bin/troupe.js');
    expect(listing).toContain('package/dist/src/index.js');
    expect(listing).toContain('package/dist/src/index.d.ts');
    // No source maps: they would point at src/, which is not shipped.
    expect(listing.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(listing.filter((f) => f.startsWith('package/src/') || f.startsWith('package/test/'))).toEqual([]);

    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    run('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', join(dir, tarball)], app);
    const addon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
    mkdirSync(join(app, addon, '..'), { recursive: true });
    copyFileSync(join(root, addon), join(app, addon));
    const bin = join(app, 'node_modules/.bin/troupe');

    expect(run(bin, ['--help'], app)).toContain('Usage: troupe');
    const demo = run(bin, ['demo'], app);
    expect(demo).toMatch(/ticket .* completed/);
    expect(readdirSync(join(app, '.troupe'))).toContain('demo.db');

    writeFileSync(join(app, 'readme.mjs'), readmeExamples());
    expect(run(process.execPath, ['readme.mjs'], app).trim().split('\n')).toEqual([
      'completed',
      'succeeded a',
      'completed',
    ]);

    const imports = documentedImports();
    expect(imports.get('troupe')).toContain('SqliteStore');
    // One module per entry point, importing it by name as a user's code would.
    const modules = [...imports].map(([spec, names], i) => {
      const file = `imports-${i}.mjs`;
      writeFileSync(
        join(app, file),
        `import * as m from '${spec}';\nconsole.log(JSON.stringify(${JSON.stringify([...names])}.filter((n) => !(n in m)).map((n) => '${spec}: ' + n)));`,
      );
      return file;
    });
    const missing = modules.flatMap((file) => JSON.parse(run(process.execPath, [file], app)) as string[]);
    expect(missing).toEqual([]);
  }, 300_000);
});
