import type { Command } from 'commander';
import { durationMs } from '../../../features/patterns/format/common.js';
import { simulatePattern, formatTimeline } from './simulate-pattern.js';
import { collect, loadForCommand } from '../../../features/patterns/tools/cli-support.js';

interface RunOptions {
  set: string[];
  fail: string[];
  reject: string;
  tie?: boolean;
  route: string[];
  signal: string[];
  quiet?: boolean;
}

/**
 * `troupe run <pattern> --set key=value`: runs a pattern with simulated in-process agents on a
 * simulated clock, printing progress, then the timeline of its steps and the total duration.
 */
export function registerRun(program: Command): void {
  program
    .command('run')
    .argument('<pattern>', 'a pattern file, or the name of a built-in pattern')
    .option('--set <key=value>', 'an input value (repeatable)', collect, [])
    .option('--fail <step|type>', 'tasks of this step or task type fail (repeatable)', collect, [])
    .option('--reject <rounds>', 'reviewers reject this many rounds before approving', '0')
    .option('--tie', 'voters disagree, so votes tie')
    .option('--route <branch=route>', 'the route a branch takes: r0, r1, ... or otherwise (repeatable)', collect, [])
    .option('--signal <name@time>', 'send a signal at a simulated time, e.g. approved@30m (repeatable)', collect, [])
    .option('--quiet', 'print only the timeline')
    .action(async (arg: string, opts: RunOptions) => {
      const report = loadForCommand(arg, opts.set, (line) => console.error(line));
      if (!report?.ok || !report.compiled) {
        process.exitCode = 1;
        return;
      }
      const routes = Object.fromEntries(opts.route.map((r) => r.split('=') as [string, string]));
      const signals = opts.signal.map((s) => {
        const [name, at] = s.split('@') as [string, string | undefined];
        return { name, at: at ? durationMs(/^\d+$/.test(at) ? Number(at) : at) : 0 };
      });
      const result = await simulatePattern(report.compiled, {
        fail: opts.fail,
        reject: Number(opts.reject),
        tie: opts.tie ?? false,
        routes,
        signals,
        ...(opts.quiet ? {} : { progress: (line: string) => console.log(line) }),
      });
      for (const line of formatTimeline(result)) console.log(line);
      process.exitCode = result.run.status === 'completed' ? 0 : 1;
    });
}
