import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkArchitecture } from '../scripts/check-architecture.js';

// `npm run lint` runs the same check on src/; these small trees break one rule each on purpose,
// so a rule that stopped matching (a renamed folder, a changed regex) fails here.
const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'troupe-arch-'));
  roots.push(root);
  const compilerOptions = {
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    verbatimModuleSyntax: true,
  };
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['src'] }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('architecture check', () => {
  it('fails on a back arrow from the core to the engine', async () => {
    const root = tree({
      'src/core/task-machine.ts': "import { now } from '../engine/clock.js';\nexport const at = now();\n",
      'src/engine/clock.ts': 'export const now = (): number => 0;\n',
    });
    const report = await checkArchitecture(root);
    expect(report.ruleViolations).toBe(1);
    expect(report.ruleReport).toContain('core-imports-above: src/core/task-machine.ts → src/engine/clock.ts');
  });

  it('counts a type-only import of the wiring from a feature as a back arrow', async () => {
    const root = tree({
      'src/features/patterns/pattern-api.ts':
        "import type { Runtime } from '../../runtime.js';\nexport type R = Runtime;\n",
      'src/runtime.ts': 'export interface Runtime { start(): void }\n',
    });
    const report = await checkArchitecture(root);
    expect(report.ruleReport).toContain('features-import-above: src/features/patterns/pattern-api.ts → src/runtime.ts');
  });

  it('fails on the wiring importing the edge', async () => {
    const root = tree({
      'src/runtime.ts': "import { startServer } from './edge/server/server.js';\nexport const listen = startServer;\n",
      'src/edge/server/server.ts': 'export const startServer = (): void => undefined;\n',
    });
    expect((await checkArchitecture(root)).ruleReport).toContain('wiring-imports-edge');
  });

  it('fails on a Node built-in in the core', async () => {
    const root = tree({
      'src/core/reader.ts': "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n",
    });
    expect((await checkArchitecture(root)).ruleReport).toContain('core-loads-io: src/core/reader.ts → fs');
  });

  it('fails on two modules that import each other', async () => {
    const root = tree({
      'src/features/run/start-step.ts':
        "import type { Ref } from './coordinated-steps.js';\nexport interface Step { ref: Ref }\n",
      'src/features/run/coordinated-steps.ts':
        "import type { Step } from './start-step.js';\nexport interface Ref { step?: Step }\n",
    });
    expect((await checkArchitecture(root)).ruleReport).toContain('no-module-cycle');
  });

  it('finds a cycle between a folder and its subfolder that no module cycle shows', async () => {
    const root = tree({
      'src/engine/agents.ts': "import type { View } from './api/views.js';\nexport type Seen = View;\n",
      'src/engine/api/views.ts': 'export interface View { id: string }\n',
      'src/engine/api/agent-api.ts': "import { heartbeat } from '../host.js';\nexport const beat = heartbeat;\n",
      'src/engine/host.ts': 'export const heartbeat = 1;\n',
    });
    const report = await checkArchitecture(root);
    expect(report.ruleViolations).toBe(0);
    expect(report.folderCycles).toEqual([
      [
        'src/engine <-> src/engine/api',
        '  src/engine/agents.ts -> src/engine/api/views.ts',
        '  src/engine/api/agent-api.ts -> src/engine/host.ts',
      ],
    ]);
  });

  it('passes a tree whose folders point one way', async () => {
    const root = tree({
      'src/core/machine.ts': "import { setup } from 'xstate';\nexport const s = setup;\n",
      'src/engine/host.ts': "import { s } from '../core/machine.js';\nexport const h = s;\n",
      'src/runtime.ts': "import { h } from './engine/host.js';\nexport const r = h;\n",
      'src/edge/server/server.ts': "import { r } from '../../runtime.js';\nexport const x = r;\n",
    });
    expect(await checkArchitecture(root)).toEqual({ ruleReport: '', ruleViolations: 0, folderCycles: [] });
  });
});
