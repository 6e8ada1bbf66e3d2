/**
 * The layers of src/ and the rule that each imports only the ones below it (docs/architecture.md):
 *
 *   core  <  engine  <  features  <  src/runtime.ts (the wiring)  <  edge
 *
 * src/index.ts (the public exports) sits beside the wiring and nothing inside src imports it.
 * Run by `npm run lint`; test/architecture.test.ts checks that these rules do fail on a back
 * arrow, and that no two folders of src/ import each other (directly or round a loop).
 */

/** Paths of each layer, as regular expressions on paths relative to the repository root. */
const CORE = '^src/core/';
const ENGINE = '^src/engine/';
const FEATURES = '^src/features/';
const EDGE = '^src/edge/';
const WIRING = '^src/runtime\\.ts$';
const INDEX = '^src/index\\.ts$';

/** A back arrow: `from` imports something of a layer above it. */
const backArrow = (name, from, above, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { path: above },
});

module.exports = {
  forbidden: [
    backArrow(
      'core-imports-above',
      CORE,
      [ENGINE, FEATURES, EDGE, WIRING, INDEX],
      'core (machines, pure helpers) imports only core',
    ),
    backArrow(
      'engine-imports-above',
      ENGINE,
      [FEATURES, EDGE, WIRING, INDEX],
      'the engine imports only core and itself',
    ),
    backArrow(
      'features-import-above',
      FEATURES,
      [EDGE, WIRING, INDEX],
      'features reach the engine through interfaces they define, never the wiring above them',
    ),
    backArrow(
      'wiring-imports-edge',
      WIRING,
      [EDGE, INDEX],
      'createRuntime wires engine and features; the edge takes a runtime, not the other way round',
    ),
    backArrow(
      'edge-imports-index',
      EDGE,
      [INDEX],
      'src/index.ts is for users of the package; inside src import the module itself',
    ),
    {
      name: 'core-loads-io',
      comment: 'importing the machines never loads Node built-ins, ws or a database driver: core is pure',
      severity: 'error',
      from: { path: CORE },
      to: {
        dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'],
        pathNot: '^node_modules/(xstate)/',
      },
    },
    {
      name: 'src-imports-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-module-cycle',
      comment:
        'two modules that import each other (type imports too) are one concept or need an interface between them',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a type that points up is a back arrow all the same.
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|\\.bench)/' },
  },
};
