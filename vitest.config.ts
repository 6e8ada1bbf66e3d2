import { defineConfig } from 'vitest/config';

/**
 * Two projects, both run by `npm test`: every suite on the compiled stepper (what production
 * runs), and the runtime suites again with TROUPE_STEPPER=xstate, so that both interpreters of
 * the machines are known to pass the same behaviour (issue 12). The model suites need no second
 * run: they step xstate's algorithm with the compiled stepper in lockstep on every run
 * (test/support/twin-stepper.ts).
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'compiled', include: ['test/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'xstate',
          // Suites that run machines in a runtime: the engine's, and coordination's and patterns'.
          include: [
            'test/runtime/**/*.test.ts',
            'test/coordination-{guard,join,quickstart,recovery,resources,routing,saga,split,sync}.test.ts',
            'test/patterns-{replay,restart,runtime,tickets}.test.ts',
          ],
          env: { TROUPE_STEPPER: 'xstate' },
          isolate: false,
        },
      },
    ],
  },
});
