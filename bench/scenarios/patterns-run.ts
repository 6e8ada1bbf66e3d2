import { pino } from 'pino';
import { stringify } from 'yaml';
import type { CompiledPattern } from '../../src/features/patterns/compile/compile.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { MemoryStore } from '../../src/engine/store/memory-store.js';
import type { Figure, Scenario } from '../harness.js';

const CHAIN = 300;
const FAN = 1_000;
const ROUNDS = 9;
const WARM_UP = 3;

function runtimeWithAgent(): Promise<Runtime> {
  const runtime = createRuntime({ store: new MemoryStore(), logger: pino({ level: 'silent' }) });
  return runtime.agents
    .register({ id: 'worker', capabilities: ['code'], capacity: 64, handler: () => ({ ok: true }) })
    .then(() => runtime);
}

const chainPattern = stringify({
  name: 'chain',
  steps: Array.from({ length: CHAIN }, (_, i) => ({
    id: `s${i}`,
    needs: i > 0 ? [`s${i - 1}`] : undefined,
    task: { type: 'step', requires: ['code'] },
  })),
});
const fanPattern = stringify({
  name: 'fan',
  steps: [
    { id: 'out', split: { count: FAN, task: { type: 'part', requires: ['code'] } } },
    { id: 'in', join: { from: 'out', then: { type: 'integrate', requires: ['code'] } } },
  ],
});

/** Compiles a pattern once; every measured run applies the same compiled pattern. */
async function compiled(text: string, name: string): Promise<CompiledPattern> {
  const runtime = await runtimeWithAgent();
  runtime.patterns.add(text, `${name}.yaml`);
  const pattern = runtime.patterns.compile(name);
  await runtime.stop();
  return pattern;
}

async function timePattern(pattern: CompiledPattern): Promise<number> {
  const runtime = await runtimeWithAgent();
  const t0 = performance.now();
  const run = await runtime.patterns.apply({ pattern });
  const done = await runtime.patterns.wait(run.id);
  const ms = performance.now() - t0;
  if (done.status !== 'completed') throw new Error(`${pattern.name} ended ${done.status}`);
  await runtime.stop();
  return ms;
}

/** The same chain with the task API: every task created up front, each depending on the one before. */
async function timeDirectChain(): Promise<number> {
  const runtime = await runtimeWithAgent();
  const t0 = performance.now();
  const tasks = Array.from({ length: CHAIN }, (_, i) => ({
    id: `c${i}`,
    type: 'step',
    requires: ['code'],
    dependsOn: i > 0 ? [`c${i - 1}`] : [],
  }));
  await runtime.tasks.createMany(tasks);
  await runtime.tasks.wait(`c${CHAIN - 1}`);
  const ms = performance.now() - t0;
  await runtime.stop();
  return ms;
}

/** The same fan-out and fan-in with the task API: the parts, and a continuation depending on all. */
async function timeDirectFan(): Promise<number> {
  const runtime = await runtimeWithAgent();
  const t0 = performance.now();
  const parts = Array.from({ length: FAN }, (_, i) => ({ id: `p${i}`, type: 'part', requires: ['code'] }));
  await runtime.tasks.createMany([
    ...parts,
    { id: 'integrate', type: 'integrate', requires: ['code'], dependsOn: parts.map((p) => p.id) },
  ]);
  await runtime.tasks.wait('integrate');
  const ms = performance.now() - t0;
  await runtime.stop();
  return ms;
}

/** The chain with the coordination API: a saga runs its steps in order. */
async function timeCoordinationChain(): Promise<number> {
  const runtime = await runtimeWithAgent();
  const t0 = performance.now();
  const saga = await runtime.coordination.saga({
    steps: Array.from({ length: CHAIN }, () => ({ task: { type: 'step', requires: ['code'] } })),
  });
  const done = await runtime.coordination.wait(saga.id);
  const ms = performance.now() - t0;
  if (done.status !== 'completed') throw new Error(`the saga ended ${done.status}`);
  await runtime.stop();
  return ms;
}

