/**
 * The architecture check of `npm run lint`: the layer rules of .dependency-cruiser.cjs (no back
 * arrow, a pure core, no module cycle) and no cycle between folders of src/.
 *
 * A folder here is the set of files directly in it, so `src/engine` and `src/engine/api` are two
 * folders: a parent that imports its subfolder while the subfolder imports a file of the parent is
 * a cycle too. (dependency-cruiser's own folder rules count a parent as containing its subfolders
 * and would not see that one.)
 *
 * Usage: `tsx scripts/check-architecture.ts` (exits 1 and prints every violation when one is found).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, format, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const config = createRequire(import.meta.url)(join(repoRoot, '.dependency-cruiser.cjs')) as IConfiguration;

export interface ArchitectureReport {
  /** Rule violations, as dependency-cruiser's `err` reporter writes them ('' when none). */
  ruleReport: string;
  ruleViolations: number;
  /** Each cycle between folders: the folders of one strongly connected group, then one edge per line. */
  folderCycles: string[][];
}

/**
 * Cruises `paths` (relative to `baseDir`) with the project's rules. `baseDir` defaults to the
 * repository; the tests point it at small trees that break a rule on purpose.
 */
export async function checkArchitecture(baseDir = repoRoot, paths = ['src']): Promise<ArchitectureReport> {
  const tsConfigFile = join(baseDir, 'tsconfig.json');
  const hasTsConfig = existsSync(tsConfigFile);
  const { forbidden, options } = config;
  const result = await cruise(
    paths,
    {
      ...options,
      tsConfig: hasTsConfig ? { fileName: tsConfigFile } : undefined,
      baseDir,
      validate: true,
      ruleSet: { forbidden: forbidden ?? [] },
    },
    undefined,
    hasTsConfig ? { tsConfig: extractTSConfig(tsConfigFile) } : {},
  );
  const cruised = result.output as ICruiseResult;
  const ruleViolations = cruised.summary.violations.length;
  const ruleReport = ruleViolations === 0 ? '' : String((await format(cruised, { outputType: 'err' })).output);
  return { ruleReport, ruleViolations, folderCycles: folderCycles(cruised) };
}

/** Groups of folders under src/ that import each other, directly or round a loop (Tarjan's SCC). */
export function folderCycles(result: ICruiseResult): string[][] {
  const edges = new Map<string, Map<string, string>>();
  for (const m of result.modules) {
    if (!m.source.startsWith('src/')) continue;
    const from = dirname(m.source);
    for (const d of m.dependencies) {
      if (!d.resolved.startsWith('src/')) continue;
      const to = dirname(d.resolved);
      if (to === from) continue;
      const out = edges.get(from) ?? new Map<string, string>();
      if (!out.has(to)) out.set(to, `${m.source} -> ${d.resolved}`);
      edges.set(from, out);
    }
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1) groups.push(group.sort());
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return groups.map((group) => {
    const inside = new Set(group);
    const why = group.flatMap((f) =>
      [...(edges.get(f) ?? [])].filter(([to]) => inside.has(to)).map(([, edge]) => `  ${edge}`),
    );
    return [group.join(' <-> '), ...why];
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = await checkArchitecture();
  if (report.ruleReport) process.stdout.write(report.ruleReport);
  for (const cycle of report.folderCycles) console.log(`folder cycle: ${cycle.join('\n')}`);
  if (report.ruleViolations > 0 || report.folderCycles.length > 0) process.exit(1);
  console.log('architecture: layers kept, no module cycle, no folder cycle');
}
