import { createHash } from 'node:crypto';
import { NonRetryableError } from '../../../core/errors.js';
import type { TaskHandler } from '../../../engine/api/task-handler.js';
import { SimulatedClock } from '../../../engine/clock.js';
import { createRuntime } from '../../../runtime.js';
import { MemoryStore } from '../../../engine/store/memory-store.js';
import { pino } from 'pino';
import type { CompiledPattern } from '../../../features/patterns/compile/compile.js';
import type { StepWork } from '../../../features/patterns/compile/work.js';
import { sampleForRoute } from '../../../features/patterns/compile/route-decision.js';
import { capabilitiesOf } from '../../../features/patterns/run/replay.js';
import type { PatternRunView } from '../../../features/patterns/run/run-view.js';

export interface SimulationOptions {
  /** Steps (qualified ids) or task types whose tasks fail, without retry. */
  fail?: string[];
  /** Review rounds the reviewers reject before they approve. Default 0. */
  reject?: number;
  /** Voters choose differently, so votes tie. */
  tie?: boolean;
  /** The route each branch takes (`r0`, `r1`, ..., `otherwise`), by branch step. Default `r0`. */
  routes?: Record<string, string>;
  /** Signals to send, with the simulated time (ms after the start) to send them at. */
  signals?: Array<{ name: string; at: number }>;
  /** Simulated time after which the simulation gives up on a run that has not ended. Default 7 days. */
  limitMs?: number;
  /** Called with each line of progress. */
  progress?: (line: string) => void;
}

export interface TimelineEntry {
  step: string;
  startedAt: number;
  endedAt: number | null;
  outcome: string;
}

export interface SimulationReport {
  run: PatternRunView;
  timeline: TimelineEntry[];
  /** Simulated time from start to end, in ms. */
  durationMs: number;
  tasks: number;
}

const MINUTE = 60_000;

/** How long a simulated task takes: 5 to 45 minutes, the same for the same task type every time. */
export function simulatedDuration(type: string): number {
  const byte = createHash('sha1').update(type).digest()[0] as number;
  return ((byte % 9) + 1) * 5 * MINUTE;
}

/** `+1h05m` style offsets for the timeline. */
export function clockText(ms: number): string {
  const minutes = Math.round(ms / MINUTE);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `+${h}h${String(m).padStart(2, '0')}m`;
}

/** The work a task of the run belongs to (the longest state id its id starts with). */
function workOfTask(compiled: CompiledPattern, runId: string, taskId: string): StepWork | undefined {
  const rest = taskId.slice(runId.length + 1);
  let best: StepWork | undefined;
  for (const work of compiled.works.values()) {
    if ((rest === work.step || rest.startsWith(`${work.step}/`)) && (!best || work.step.length > best.step.length))
      best = work;
  }
  return best;
}

/** Agents that take simulated time and answer as the options say. */
function simulatedHandler(
  compiled: CompiledPattern,
  runId: string,
  clock: SimulatedClock,
  options: SimulationOptions,
): TaskHandler {
  const branchData = new Map<string, Record<string, unknown>>();
  const lists = new Map<string, unknown>();
  for (const work of compiled.works.values()) {
    if (work.kind === 'branch')
      branchData.set(work.on, {
        ...branchData.get(work.on),
        ...(sampleForRoute(work.rules, options.routes?.[work.step] ?? 'r0') ?? {}),
      });
    if (work.kind === 'split' && work.over)
      lists.set(
        work.over.from,
        work.over.path ? { [work.over.path]: ['item_a', 'item_b', 'item_c'] } : ['item_a', 'item_b', 'item_c'],
      );
  }
  return async (task, ctx) => {
    await new Promise<void>((resolve, reject) => {
      const handle = clock.schedule(simulatedDuration(task.type), resolve);
      ctx.signal.addEventListener('abort', () => {
        clock.clear(handle);
        reject(ctx.signal.reason as Error);
      });
    });
    const work = workOfTask(compiled, runId, task.id);
    if (options.fail?.some((f) => f === task.type || f === work?.step))
      throw new NonRetryableError(`simulated failure of ${task.type}`);
    if (work?.kind === 'review') {
      const round = Number(/\/r(\d+)\/\d+$/.exec(task.id)?.[1] ?? 1);
      return round > (options.reject ?? 0)
        ? { approved: true }
        : { approved: false, feedback: `round ${round}: not yet (${task.type})` };
    }
    if (work?.kind === 'vote') {
      const choice = options.tie ? `option ${task.id.split('/').pop()}` : 'option A';
      return work.field ? { [work.field]: choice } : choice;
    }
    if (work?.kind === 'stage') for (const a of work.produces) ctx.artifact(a, `${a} from ${task.type}`);
    const step = work?.kind === 'review_work' ? work.review : work?.step;
    const list = step ? lists.get(step) : undefined;
    if (list !== undefined) return list;
    return { ok: true, type: task.type, ...(step ? branchData.get(step) : {}) };
  };
}

