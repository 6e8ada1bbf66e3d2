import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecoveryReport } from '../src/index.js';
import { SqliteStore } from '../src/engine/store/sqlite-store.js';
import { checkHistory, readOutcome, type Outcome } from './fixtures/durability/outcome.js';
import { CRASH_SHAPE, taskCount } from './fixtures/durability/workflow.js';

/**
 * Kill -9 at random moments. The runtime runs in a child process (`fixtures/crash-worker.ts`) on
 * a SQLite file, with in-process agents (agents over WebSocket are tested apart, in the server's
 * own suites). The workflow: a ticket whose first phase splits into 8 x 125 children and joins
 * them again (1,018 tasks, some failing their first attempt, some outlasting their finish
 * deadline), a second phase reading the first one's output, and one more task created once the
 * source succeeded. A run that is never killed gives the reference results; then the same
 * workflow runs on a new file and is SIGKILLed 12 times at moments drawn from a seeded PRNG
 * (after the k-th completion it reported, or a few ms after it started), restarting on the same
 * file each time.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKER = fileURLToPath(new URL('./fixtures/crash-worker.ts', import.meta.url));
/** Fixed, so every run of the suite kills at the same moments; override to explore others. */
const SEED = Number(process.env.TROUPE_CRASH_SEED ?? 0x5eed_c0de);
const KILLS = 12;
/** A child that has not finished (or been killed) by then has hung. */
const CHILD_LIMIT_MS = 45_000;

/**
 * How a child is started. The worker is bundled once with esbuild (the transformer tsx itself
 * uses; its packages stay external, so the bundle sits under node_modules/.cache to resolve them):
 * a child then starts in about 0.4 s instead of 1.2 s under `node --import tsx`, which matters
 * for 14 children on a loaded machine. Without esbuild, or with TROUPE_CRASH_TSX=1, tsx it is.
 */
async function workerCommand(): Promise<{ args: string[]; cleanup: () => Promise<void> }> {
  const tsx = { args: ['--import', 'tsx', WORKER], cleanup: async () => {} };
  if (process.env.TROUPE_CRASH_TSX) return tsx;
  const outfile = join(ROOT, 'node_modules', '.cache', 'troupe-durability', `crash-worker-${process.pid}.mjs`);
  try {
    const esbuild = await import('esbuild');
    await esbuild.build({
      entryPoints: [WORKER],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'silent',
    });
    return { args: [outfile], cleanup: () => rm(outfile, { force: true }) };
  } catch {
    return tsx;
  }
}

let command: { args: string[]; cleanup: () => Promise<void> };

/** mulberry32: a small seeded PRNG, so that the kill moments are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type KillPlan = { after: 'completed'; count: number } | { after: 'start'; delayMs: number };

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  killed: boolean;
  /** Killed because it ran past CHILD_LIMIT_MS. */
  hung: boolean;
  report: RecoveryReport | undefined;
  /** Tasks the child said were completed (each line is written after its commit). */
  completed: string[];
  done: string | undefined;
  /** The pino lines on stderr, parsed. */
  logs: Array<Record<string, unknown>>;
}

function runChild(db: string, plan?: KillPlan): Promise<ChildRun> {
  const child = spawn(process.execPath, [...command.args, db], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: ChildRun = {
    code: null,
    signal: null,
    killed: false,
    hung: false,
    report: undefined,
    completed: [],
    done: undefined,
    logs: [],
  };
  const kill = () => {
    if (run.killed || child.exitCode !== null) return;
    run.killed = true;
    child.kill('SIGKILL');
  };
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  // Lines still in the pipe after the kill are read too: each one was written after its commit.
  createInterface({ input: child.stdout }).on('line', (line) => {
    const [word, rest = ''] = line.split(/ (.*)/s);
    if (word === 'recovered') {
      run.report = JSON.parse(rest) as RecoveryReport;
      if (plan?.after === 'start' && !run.killed) setTimeout(kill, plan.delayMs);
    } else if (word === 'completed') {
      run.completed.push(rest);
      if (plan?.after === 'completed' && run.completed.length >= plan.count) kill();
    } else if (word === 'done') run.done = rest;
  });
  const limit = setTimeout(() => {
    run.hung = true;
    kill();
  }, CHILD_LIMIT_MS);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      run.code = code;
      run.signal = signal;
      for (const line of stderr.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          run.logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // A line cut by the kill.
        }
      }
      if (!run.killed && code !== 0) process.stderr.write(stderr);
      resolve(run);
    });
  });
}

