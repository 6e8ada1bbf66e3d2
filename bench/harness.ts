import { appendFileSync } from 'node:fs';

/** One measured figure, as written to the `--json` file (one JSON object per line). */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** A target the figure is checked against, for the printed table. */
  target?: { op: '>=' | '<='; value: number };
  note?: string;
}

export interface Scenario {
  /** Unique name, used by `--only`. */
  name: string;
  description: string;
  run(): Promise<Figure[]>;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export function formatTable(rows: Array<{ scenario: string; figure: Figure }>): string {
  const lines = rows.map(({ scenario, figure }) => {
    const value = Number.isInteger(figure.value) ? String(figure.value) : figure.value.toFixed(3);
    const target = figure.target ? `${figure.target.op} ${figure.target.value}` : '';
    const ok = figure.target
      ? (figure.target.op === '>=' ? figure.value >= figure.target.value : figure.value <= figure.target.value)
        ? 'ok'
        : 'MISS'
      : '';
    return [scenario, figure.name, value, figure.unit, target, ok, figure.note ?? ''];
  });
  const header = ['scenario', 'figure', 'value', 'unit', 'target', '', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n');
}

/** Appends one `{"scenario","name","value","unit"}` JSON line per figure. */
export function writeJsonLines(file: string, scenario: string, figures: Figure[]): void {
  for (const f of figures)
    appendFileSync(file, `${JSON.stringify({ scenario, name: f.name, value: f.value, unit: f.unit })}\n`);
}

/** Resolves once `count` tasks have completed on `runtime` (subscribe before creating them). */
export function completions(
  runtime: { events: { subscribe(filter: { types: string[] }, listener: () => void): unknown } },
  count: number,
): Promise<void> {
  let done = 0;
  return new Promise<void>((resolve) => {
    runtime.events.subscribe({ types: ['task.completed'] }, () => {
      done += 1;
      if (done === count) resolve();
    });
  });
}