/**
 * Runs a compiled pattern with simulated in-process agents on a simulated clock: each task takes
 * a few simulated minutes, reviewers, voters and branches answer as the options say. Returns the
 * run, a timeline of its steps and the total simulated duration.
 *
 * @example
 * ```ts
 * const report = await simulatePattern(compiled, { reject: 1, progress: console.log });
 * console.log(report.run.status, clockText(report.durationMs));
 * ```
 */
export async function simulatePattern(
  compiled: CompiledPattern,
  options: SimulationOptions = {},
): Promise<SimulationReport> {
  const clock = new SimulatedClock(0);
  const runtime = createRuntime({
    clock,
    store: new MemoryStore(),
    logger: pino({ level: 'silent' }),
    heartbeatIntervalMs: 10 * MINUTE,
    staleAfterMs: 365 * 24 * 60 * MINUTE,
  });
  const runId = 'sim';
  const timeline = new Map<string, TimelineEntry>();
  let tasks = 0;
  const open = (step: string, at: number) => {
    if (!timeline.has(step)) timeline.set(step, { step, startedAt: at, endedAt: null, outcome: 'running' });
  };
  const close = (step: string, at: number, outcome: string) => {
    const entry = timeline.get(step);
    if (entry && entry.endedAt === null) Object.assign(entry, { endedAt: at, outcome });
  };
  runtime.events.subscribe(
    { types: ['pattern.*', 'task.completed', 'task.dead_lettered', 'task.cancelled', 'task.assigned'] },
    (e) => {
      const step = typeof e.data.step === 'string' ? e.data.step : null;
      const ended = /^pattern\.step\.(completed|failed|timed_out)$/.exec(e.type);
      if (e.type === 'pattern.step.started' && step) open(step, e.at);
      else if (ended && step) close(step, e.at, ended[1] as string);
      else if (e.type === 'pattern.route.chosen' && step) close(step, e.at, `route ${String(e.data.route)}`);
      else if (e.type === 'pattern.vote.tied' && step) close(step, e.at, 'tied');
      else if (e.type === 'pattern.review.exhausted' && step) close(step, e.at, 'rounds exhausted');
      else if (e.type === 'pattern.step.started' || e.type.startsWith('task.')) {
        // Compensations are states of their own: shown from their task's life.
        const work = e.taskId ? workOfTask(compiled, runId, e.taskId) : undefined;
        if (work?.kind === 'compensate') {
          if (e.type === 'task.assigned') open(work.step, e.at);
          else close(work.step, e.at, e.type.slice('task.'.length));
        }
      }
      if (e.type === 'task.assigned') tasks += 1;
      const what = e.taskId ? `${e.taskId.slice(runId.length + 1)}` : (step ?? '');
      options.progress?.(`${clockText(e.at).padStart(8)}  ${e.type.padEnd(26)} ${what}`);
    },
  );
  await runtime.agents.register({
    id: 'simulated',
    capabilities: capabilitiesOf(compiled),
    capacity: 1_000,
    handler: simulatedHandler(compiled, runId, clock, options),
  });
  await runtime.patterns.apply({ pattern: compiled, runId });
  const signals = [...(options.signals ?? [])].sort((a, b) => a.at - b.at);
  const limit = options.limitMs ?? 7 * 24 * 60 * MINUTE;
  let view = await runtime.patterns.get(runId);
  while ((view.status === 'running' || view.status === 'pending') && clock.now() < limit) {
    await clock.advance(MINUTE);
    while (signals[0] && signals[0].at <= clock.now())
      await runtime.patterns.signal(runId, signals.shift()!.name).catch(() => undefined);
    view = await runtime.patterns.get(runId);
  }
  await runtime.stop();
  const entries = [...timeline.values()]
    .sort((a, b) => a.startedAt - b.startedAt)
    .map((t) =>
      t.endedAt === null && view.settledAt !== null ? { ...t, endedAt: view.settledAt, outcome: view.status } : t,
    );
  return { run: view, timeline: entries, durationMs: (view.settledAt ?? clock.now()) - view.startedAt, tasks };
}

/**
 * The timeline as lines of text.
 *
 * @example
 * ```ts
 * for (const line of formatTimeline(await simulatePattern(compiled))) console.log(line);
 * ```
 */
export function formatTimeline(report: SimulationReport): string[] {
  const width = Math.max(4, ...report.timeline.map((t) => t.step.length));
  const lines = report.timeline.map((t) => {
    const took = t.endedAt === null ? '' : clockText(t.endedAt - t.startedAt).slice(1);
    return `  ${t.step.padEnd(width)}  ${clockText(t.startedAt).padStart(7)} → ${(t.endedAt === null ? '...' : clockText(t.endedAt)).padStart(7)}  ${took.padStart(6)}  ${t.outcome}`;
  });
  const failure = report.run.failure
    ? ` (${report.run.failure.step}: ${report.run.failure.reason.replaceAll('\n', '; ')})`
    : '';
  return [
    'timeline',
    ...lines,
    `total ${clockText(report.durationMs).slice(1)} simulated, ${report.tasks} task attempts, ended ${report.run.status}${failure}`,
  ];
}
