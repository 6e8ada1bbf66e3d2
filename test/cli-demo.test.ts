import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const cli = resolve('src/edge/cli/main.ts');
// Absolute, so that the child finds tsx from any working directory.
const tsx = import.meta.resolve('tsx');

describe('troupe CLI', () => {
  it('prints help listing its commands', async () => {
    const { stdout } = await run(process.execPath, ['--import', tsx, cli, '--help']);
    expect(stdout).toContain('Usage: troupe');
    expect(stdout).toMatch(/demo\s/);
  });

  it('runs the demo to completion on SQLite and exits 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'troupe-demo-'));
    try {
      const { stdout } = await run(process.execPath, ['--import', tsx, cli, 'demo'], { cwd: dir, timeout: 60_000 });
      expect(stdout).toContain('ticket "Add user roles": completed');
      expect(stdout).toMatch(/task api\s+succeeded\s+attempts=2/);
      expect(stdout).toContain('task.retrying');
      expect(stdout).toContain('store: sqlite:.troupe/demo.db');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
