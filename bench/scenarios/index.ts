import type { Scenario } from '../harness.js';
import { coreThroughput } from './core-throughput.js';

/** Every benchmark scenario, in the order `npm run bench` runs them. Add new ones here. */
export const scenarios: Scenario[] = [coreThroughput];