/** The fan with the coordination API: a source task, a split of it, a join with a continuation. */
async function timeCoordinationFan(): Promise<number> {
  const runtime = await runtimeWithAgent();
  const t0 = performance.now();
  await runtime.tasks.create({ id: 'source', type: 'plan', requires: ['code'] });
  const split = await runtime.coordination.split({
    sourceTaskId: 'source',
    targets: Array.from({ length: FAN }, () => ({ type: 'part', requires: ['code'] })),
  });
  await runtime.coordination.join({
    id: 'in',
    sources: { split: split.id },
    continuation: { id: 'integrate', type: 'integrate', requires: ['code'] },
  });
  await runtime.tasks.wait('integrate');
  const ms = performance.now() - t0;
  await runtime.stop();
  return ms;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/** Medians of both, measured in alternation so that warm-up and machine load fall on both alike. */
async function compare(a: () => Promise<number>, b: () => Promise<number>): Promise<[number, number]> {
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < WARM_UP + ROUNDS; i++) {
    gc();
    const x = await a();
    gc();
    const y = await b();
    if (i >= WARM_UP) {
      as.push(x);
      bs.push(y);
    }
  }
  return [median(as), median(bs)];
}

/**
 * The cost of running work as a pattern against the same work through the coordination API
 * directly (and, for reference, through the task API alone), with no-op handlers so that the
 * figures are coordination overhead alone: a 300-step sequential chain (a saga in the
 * coordination API) and a 1,000-way fan-out and fan-in (a split and a join).
 */
export const patternsRun: Scenario = {
  name: 'patterns-run',
  description:
    'pattern run vs the same work through the coordination API (and the task API): 300-step chain, 1,000-way fan-out/in',
  async run(): Promise<Figure[]> {
    const chain = await compiled(chainPattern, 'chain');
    const fan = await compiled(fanPattern, 'fan');
    const [chainPatternMs, chainSagaMs] = await compare(() => timePattern(chain), timeCoordinationChain);
    const [, chainTasksMs] = await compare(() => timePattern(chain), timeDirectChain);
    const [fanPatternMs, fanCoordinationMs] = await compare(() => timePattern(fan), timeCoordinationFan);
    const [, fanTasksMs] = await compare(() => timePattern(fan), timeDirectFan);
    const perStep = (ms: number) => (ms / CHAIN) * 1_000;
    const overhead = (pattern: number, base: number) => (pattern / base - 1) * 100;
    return [
      { name: 'chain: pattern, per step', value: perStep(chainPatternMs), unit: 'µs' },
      { name: 'chain: coordination saga, per step', value: perStep(chainSagaMs), unit: 'µs' },
      { name: 'chain: task API, per step', value: perStep(chainTasksMs), unit: 'µs' },
      { name: 'chain: overhead per step vs coordination', value: perStep(chainPatternMs - chainSagaMs), unit: 'µs' },
      {
        name: 'chain: overhead vs coordination',
        value: overhead(chainPatternMs, chainSagaMs),
        unit: '%',
        target: { op: '<=', value: 10 },
      },
      { name: 'chain: overhead vs task API', value: overhead(chainPatternMs, chainTasksMs), unit: '%' },
      { name: 'fan 1,000: pattern', value: fanPatternMs, unit: 'ms' },
      { name: 'fan 1,000: coordination split+join', value: fanCoordinationMs, unit: 'ms' },
      { name: 'fan 1,000: task API', value: fanTasksMs, unit: 'ms' },
      {
        name: 'fan 1,000: overhead vs coordination',
        value: overhead(fanPatternMs, fanCoordinationMs),
        unit: '%',
        target: { op: '<=', value: 10 },
      },
      { name: 'fan 1,000: overhead vs task API', value: overhead(fanPatternMs, fanTasksMs), unit: '%' },
    ];
  },
};
