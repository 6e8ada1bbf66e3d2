/**
 * `npm run bench:peers` (from the project root): BullMQ on Redis with AOF and pg-boss on
 * PostgreSQL, through the same workload as Troupe's `ws-sqlite` scenario, in one run on this
 * machine, and Troupe's figures as ratios against them. Starts its own Redis and PostgreSQL on
 * loopback ports in temp folders and removes them after.
 *
 * Troupe on PostgreSQL (`npm run bench -- --only ws-postgres`) runs on the same PostgreSQL server
 * as pg-boss, right after it, with the same tasks, batches of 1,000 and concurrency 50 (one agent
 * of capacity 50 in another process over WebSocket); its ratio against pg-boss is printed last.
 *
 * Env: PEERS_TASKS (default 20,000), PEERS_SKIP=bullmq,pg-boss,troupe,troupe-pg to leave one out.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runBullmq } from './bullmq-run.mjs';
import { runPgBoss } from './pg-boss-run.mjs';
import { startPostgres, startRedis } from './servers.mjs';

const TASKS = Number(process.env.PEERS_TASKS ?? 20_000);
const skip = new Set((process.env.PEERS_SKIP ?? '').split(',').filter(Boolean));
const root = resolve(import.meta.dirname, '..', '..');
const rows = [];
const row = (system, config, rate, cpuUs, dbUs = '') => rows.push({ system, config, rate, cpuUs, dbUs });

/** Runs Troupe's bench scenarios in a child and returns their figures by name. */
function troupeBench(scenario, env) {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-peers-'));
  const file = join(dir, 'figures.jsonl');
  try {
    execFileSync('npm', ['run', 'bench', '--', '--only', scenario, '--json', file], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, BENCH_TASKS: String(TASKS), ...env },
    });
    const figures = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    return (name) => figures.find((f) => f.name === name)?.value;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!skip.has('bullmq')) {
  const redis = await startRedis();
  try {
    process.stderr.write('running BullMQ...\n');
    await runBullmq({ port: redis.port, tasks: 2_000, concurrency: 50, name: 'warmup' });
    const r = await runBullmq({ port: redis.port, tasks: TASKS, concurrency: 50 });
    row('BullMQ 6.7 + Redis AOF everysec', 'one Worker, concurrency 50, same process', r.rate, r.cpuUs);
  } finally {
    await redis.stop();
  }
}
if (!skip.has('pg-boss')) {
  const pg = await startPostgres();
  try {
    process.stderr.write('running pg-boss...\n');
    const db0 = pg.cpuMs();
    const r = await runPgBoss({ url: pg.url, tasks: TASKS, workers: 10, batchSize: 100 });
    const db1 = pg.cpuMs();
    row(
      'pg-boss 10.4 + PostgreSQL',
      '10 workers x batch 100, same process',
      r.rate,
      r.cpuUs,
      db0 === undefined || db1 === undefined ? '' : Math.round(((db1 - db0) * 1000) / TASKS),
    );
    if (!skip.has('troupe-pg')) {
      process.stderr.write('running Troupe on the same PostgreSQL (npm run bench -- --only ws-postgres)...\n');
      const value = troupeBench('ws-postgres', { BENCH_PG_URL: pg.url, BENCH_PG_DATA: pg.dataDir });
      row(
        'Troupe + PostgreSQL (one node)',
        '1x50 agent over WebSocket, another process',
        value('postgres: throughput 1x50'),
        value('postgres: server CPU per task 1x50'),
        value('postgres: database CPU per task 1x50') ?? '',
      );
    }
  } finally {
    pg.stop();
  }
}
if (!skip.has('troupe')) {
  process.stderr.write('running Troupe (npm run bench -- --only ws-sqlite)...\n');
  const value = troupeBench('ws-sqlite', {});
  for (const shape of ['1x50', '8x64']) {
    row(
      'Troupe + SQLite NORMAL',
      `${shape} agents over WebSocket, another process`,
      value(`sqlite: throughput ${shape}`),
      value(`sqlite: server CPU per task ${shape}`),
    );
  }
}

const bull = rows.find((r) => r.system.startsWith('BullMQ'))?.rate;
const boss = rows.find((r) => r.system.startsWith('pg-boss'))?.rate;
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}x` : '');
console.log(`\n${TASKS} no-op tasks, first create to last completion, one run on this machine:\n`);
console.log(
  '| system | configuration | tasks/s | CPU/task (µs, server process) | PostgreSQL CPU/task (µs) | vs BullMQ | vs pg-boss |',
);
console.log('|---|---|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.system} | ${r.config} | ${r.rate} | ${r.cpuUs} | ${r.dbUs} | ${ratio(r.rate, bull)} | ${ratio(r.rate, boss)} |`,
  );
const troupePg = rows.find((r) => r.system.startsWith('Troupe + PostgreSQL'))?.rate;
if (troupePg && boss)
  console.log(`\nTroupe on PostgreSQL / pg-boss, same server, same run: ${ratio(troupePg, boss)} (target 2x)`);
