import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { SimulatedClock } from '../../src/index.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/index.js';
import { SqliteStore } from '../../src/engine/store/sqlite-store.js';

/** A SQLite file in a fresh directory, and runtimes on it that a test can stop and start again. */
export async function sqliteFile(): Promise<{
  open: (clock: SimulatedClock, options?: RuntimeOptions) => Runtime;
  cleanup: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-controls-'));
  const path = join(dir, 'troupe.db');
  const runtimes: Runtime[] = [];
  return {
    open: (clock, options = {}) => {
      const runtime = createRuntime({
        store: new SqliteStore({ path }),
        clock,
        logger: pino({ level: 'silent' }),
        random: () => 0.5,
        ...options,
      });
      runtimes.push(runtime);
      return runtime;
    },
    cleanup: async () => {
      for (const r of runtimes.splice(0)) await r.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An in-process agent that records when each task started (clock ms) and finishes it at once. */
export async function recordingAgent(
  runtime: Runtime,
  clock: SimulatedClock,
  capacity = 100,
  id = 'worker',
): Promise<Array<{ id: string; at: number; input: unknown }>> {
  const starts: Array<{ id: string; at: number; input: unknown }> = [];
  await runtime.agents.register({
    id,
    capacity,
    handler: (task) => {
      starts.push({ id: task.id, at: clock.now(), input: task.input });
      return 'ok';
    },
  });
  return starts;
}
