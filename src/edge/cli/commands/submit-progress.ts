import type { PatternRunView, TaskView, TicketView, TroupeEvent } from '../../client/create-client.js';

/** Where progress goes: a terminal gets one line redrawn with a bar, anything else plain lines. */
export interface ProgressOutput {
  isTTY: boolean;
  columns?: number;
  write(text: string): void;
}

export interface ProgressState {
  /** `phase 2/3 build` for tickets; null for a task or a run. */
  phase: string | null;
  done: number;
  total: number;
  status: string;
}

/** Phases passed and tasks settled out of all, from the ticket as the server shows it. */
export function ticketProgress(t: TicketView): ProgressState {
  const total = t.phases.reduce((n, p) => n + p.tasks.total, 0);
  const done = t.phases.reduce((n, p) => n + p.tasks.total - p.tasks.open, 0);
  const index = t.phases.findIndex((p) => p.name === t.currentPhase);
  const passed = t.phases.filter((p) => p.status === 'passed').length;
  const phase =
    t.currentPhase !== null
      ? `phase ${index + 1}/${t.phases.length} ${t.currentPhase}`
      : `phases ${passed}/${t.phases.length} passed`;
  return { phase, done, total, status: t.status };
}

const bar = (fraction: number, width: number): string => {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
};

/** The text of a state: `phase 2/3 build · tasks 3/5 done`. */
export function describe(state: ProgressState): string {
  return [state.phase, state.total > 0 ? `tasks ${state.done}/${state.total} done` : null, state.status]
    .filter((s) => s !== null)
    .join(' · ');
}

/**
 * Shows how submitted work moves: on a terminal one line redrawn in place with a progress bar;
 * elsewhere (a pipe, a CI log) a plain line each time the text changes, never a bar.
 */
export class ProgressDisplay {
  private last = '';
  private drawn = false;

  constructor(private readonly out: ProgressOutput) {}

  show(state: ProgressState): void {
    const text = describe(state);
    if (this.out.isTTY) {
      const fraction = state.total > 0 ? state.done / state.total : 0;
      const line = `${bar(fraction, 24)} ${Math.round(fraction * 100)}% ${text}`;
      this.out.write(`\r\x1b[2K${line.slice(0, (this.out.columns ?? 100) - 1)}`);
      this.drawn = true;
      return;
    }
    if (text === this.last) return;
    this.last = text;
    this.out.write(`${text}\n`);
  }

  /** Ends the redrawn line, so that what follows starts on a line of its own. */
  finish(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}

/** Counts of a run's (or a lone task's) tasks from the events seen: created and settled. */
export class TaskCounter {
  private readonly created = new Set<string>();
  private readonly settled = new Set<string>();

  see(event: TroupeEvent): void {
    if (event.taskId === null) return;
    if (event.type === 'task.created') this.created.add(event.taskId);
    if (
      event.type === 'task.completed' ||
      event.type === 'task.dead_lettered' ||
      event.type === 'task.cancelled' ||
      event.type === 'task.skipped'
    ) {
      this.created.add(event.taskId);
      this.settled.add(event.taskId);
    }
  }

  state(status: string, phase: string | null = null): ProgressState {
    return { phase, done: this.settled.size, total: this.created.size, status };
  }
}

/** Whether settled work succeeded: the exit status of `submit --wait` follows this. */
export function succeeded(view: TaskView | TicketView | PatternRunView): boolean {
  return view.status === 'succeeded' || view.status === 'completed';
}
