import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskHandler } from '../src/engine/api/task-handler.js';
import { checkPatternText } from '../src/features/patterns/check-pattern.js';
import { PatternLibrary } from '../src/features/patterns/load/library.js';
import {
  compileDefinition,
  definitionIdOf,
  PATTERN_DEFINITION_KIND,
  PatternDefinitions,
  type PatternDefinition,
} from '../src/features/patterns/run/definitions.js';
import { patternKindOf, RegisteredPatterns } from '../src/features/patterns/run/registered.js';
import type { PatternRunView } from '../src/features/patterns/run/run-view.js';
import { SimulatedClock } from '../src/engine/clock.js';
import { MachineRegistry } from '../src/engine/machine-registry.js';
import { createRuntime, type Runtime } from '../src/runtime.js';
import { MemoryStore } from '../src/engine/store/memory-store.js';
import { SqliteStore } from '../src/engine/store/sqlite-store.js';
import { DelegatingStore } from '../src/engine/store/delegating-store.js';
import type { Store, StoredActor } from '../src/engine/store/store.js';

/**
 * A pattern run left unfinished by a stopped process carries on after a restart without the
 * pattern being added or registered again: each pattern kind's definition (the resolved
 * pattern and the files it uses) is stored with its first run and compiled again on start.
 */

// A pattern that uses another; neither is built in, so a new runtime's library knows neither.
const INNER = `
name: restart_inner
inputs:
  label: { type: string }
steps:
  - id: check
    task: { type: check, input: { label: "\${label}" }, requires: [rare] }
`;
const OUTER = `
name: restart_outer
inputs:
  items: { type: list, items: string }
steps:
  - id: work
    split:
      over: \${items}
      as: item
      task: { type: work, input: { item: "\${item}" }, requires: [rare] }
  - id: done
    join: { from: work }
  - id: merged
    merge: { from: work, strategy: combine }
  - id: verify
    use: restart_inner
    with: { label: checked }
`;
const INPUTS = { items: ['a', 'b', 'c'] };
const RUN = 'r1';

const handler: TaskHandler = (task) => ({ did: task.type, input: task.input });

interface Logged {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
}

function capture(): Logged {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

const problemsOf = (logged: Logged) => logged.lines.filter((l) => (l['level'] as number) >= 40);

const runtimes: Runtime[] = [];

function open(store: Store, clock: SimulatedClock, logger: Logger = pino({ level: 'silent' })): Runtime {
  const runtime = createRuntime({
    store,
    clock,
    logger,
    heartbeatIntervalMs: 3_600_000,
    staleAfterMs: 1_000 * 3_600_000,
  });
  runtimes.push(runtime);
  return runtime;
}

function addPatterns(runtime: Runtime): void {
  expect(runtime.patterns.add(INNER, 'inner.yaml').problems).toEqual([]);
  expect(runtime.patterns.add(OUTER, 'outer.yaml').problems).toEqual([]);
}

/** What a run ends with, without the times; and what each of its tasks ended with. */
async function outcomeOf(runtime: Runtime, view: PatternRunView) {
  const tasks = (await runtime.tasks.list())
    .filter((t) => t.id.startsWith(`${view.id}/`))
    .map((t) => ({ id: t.id, status: t.status, result: t.result, attempt: t.attempt }))
    .sort((a, b) => a.id.localeCompare(b.id));
  return {
    kind: view.kind,
    status: view.status,
    state: view.state,
    results: view.results,
    failure: view.failure,
    rounds: view.rounds,
    tasks,
  };
}

async function definitionsIn(store: Store) {
  return store.listActors({ kind: PATTERN_DEFINITION_KIND });
}

/** The same run, never interrupted: an agent with the capability is there from the start. */
async function uninterrupted() {
  const runtime = open(new MemoryStore(), new SimulatedClock(0));
  addPatterns(runtime);
  await runtime.agents.register({ id: 'agent', capabilities: ['rare'], capacity: 10, handler });
  const run = await runtime.patterns.apply({ pattern: 'restart_outer', inputs: INPUTS, runId: RUN });
  return outcomeOf(runtime, await runtime.patterns.wait(run.id));
}

/** Applies the pattern on a runtime with no agent able to work it, and stops that runtime. */
async function applyAndStop(store: Store, clock: SimulatedClock): Promise<string> {
  const first = open(store, clock);
  addPatterns(first);
  const run = await first.patterns.apply({ pattern: 'restart_outer', inputs: INPUTS, runId: RUN });
  await first.idle();
  const view = await first.patterns.get(RUN);
  expect(view.status).toBe('running');
  expect(view.state).toBe('done');
  expect((await first.tasks.get(`${RUN}/work/0`)).status).toBe('queued');
  await first.stop();
  return run.kind;
}

afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.stop();
});

