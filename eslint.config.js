import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The core (src/core: machines, their pure helpers, the stepper) takes time and randomness from
 * its events and does no I/O, so that a machine steps the same way in a test, a replay and
 * production. These globals and modules are what would break that; the layer rules between
 * folders are in .dependency-cruiser.cjs (run by `npm run lint` too).
 */
const CORE_FORBIDDEN_GLOBALS = [
  ['Date', 'time comes from the event (event.at) or the clock the engine injects'],
  ['setTimeout', 'timers are effects the engine schedules (the timer wheel), not calls in the core'],
  ['setInterval', 'timers are effects the engine schedules, not calls in the core'],
  ['setImmediate', 'scheduling belongs to the engine'],
  ['clearTimeout', 'timers are effects the engine schedules'],
  ['clearInterval', 'timers are effects the engine schedules'],
  ['clearImmediate', 'scheduling belongs to the engine'],
  ['queueMicrotask', 'scheduling belongs to the engine'],
  ['performance', 'time comes from the event or the injected clock'],
  ['process', 'the core reads no environment and writes no output'],
  ['fetch', 'the core does no I/O'],
  ['crypto', 'ids and randomness come from the event or the engine'],
  ['require', 'the core imports only the core (and xstate)'],
].map(([name, why]) => ({ name, message: `not in src/core: ${why}.` }));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.troupe/**', 'coverage/**', '.prof/**', '.bench/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The peer benchmarks are plain Node scripts (their own package, bench/peers/package.json).
    files: ['bench/peers/**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        setImmediate: 'readonly',
        performance: 'readonly',
      },
    },
  },
  {
    // The `troupe` bin: plain Node JavaScript, so that it runs before anything is built.
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', ...CORE_FORBIDDEN_GLOBALS],
      'no-restricted-properties': [
        'error',
        {
          object: 'Math',
          property: 'random',
          message: 'not in src/core: randomness comes from the event or the engine.',
        },
        { object: 'globalThis', message: 'not in src/core: reach no host globals.' },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^node:', message: 'not in src/core: the core does no I/O (no Node built-ins).' },
            {
              regex:
                '^(fs|path|os|net|http|https|child_process|worker_threads|crypto|timers|dns|stream|url|events|util)(/|$)',
              message: 'not in src/core: the core does no I/O (no Node built-ins).',
            },
            {
              regex: '^(ws|better-sqlite3|pino|prom-client|commander)$',
              message: 'not in src/core: importing the machines never loads a driver, a server or a logger.',
            },
          ],
        },
      ],
    },
  },
);
