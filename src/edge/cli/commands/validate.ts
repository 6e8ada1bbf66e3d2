import type { Command } from 'commander';
import { checkPatternSource, type PatternReport } from '../../../features/patterns/check-pattern.js';
import { PatternLibrary } from '../../../features/patterns/load/library.js';
import { formatProblem } from '../../../features/patterns/problems/problems.js';
import { collect, parseSets, readPatternFile } from '../../../features/patterns/tools/cli-support.js';

interface ValidateOptions {
  set: string[];
  agent: string[];
  json?: boolean;
  strict?: boolean;
}

/**
 * `troupe validate <files...>`: checks pattern files or built-in patterns by name (schema, variables, references, `use:`
 * cycles, then the static checks on the compiled statechart) and prints every problem with its
 * file, line, column and path. Exit status 1 if any file has an error (or, with --strict, a warning).
 */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .argument(
      '<files...>',
      'pattern files (YAML) or built-in pattern names, as graph, paths and run take; they may use each other and the built-ins',
    )
    .option(
      '--set <key=value>',
      'an input value (repeatable); inputs without one use their default or a stand-in',
      collect,
      [],
    )
    .option(
      '--agent <capabilities>',
      "one agent's capabilities, comma-separated (repeatable); enables the capability warning",
      collect,
      [],
    )
    .option('--json', 'print the reports as JSON')
    .option('--strict', 'treat warnings as errors')
    .action((files: string[], opts: ValidateOptions) => {
      const library = PatternLibrary.builtIn();
      const read = files.map((file) => readPatternFile(file, library));
      for (const r of read) if ('source' in r) library.addSource(r.source);
      const agents = opts.agent.map((a) =>
        a
          .split(',')
          .map((c) => c.trim())
          .filter(Boolean),
      );
      const reports: PatternReport[] = files.map((file, i) => {
        const r = read[i] as (typeof read)[number];
        if ('problem' in r) return { file, ok: false, problems: [r.problem] };
        return checkPatternSource(r.source, {
          library,
          values: parseSets(opts.set, r.source),
          ...(agents.length > 0 ? { agents } : {}),
        });
      });
      const failed = reports.filter((r) => !r.ok || (opts.strict && r.problems.length > 0));
      if (opts.json) {
        console.log(
          JSON.stringify(
            reports.map((r) => ({ file: r.file, ok: r.ok, problems: r.problems })),
            null,
            2,
          ),
        );
      } else {
        for (const r of reports) for (const p of r.problems) console.log(formatProblem(p));
        const errors = reports.reduce((n, r) => n + r.problems.filter((p) => p.severity === 'error').length, 0);
        const warnings = reports.reduce((n, r) => n + r.problems.filter((p) => p.severity === 'warning').length, 0);
        console.log(
          `${files.length} file${files.length === 1 ? '' : 's'} checked: ${files.length - failed.length} ok, ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`,
        );
      }
      process.exitCode = failed.length > 0 ? 1 : 0;
    });
}
