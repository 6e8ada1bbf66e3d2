import type { Command } from 'commander';
import { drawPattern, type DrawFormat } from '../../../features/patterns/tools/draw.js';
import { collect, loadForCommand } from '../../../features/patterns/tools/cli-support.js';

const FORMATS: DrawFormat[] = ['mermaid', 'dot', 'json'];

/** `troupe graph <pattern> --format mermaid|dot|json`: draws the statechart a pattern compiles to. */
export function registerGraph(program: Command): void {
  program
    .command('graph')
    .argument('<pattern>', 'a pattern file, or the name of a built-in pattern')
    .option('--format <format>', `one of ${FORMATS.join(', ')}`, 'mermaid')
    .option('--set <key=value>', 'an input value (repeatable)', collect, [])
    .action((arg: string, opts: { format: string; set: string[] }) => {
      if (!FORMATS.includes(opts.format as DrawFormat)) {
        console.error(`--format must be one of ${FORMATS.join(', ')}, not "${opts.format}"`);
        process.exitCode = 2;
        return;
      }
      const report = loadForCommand(arg, opts.set, (line) => console.error(line));
      if (!report?.ok || !report.compiled) {
        process.exitCode = 1;
        return;
      }
      console.log(drawPattern(report.compiled, opts.format as DrawFormat));
    });
}
