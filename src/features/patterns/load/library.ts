import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePatternSource, type PatternSource } from './source.js';

let builtIns: PatternLibrary | undefined;

/**
 * A set of pattern files known by name, for `use:` and for the CLI's `<pattern>` arguments
 * (a name or a path). Sources are kept parsed; each `use` resolves the used pattern afresh with
 * the inputs it is given.
 *
 * @example
 * ```ts
 * const library = PatternLibrary.builtIn();
 * library.add(readFileSync('mine.yaml', 'utf8'), 'mine.yaml');
 * library.get('fork_join'); // the parsed source of patterns/fork_join.yaml
 * ```
 */
export class PatternLibrary {
  private readonly byName = new Map<string, PatternSource>();

  /** The built-in patterns of `patterns/` (read once per process; each call gets its own copy). */
  static builtIn(): PatternLibrary {
    if (!builtIns) {
      builtIns = new PatternLibrary();
      const dir = builtInPatternDir();
      for (const file of readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .sort()) {
        builtIns.add(readFileSync(join(dir, file), 'utf8'), join(dir, file));
      }
    }
    return builtIns.clone();
  }

  /** Parses and adds a source; a later source of the same name replaces the earlier. */
  add(text: string, file: string): PatternSource {
    const source = parsePatternSource(text, file);
    const name = nameOf(source);
    if (name !== undefined) this.byName.set(name, source);
    return source;
  }

  /** Adds an already parsed source under its name. */
  addSource(source: PatternSource): void {
    const name = nameOf(source);
    if (name !== undefined) this.byName.set(name, source);
  }

  get(name: string): PatternSource | undefined {
    return this.byName.get(name);
  }

  names(): Set<string> {
    return new Set(this.byName.keys());
  }

  /** A copy to which more sources can be added without changing this one. */
  clone(): PatternLibrary {
    const copy = new PatternLibrary();
    for (const source of this.byName.values()) copy.addSource(source);
    return copy;
  }

  /**
   * The first `use:` cycle through `name` (`['a', 'b', 'a']`), read from the raw files so that it
   * is found even when other problems keep the patterns from compiling.
   */
  useCycle(name: string): string[] | undefined {
    const search = (current: string, trail: string[]): string[] | undefined => {
      for (const used of usesOf(this.byName.get(current))) {
        if (used === name) return [...trail, used];
        if (trail.includes(used)) continue;
        const found = search(used, [...trail, used]);
        if (found) return found;
      }
      return undefined;
    };
    return search(name, [name]);
  }
}

function nameOf(source: PatternSource): string | undefined {
  const data = source.data as { name?: unknown } | undefined;
  return typeof data?.name === 'string' ? data.name : undefined;
}

/** Names a source's steps `use`, in order. */
export function usesOf(source: PatternSource | undefined): string[] {
  const steps = (source?.data as { steps?: unknown } | undefined)?.steps;
  if (!Array.isArray(steps)) return [];
  return steps.flatMap((s) =>
    s !== null && typeof s === 'object' && typeof (s as { use?: unknown }).use === 'string'
      ? [(s as { use: string }).use]
      : [],
  );
}

/**
 * `patterns/` of the package, found from this file whether it runs from `src/` or `dist/src/`.
 *
 * @example
 * ```ts
 * const pipeline = readFileSync(join(builtInPatternDir(), 'pipeline.yaml'), 'utf8');
 * ```
 */
export function builtInPatternDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'patterns'))) return join(dir, 'patterns');
    dir = resolve(dir, '..');
  }
  throw new Error('cannot find the built-in patterns directory');
}
