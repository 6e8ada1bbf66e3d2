import { Command } from 'commander';
import { formatTable, writeJsonLines, type Figure, type Scenario } from './harness.js';
import { scenarios } from './scenarios/index.js';

/**
 * `npm run bench [-- --only <name>] [-- --json <file>]`: runs the benchmark scenarios (never
 * part of `npm test`), prints a table and optionally appends each figure as a JSON line.
 */
const program = new Command()
  .name('bench')
  .option('--only <name>', 'run one scenario (see --list)')
  .option('--json <file>', 'append each figure as {"scenario","name","value","unit"} JSON lines to this file')
  .option('--list', 'list the scenarios and exit')
  .parse(process.argv);

const opts = program.opts<{ only?: string; json?: string; list?: boolean }>();
if (opts.list) {
  for (const s of scenarios) console.log(`${s.name.padEnd(28)} ${s.description}`);
  process.exit(0);
}
const chosen: Scenario[] = opts.only ? scenarios.filter((s) => s.name === opts.only) : scenarios;
if (chosen.length === 0) {
  console.error(`no scenario named "${opts.only}"; try --list`);
  process.exit(2);
}
const rows: Array<{ scenario: string; figure: Figure }> = [];
for (const scenario of chosen) {
  process.stderr.write(`running ${scenario.name}...\n`);
  const figures = await scenario.run();
  for (const figure of figures) rows.push({ scenario: scenario.name, figure });
  if (opts.json) writeJsonLines(opts.json, scenario.name, figures);
}
console.log(formatTable(rows));
