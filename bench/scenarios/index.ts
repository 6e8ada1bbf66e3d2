import type { Scenario } from '../harness.js';
import { controlsCost } from './controls-cost.js';
import { coreThroughput } from './core-throughput.js';
import { patternsCompile } from './patterns-compile.js';
import { patternsRun } from './patterns-run.js';
import { retentionSoak } from './retention-soak.js';
import { postgresCluster } from './postgres-cluster.js';
import { postgresShards } from './postgres-shards.js';
import { splitJoin } from './split-join.js';
import { sqliteHeapCurve } from './sqlite-heap-curve.js';
import { sqliteRestart } from './sqlite-restart.js';
import { sqliteThroughput } from './sqlite-throughput.js';
import { tracingCost } from './tracing-cost.js';
import { wsDispatch } from './ws-dispatch.js';
import { wsPostgres } from './ws-postgres.js';
import { wsSqlite } from './ws-sqlite.js';

/** Every benchmark scenario, in the order `npm run bench` runs them. Add new ones here. */
export const scenarios: Scenario[] = [
  wsSqlite,
  coreThroughput,
  splitJoin,
  sqliteThroughput,
  sqliteHeapCurve,
  sqliteRestart,
  wsDispatch,
  patternsCompile,
  patternsRun,
  tracingCost,
  controlsCost,
  postgresCluster,
  postgresShards,
  wsPostgres,
  retentionSoak,
];