describe('pattern runs after a restart, without registering the pattern again', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-patterns-restart-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function carriesOn(store: () => Store) {
    const expected = await uninterrupted();
    expect(expected.status).toBe('completed');

    const clock = new SimulatedClock(0);
    const kind = await applyAndStop(store(), clock);
    expect(kind).toBe(expected.kind);

    const logged = capture();
    const second = open(store(), new SimulatedClock(clock.now()), logged.logger);
    // Nothing added, nothing registered: this runtime has never heard of either pattern.
    expect(second.patterns.library.get('restart_outer')).toBeUndefined();
    expect(second.patterns.library.get('restart_inner')).toBeUndefined();
    const report = await second.start();
    expect(report.actors).toBeGreaterThan(0);
    expect(await second.patterns.get(RUN)).toMatchObject({ kind, status: 'running', state: 'done' });

    await second.agents.register({ id: 'agent', capabilities: ['rare'], capacity: 10, handler });
    const done = await second.patterns.wait(RUN);
    expect(await outcomeOf(second, done)).toEqual(expected);
    expect(problemsOf(logged)).toEqual([]);
    expect((await definitionsIn(second.store)).map((d) => d.id)).toEqual([definitionIdOf(kind)]);
  }

  it('SQLite: a new runtime on the same file restores the run and it completes as an uninterrupted run does', async () => {
    const path = join(dir, 'troupe.db');
    await carriesOn(() => new SqliteStore({ path }));
  });

  it('memory: a store reused by a second runtime in the same process does the same', async () => {
    const store = new MemoryStore();
    await carriesOn(() => store);
  });

  it('restores a built-in pattern run too (its used pattern is stored with it)', async () => {
    const store = new MemoryStore();
    const clock = new SimulatedClock(0);
    const first = open(store, clock);
    // No agent at all: the run waits at its first increment.
    const run = await first.patterns.apply({
      pattern: 'incremental_with_validation',
      inputs: { first: 'users', rounds: 1 },
      runId: 'inc',
    });
    await first.idle();
    expect((await first.patterns.get('inc')).status).toBe('running');
    await first.stop();
    const [definition] = await definitionsIn(store);
    expect((definition?.context as PatternDefinition).uses.map((u) => u.name)).toEqual(['primary_with_reviewers']);

    const second = open(store, new SimulatedClock(clock.now()));
    await second.start();
    await second.agents.register({
      id: 'agent',
      capabilities: ['python', 'architecture', 'testing'],
      capacity: 10,
      handler: (t) => (t.type.endsWith('review') ? { approved: true } : { ok: true }),
    });
    expect(await second.patterns.wait('inc')).toMatchObject({ kind: run.kind, status: 'completed' });
  });
});

