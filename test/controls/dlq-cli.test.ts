import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerDlq } from '../../src/edge/cli/commands/dlq.js';
import { SqliteStore } from '../../src/engine/store/sqlite-store.js';
import { createRuntime } from '../../src/index.js';
import { runInProcess } from '../support/cli-in-process.js';

/** Runs one `troupe` command in this process: what it printed and its exit status. */
const troupe = (...args: string[]) => runInProcess([registerDlq], args);

describe('troupe dlq ls | redrive', () => {
  let dir: string;
  let db: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-dlq-'));
    db = join(dir, 'troupe.db');
    // A database with two dead letters of different types, as a server would have left it.
    const runtime = createRuntime({ store: new SqliteStore({ path: db }), logger: pino({ level: 'silent' }) });
    await runtime.agents.register({
      id: 'a',
      handler: () => {
        throw new Error('provider down');
      },
    });
    await runtime.tasks.createMany([
      { id: 'sum-1', type: 'summarize', retry: { maxAttempts: 1 } },
      { id: 'emb-1', type: 'embed', retry: { maxAttempts: 1 } },
    ]);
    await runtime.tasks.wait('emb-1');
    await runtime.tasks.wait('sum-1');
    await runtime.stop();
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('lists dead letters with filters, as lines or JSON', async () => {
    const all = await troupe('dlq', 'ls', '--db', db);
    expect(all.status).toBe(0);
    expect(
      all.out
        .split('\n')
        .map((l) => l.split('\t').slice(0, 2).join(' '))
        .sort(),
    ).toEqual(['emb-1 embed', 'sum-1 summarize']);
    expect(all.out).toContain('transient E_TASK_FAILED: provider down');
    const json = await troupe('dlq', 'ls', '--db', db, '--type', 'embed', '--json');
    expect((JSON.parse(json.out) as Array<{ id: string }>).map((d) => d.id)).toEqual(['emb-1']);
  });

  it('redrives by filter with a new input and budget; refuses to redrive everything unasked', async () => {
    expect((await troupe('dlq', 'redrive', '--db', db)).status).toBe(1);
    const r = await troupe(
      'dlq',
      'redrive',
      '--db',
      db,
      '--type',
      'summarize',
      '--input',
      '{"retry":true}',
      '--max-attempts',
      '4',
      '--reason',
      'provider back',
    );
    expect(r.status).toBe(0);
    expect(r.out).toBe('sum-1\tqueued');
    const left = await troupe('dlq', 'ls', '--db', db, '--json');
    expect((JSON.parse(left.out) as Array<{ id: string }>).map((d) => d.id)).toEqual(['emb-1']);
    // The next process runs it with the new input; its history holds the redrive.
    const runtime = createRuntime({ store: new SqliteStore({ path: db }), logger: pino({ level: 'silent' }) });
    await runtime.agents.register({ id: 'b', handler: (task) => task.input });
    const done = await runtime.tasks.wait('sum-1');
    expect([done.status, done.result, done.maxAttempts, done.redrives[0]?.reason]).toEqual([
      'succeeded',
      { retry: true },
      4,
      'provider back',
    ]);
    await runtime.stop();
  });
});