async function withStore<T>(path: string, read: (store: SqliteStore) => Promise<T>): Promise<T> {
  const store = new SqliteStore({ path, eventRetention: 10_000_000 });
  await store.open();
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

describe('kill -9 at 12 seeded random moments, restart on the same SQLite file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-crash-'));
    command = await workerCommand();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await command.cleanup();
  });

  it('completes the ticket with the results of an uninterrupted run, each recorded once, the history gap-free', async () => {
    const tasks = taskCount(CRASH_SHAPE);
    expect(tasks).toBeGreaterThanOrEqual(1_000);

    // The reference: one run, never killed.
    const referencePath = join(dir, 'reference.db');
    const reference = await runChild(referencePath);
    expect(reference.hung).toBe(false);
    expect(reference.code).toBe(0);
    expect(reference.done).toBe('completed');
    expect(reference.completed).toHaveLength(tasks);
    const baseline: Outcome = await withStore(referencePath, readOutcome);
    expect(baseline.ticket).toMatchObject({ state: 'completed', phases: ['work', 'report'], workResults: tasks - 2 });
    expect(Object.keys(baseline.tasks)).toHaveLength(tasks);
    expect(Object.values(baseline.tasks).every((t) => t.state === 'succeeded')).toBe(true);
    const referenceHistory = await withStore(referencePath, checkHistory);
    expect(referenceHistory.failedAttempts['transient']).toBeGreaterThan(0);
    expect(referenceHistory.failedAttempts['timeout']).toBeGreaterThan(0);

    // The same workflow, killed again and again.
    const path = join(dir, 'crashed.db');
    const random = prng(SEED);
    // Kill points spread over the workflow: sorted random points in its first 90% of completions
    // (the last tenth is left so that a child slow to die cannot finish before its kill; the
    // crash-at-every-commit test covers the end of the ticket).
    const points = Array.from({ length: KILLS }, () => 1 + Math.floor(random() * tasks * 0.9)).sort((a, b) => a - b);
    const runs: ChildRun[] = [];
    const reportedDone = new Set<string>();
    for (let i = 0; i < KILLS; i++) {
      // One kill in four comes a few ms after the start (recovery, creation, agents registering);
      // the others once the completions of all runs reach the next point, during the work.
      const plan: KillPlan =
        i % 4 === 1
          ? { after: 'start', delayMs: Math.floor(random() * 40) }
          : { after: 'completed', count: Math.max(1, (points[i] as number) - reportedDone.size) };
      const run = await runChild(path, plan);
      runs.push(run);
      expect(run.hung, `run ${i + 1} hung`).toBe(false);
      expect(run.killed, `kill ${i + 1} (${JSON.stringify(plan)}) came before the child finished`).toBe(true);
      expect(run.signal).toBe('SIGKILL');
      for (const id of run.completed) reportedDone.add(id);
      // What any child said was completed is in the file, and nothing is missing from the history.
      const { states, history } = await withStore(path, async (store) => ({
        states: await store.getActors([...reportedDone]),
        history: await checkHistory(store),
      }));
      expect(
        [...reportedDone].filter((id) => states.get(id)?.state !== 'succeeded'),
        `after kill ${i + 1}`,
      ).toEqual([]);
      expect(history.gaps, `after kill ${i + 1}`).toEqual([]);
      expect(history.completedNotOnce, `after kill ${i + 1}`).toEqual({});
    }
    const last = await runChild(path);
    runs.push(last);
    expect(last.hung).toBe(false);
    expect(last.code).toBe(0);
    expect(last.done).toBe('completed');

    // The same results as the run that was never killed, each recorded once, no gap.
    const outcome = await withStore(path, readOutcome);
    expect(outcome).toEqual(baseline);
    const history = await withStore(path, checkHistory);
    expect(history.gaps).toEqual([]);
    expect(history.lastSeq).toBe(history.events);
    expect(history.completedNotOnce).toEqual({});
    expect(history.completedEvents).toBe(tasks);
    expect(history.unsettled).toEqual([]);
    // The kills cost attempts: tasks held by the killed processes' agents were handed back.
    expect(history.failedAttempts['agent-lost']).toBeGreaterThan(0);
    // Across all the runs, no task was reported completed twice (a kill may fall between a
    // commit and its line on stdout, so some may not have been reported at all).
    const reportedTimes = new Map<string, number>();
    for (const run of runs) for (const id of run.completed) reportedTimes.set(id, (reportedTimes.get(id) ?? 0) + 1);
    expect([...reportedTimes].filter(([, n]) => n > 1)).toEqual([]);

    if (process.env.TROUPE_CRASH_STATS) {
      const lines = runs.map(
        (r, i) =>
          `run ${i}: ${r.killed ? 'killed' : `exit ${r.code}`}, ${r.completed.length} completed, start() ${JSON.stringify(r.report)}`,
      );
      process.stdout.write(
        `${lines.join('\n')}\nattempts failed: ${JSON.stringify(history.failedAttempts)}, retried tasks ${history.retriedTasks}, events ${history.events}\n`,
      );
    }

    // Every restart logged what it recovered (pino, info), with the counts start() returned.
    for (const [i, run] of runs.entries()) {
      const report = run.report;
      if (report === undefined) continue; // killed before it finished recovering
      const logged = run.logs.filter((l) => l['msg'] === 'recovered unfinished work');
      if (report.actors === 0 && report.timers === 0) {
        expect(logged, `run ${i}`).toEqual([]);
        continue;
      }
      expect(logged, `run ${i}`).toHaveLength(1);
      expect(logged[0], `run ${i}`).toMatchObject({ level: 30, store: `sqlite:${path}`, ...report });
    }
    const restarts = runs.slice(1).filter((r) => r.report !== undefined);
    expect(restarts.filter((r) => r.report!.actors > 0).length).toBeGreaterThanOrEqual(KILLS - 2);
    // The agents of a killed process are marked lost, and the new process registers the same ids.
    expect(restarts.filter((r) => r.report!.lostAgents > 0).length).toBeGreaterThanOrEqual(KILLS / 2);
  }, 180_000);
});
