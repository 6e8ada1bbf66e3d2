import { afterEach, describe, expect, it } from 'vitest';
import { registerGraph } from '../src/edge/cli/commands/graph.js';
import { registerPaths } from '../src/edge/cli/commands/paths.js';
import { registerRun } from '../src/edge/cli/commands/run.js';
import { registerValidate } from '../src/edge/cli/commands/validate.js';
import { runInProcess } from './support/cli-in-process.js';

/** Runs one `troupe` command in this process: what it printed and its exit status. */
const troupe = (...args: string[]) => runInProcess([registerValidate, registerGraph, registerPaths, registerRun], args);

const BAD = 'test/fixtures/patterns/bad';

afterEach(() => {
  process.exitCode = 0;
});

describe('troupe validate', () => {
  it('passes every built-in pattern with exit status 0', async () => {
    const { out, status } = await troupe('validate', 'patterns/fork_join.yaml', 'patterns/pipeline.yaml');
    expect(status).toBe(0);
    expect(out).toBe('2 files checked: 2 ok, 0 errors, 0 warnings');
  });

  it('prints each problem with file:line:column and path, and exits 1 on any error', async () => {
    const { out, status } = await troupe('validate', 'patterns/fork_join.yaml', `${BAD}/bad-enum.yaml`);
    expect(status).toBe(1);
    expect(out.split('\n')).toEqual([
      `${BAD}/bad-enum.yaml:10:17 error E_BAD_VALUE steps[1].join.strategy: expected one of all, any, majority, k_of_n; got the string "majorty" (did you mean "majority"?)`,
      '2 files checked: 1 ok, 1 error, 0 warnings',
    ]);
  });

  it('checks with input values, warns about capabilities with --agent, and fails on warnings with --strict', async () => {
    const withValue = await troupe('validate', 'patterns/fork_join.yaml', '--set', 'required=5');
    expect(withValue.status).toBe(1);
    expect(withValue.out).toContain('E_JOIN_IMPOSSIBLE');
    const warned = await troupe('validate', 'patterns/parallel_independent.yaml', '--agent', 'python');
    expect(warned.status).toBe(0);
    expect(warned.out).toContain('W_CAPABILITY_UNOFFERED');
    expect(
      (await troupe('validate', 'patterns/parallel_independent.yaml', '--agent', 'python', '--strict')).status,
    ).toBe(1);
  });

  it('prints JSON reports with --json', async () => {
    const { out } = await troupe('validate', `${BAD}/unknown-step.yaml`, '--json');
    const reports = JSON.parse(out) as Array<{
      ok: boolean;
      problems: Array<{ code: string; line: number; column: number; path: string }>;
    }>;
    expect(reports[0]).toMatchObject({
      ok: false,
      problems: [{ code: 'E_UNKNOWN_STEP', line: 9, column: 14, path: 'steps[1].join.from[0]' }],
    });
  });

  it('reports a missing file as missing (not as a YAML error), with the nearest built-in name', async () => {
    const { out, status } = await troupe('validate', 'no/such/file.yaml', 'fork_joins');
    expect(status).toBe(1);
    expect(out.split('\n')).toEqual([
      'no/such/file.yaml error E_FILE_NOT_FOUND no file has this path and no built-in pattern this name',
      'fork_joins error E_FILE_NOT_FOUND no file has this path and no built-in pattern this name (did you mean "fork_join"?)',
      '2 files checked: 0 ok, 2 errors, 0 warnings',
    ]);
  });

  it('reports a path it cannot read as unreadable', async () => {
    const { out, status } = await troupe('validate', 'patterns');
    expect(status).toBe(1);
    expect(out).toMatch(/^patterns error E_FILE_UNREADABLE cannot read the file: /);
  });

  it('takes built-in pattern names as graph, paths and run do', async () => {
    const { out, status } = await troupe('validate', 'fork_join', 'pipeline');
    expect(status).toBe(0);
    expect(out).toBe('2 files checked: 2 ok, 0 errors, 0 warnings');
    const json = JSON.parse((await troupe('validate', 'fork_join', '--json')).out) as Array<{
      file: string;
      ok: boolean;
    }>;
    expect(json).toEqual([{ file: 'patterns/fork_join.yaml', ok: true, problems: [] }]);
  });
});

describe('troupe graph', () => {
  it.each(['mermaid', 'dot', 'json'])('draws a built-in pattern by name as %s', async (format) => {
    const { out, status } = await troupe('graph', 'fork_join', '--format', format);
    expect(status).toBe(0);
    expect(out).toContain('checkpoint');
  });

  it('refuses an unknown format and an unknown pattern (with a suggestion)', async () => {
    expect((await troupe('graph', 'fork_join', '--format', 'png')).status).toBe(2);
    const unknown = await troupe('graph', 'fork_joins');
    expect(unknown.status).toBe(1);
    expect(unknown.err).toContain('did you mean "fork_join"?');
  });

  it('does not draw a pattern with errors', async () => {
    const { err, status } = await troupe('graph', `${BAD}/wait-no-exit.yaml`);
    expect(status).toBe(1);
    expect(err).toContain('E_WAIT_NO_EXIT');
  });
});

describe('troupe paths', () => {
  it('prints the test paths readably, and as JSON with --json', async () => {
    const text = await troupe('paths', 'majority_vote');
    expect(text.status).toBe(0);
    expect(text.out).toContain('majority_vote: 4 paths');
    expect(text.out).toContain('vote tied');
    const json = await troupe('paths', 'majority_vote', '--json', '--set', 'voters=5');
    const report = JSON.parse(json.out) as { covered: number; transitions: number; paths: unknown[] };
    expect(report.covered).toBe(report.transitions);
    expect(report.paths).toHaveLength(4);
  });
});

describe('troupe run', () => {
  it('runs a pattern with simulated agents, printing progress, the timeline and the total duration', async () => {
    const { out, status } = await troupe('run', 'primary_with_reviewers', '--reject', '1');
    expect(status).toBe(0);
    expect(out).toContain('pattern.review.rejected');
    expect(out).toMatch(/timeline\n {2}reviewed_work +\+0h00m → +\+\d+h\d\dm/);
    expect(out).toMatch(/total \d+h\d\dm simulated, 6 task attempts, ended completed/);
  });

  it('takes a failure, a tie and a route from the command line, and exits 1 when the run does not complete', async () => {
    const failed = await troupe('run', 'sequential_handoff', '--fail', 'frontend_update', '--quiet');
    expect(failed.status).toBe(1);
    expect(failed.out).toContain('rollout/undo_api');
    expect(failed.out).toContain('ended failed (rollout: simulated failure of frontend_update)');
    expect((await troupe('run', 'majority_vote', '--tie', '--quiet')).out).toContain('ended escalated');
    const routed = await troupe('run', 'conditional_branching', '--route', 'route=otherwise', '--quiet');
    expect(routed.out).toContain('route otherwise');
    expect(routed.out).toContain('cleanup');
  });

  it('sends a signal at a simulated time', async () => {
    const { out, status } = await troupe(
      'run',
      'test/fixtures/patterns/approval-gate.yaml',
      '--signal',
      'approved@45m',
      '--quiet',
    );
    expect(status).toBe(0);
    expect(out).toMatch(/approval +\+0h\d\dm → +\+0h4[56]m/);
  });
});
