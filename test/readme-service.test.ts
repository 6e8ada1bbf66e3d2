import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from './support/serve-process.js';

/**
 * The README's "Run it as a service" commands, run as written by bash from the repository root.
 * Two things change, so that the test neither collides with a server someone runs on 7411 nor
 * touches ./.troupe: the port (a free one; the client commands find it in TROUPE_URL) and the
 * database (a throwaway file).
 */
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

function serviceCommands(): string[] {
  const section = readme.slice(readme.indexOf('## Run it as a service'));
  const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block.split('\n').filter((line) => line.trim().length > 0);
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('README: run it as a service', () => {
  it('has five commands: tokens, serve, agent, submit --wait, ls', () => {
    const commands = serviceCommands();
    expect(commands).toHaveLength(5);
    expect(commands.map((c) => /troupe -- (\w+)/.exec(c)?.[1] ?? 'export')).toEqual([
      'export',
      'serve',
      'agent',
      'submit',
      'ls',
    ]);
  });

  it('the five commands start a server and an agent, run a ticket to the end and list its tasks', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'troupe-readme-'));
    const script = serviceCommands().map((line) => {
      const moved = line.replaceAll('7411', String(port));
      return moved.includes('troupe -- serve')
        ? moved.replace(' &', ` --port ${port} --db ${join(dir, 'troupe.db')} &`)
        : moved;
    });
    // Its own process group: the background server and agent end with it.
    const bash = spawn('bash', ['-e', '-c', script.join('\n')], {
      cwd: ROOT,
      detached: true,
      env: { ...process.env, TROUPE_URL: `http://127.0.0.1:${port}`, TROUPE_TOKEN: '', TROUPE_AGENT_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup = () => {
      try {
        process.kill(-(bash.pid as number), 'SIGTERM');
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    };
    let out = '';
    bash.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    bash.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    // The script ends after `ls tasks`; the server and the agent it started in the background live on.
    const lsDone = new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (/ID\s+STATUS\s+TYPE/.test(out) && (out.match(/succeeded/g) ?? []).length >= 3) {
          clearInterval(timer);
          resolve();
        }
      }, 100);
      bash.once('exit', (code) => {
        clearInterval(timer);
        if (code === 0 && /ID\s+STATUS\s+TYPE/.test(out)) resolve();
        else reject(new Error(`exited ${code}:\n${out}`));
      });
    });
    await lsDone;
    expect(out).toMatch(/ticket ticket-\S+ created: active, phase plan/);
    expect(out).toMatch(/phases 2\/2 passed · tasks 3\/3 done · completed/);
    expect(out).toMatch(/ticket ticket-\S+: completed/);
    const taskLines = out.split('\n').filter((l) => /^task-\S+\s+succeeded\s+(outline|write|check)\b/.test(l));
    expect(taskLines).toHaveLength(3);
  }, 120_000);
});