describe('pattern definitions', () => {
  it('are stored once per pattern kind: two runs of the same pattern and inputs share one', async () => {
    const store = new MemoryStore();
    const runtime = open(store, new SimulatedClock(0));
    addPatterns(runtime);
    const one = await runtime.patterns.apply({ pattern: 'restart_outer', inputs: INPUTS, runId: 'one' });
    const two = await runtime.patterns.apply({ pattern: 'restart_outer', inputs: INPUTS, runId: 'two' });
    expect(two.kind).toBe(one.kind);
    await runtime.idle();
    const stored = await definitionsIn(store);
    expect(stored.map((d) => d.id)).toEqual([definitionIdOf(one.kind)]);
    expect(stored[0]).toMatchObject({
      settled: true,
      ticketId: null,
      context: { kind: one.kind, pattern: { name: 'restart_outer' } },
    });
    expect((stored[0]?.context as PatternDefinition).uses.map((u) => u.name)).toEqual(['restart_inner']);
    // Other inputs make another kind, with its own definition.
    const other = await runtime.patterns.apply({ pattern: 'restart_outer', inputs: { items: ['x'] }, runId: 'three' });
    expect(other.kind).not.toBe(one.kind);
    await runtime.idle();
    expect((await definitionsIn(store)).map((d) => d.id).sort()).toEqual(
      [definitionIdOf(one.kind), definitionIdOf(other.kind)].sort(),
    );
  });

  it('commit with the run that first uses them: the run is never stored without its definition', async () => {
    const store = new MemoryStore();
    const runtime = open(store, new SimulatedClock(0));
    addPatterns(runtime);
    const commits: string[][] = [];
    const commit = store.commit.bind(store);
    store.commit = (batch) => {
      commits.push(batch.actors.map((a) => a.kind));
      return commit(batch);
    };
    const run = await runtime.patterns.apply({ pattern: 'restart_outer', inputs: INPUTS, runId: 'one' });
    const firstWithRun = commits.findIndex((kinds) => kinds.includes(run.kind));
    const firstWithDefinition = commits.findIndex((kinds) => kinds.includes(PATTERN_DEFINITION_KIND));
    expect(firstWithRun).toBeGreaterThanOrEqual(0);
    expect(firstWithDefinition).toBeGreaterThanOrEqual(0);
    expect(firstWithDefinition).toBeLessThanOrEqual(firstWithRun);
  });

  it('storing a definition that is already stored is a harmless no-op', async () => {
    const store = new MemoryStore();
    const logged = capture();
    const runtime = open(store, new SimulatedClock(0), logged.logger);
    addPatterns(runtime);
    const run = await runtime.patterns.apply({ pattern: 'restart_outer', inputs: INPUTS, runId: 'one' });
    await runtime.idle();
    const before = await store.getActor(definitionIdOf(run.kind));
    // A second keeper that has not read the store (another process on it) stores it again.
    const compiled = runtime.patterns.compile('restart_outer', INPUTS);
    const again = new PatternDefinitions({
      host: runtime.core.host,
      store,
      registered: new RegisteredPatterns(new MachineRegistry()),
      logger: logged.logger,
    });
    await again.store(run.kind, compiled, runtime.patterns.library);
    await runtime.idle();
    expect(await store.getActor(definitionIdOf(run.kind))).toEqual(before);
    expect(await definitionsIn(store)).toHaveLength(1);
    expect(problemsOf(logged)).toEqual([]);
  });

  it('explicit register before start still works, and gives the stored kind', async () => {
    const store = new MemoryStore();
    const expected = await uninterrupted();
    const clock = new SimulatedClock(0);
    const kind = await applyAndStop(store, clock);
    const logged = capture();
    const second = open(store, new SimulatedClock(clock.now()), logged.logger);
    addPatterns(second);
    expect(second.patterns.register('restart_outer', INPUTS)).toBe(kind);
    await second.start();
    await second.agents.register({ id: 'agent', capabilities: ['rare'], capacity: 10, handler });
    expect(await outcomeOf(second, await second.patterns.wait(RUN))).toEqual(expected);
    expect(problemsOf(logged)).toEqual([]);
    expect(await definitionsIn(store)).toHaveLength(1);
  });

  it('compile back to the same kind for every built-in pattern with its default inputs', () => {
    const library = PatternLibrary.builtIn();
    const names = [...library.names()].sort();
    expect(names.length).toBeGreaterThanOrEqual(14);
    const runtime = open(new MemoryStore(), new SimulatedClock(0));
    for (const name of names) {
      const compiled = runtime.patterns.compile(name);
      const kind = patternKindOf(compiled);
      const stored = JSON.parse(JSON.stringify({ kind, pattern: compiled.pattern, uses: [] })) as PatternDefinition;
      for (const used of new Set(compiled.pattern.steps.flatMap((s) => ('use' in s ? [s.use] : [])))) {
        const source = library.get(used);
        stored.uses.push({ name: used, file: source?.file ?? '', text: source?.text ?? '' });
      }
      expect(patternKindOf(compileDefinition(stored)), name).toBe(kind);
    }
  });

  it('a pattern compiled with another library than the runtime has is not stored, and says so', async () => {
    const store = new MemoryStore();
    const logged = capture();
    const runtime = open(store, new SimulatedClock(0), logged.logger);
    // Compiled where restart_inner exists; the runtime's library has no restart_inner.
    const library = PatternLibrary.builtIn();
    library.add(INNER, 'inner.yaml');
    const report = checkPatternText(OUTER, 'outer.yaml', { library, values: INPUTS, requireInputs: true });
    expect(report.problems).toEqual([]);
    const run = await runtime.patterns.apply({ pattern: report.compiled!, runId: 'elsewhere' });
    await runtime.idle();
    expect((await runtime.patterns.get(run.id)).status).toBe('running');
    expect(await definitionsIn(store)).toEqual([]);
    expect(problemsOf(logged).map((l) => l['kind'])).toEqual([run.kind]);
  });

  it('a store that cannot read the definitions stops the start with E_STORE', async () => {
    const store = new MemoryStore();
    const clock = new SimulatedClock(0);
    await applyAndStop(store, clock);
    class Unreadable extends DelegatingStore {
      override async getActors(ids: readonly string[]): Promise<Map<string, StoredActor>> {
        if (ids.some((id) => id.startsWith('pattern-def:'))) throw new Error('read error');
        return super.getActors(ids);
      }
    }
    const second = open(new Unreadable(store), new SimulatedClock(clock.now()));
    await expect(second.start()).rejects.toMatchObject({
      code: 'E_STORE',
      message: expect.stringContaining('pattern definitions'),
    });
  });

  it('a run whose kind has no definition still fails the start with a message that says what to do', async () => {
    const store = new MemoryStore();
    const clock = new SimulatedClock(0);
    const kind = await applyAndStop(store, clock);
    // As stored by a version that kept no definitions (a row cannot change kind: the store refuses it).
    const [definition] = await definitionsIn(store);
    expect(definition?.id).toBe(definitionIdOf(kind));
    class NoDefinitions extends DelegatingStore {
      override async getActors(ids: readonly string[]): Promise<Map<string, StoredActor>> {
        return super.getActors(ids.filter((id) => !id.startsWith('pattern-def:')));
      }
      override async getActor(id: string): Promise<StoredActor | undefined> {
        return id.startsWith('pattern-def:') ? undefined : super.getActor(id);
      }
    }
    const second = open(new NoDefinitions(store), new SimulatedClock(clock.now()));
    await expect(second.start()).rejects.toMatchObject({
      code: 'E_VERSION_MISMATCH',
      message: expect.stringContaining('runtime.patterns.register'),
    });
  });
});
