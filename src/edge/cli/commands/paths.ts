import type { Command } from 'commander';
import { eventText, generatePaths, type PathReport } from '../../../features/patterns/tools/test-paths.js';
import { collect, loadForCommand } from '../../../features/patterns/tools/cli-support.js';

/**
 * `troupe paths <pattern>`: test paths generated from the pattern's statechart with
 * `xstate/graph`, covering every step and every failure, timeout, tie, rejection and route.
 */
export function registerPaths(program: Command): void {
  program
    .command('paths')
    .argument('<pattern>', 'a pattern file, or the name of a built-in pattern')
    .option('--set <key=value>', 'an input value (repeatable)', collect, [])
    .option('--json', 'print the paths as JSON')
    .action((arg: string, opts: { set: string[]; json?: boolean }) => {
      const report = loadForCommand(arg, opts.set, (line) => console.error(line));
      if (!report?.ok || !report.compiled) {
        process.exitCode = 1;
        return;
      }
      const paths = generatePaths(report.compiled);
      console.log(opts.json ? JSON.stringify(paths, null, 2) : formatPaths(paths));
    });
}

/** The paths as text a person reads: one block per path, one line per event. */
export function formatPaths(report: PathReport): string {
  const lines = [
    `${report.pattern}: ${report.paths.length} paths; they take ${report.covered} of ${report.transitions} transitions and reach ${report.statesCovered} of ${report.states} states`,
  ];
  for (const path of report.paths) {
    lines.push('', `${path.id}: ${path.description} → ${path.final.state}`);
    path.steps.forEach((step, i) =>
      lines.push(`  ${String(i + 1).padStart(2)}. ${eventText(step.event).padEnd(40)} → ${step.state}`),
    );
    const failure = path.final.failure;
    lines.push(
      `  ends ${path.final.outcome ?? path.final.state}${failure ? ` (${failure.step}: ${failure.reason})` : ''}`,
    );
  }
  return lines.join('\n');
}
