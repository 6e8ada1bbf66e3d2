import { hostname } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { connectAgent } from '../../sdk/connect-agent.js';
import { DEFAULT_KILL_GRACE_MS, execHandler } from '../../sdk/exec-handler.js';

interface AgentCommandOptions {
  url: string;
  exec: string;
  token?: string;
  id?: string;
  capability?: string[];
  capacity: number;
  envelope?: boolean;
  killGrace: number;
}

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
};

/**
 * `troupe agent --exec "<command>"`: plugs any command-line program in as an agent. Each task
 * runs the command once: the task and its context go to stdin as JSON, stdout (JSON) is the
 * result, stderr lines become progress, a non-zero exit fails the attempt. A cancelled task's
 * command gets SIGTERM (its whole process group), then SIGKILL after `--kill-grace` ms.
 */
export function registerAgent(program: Command): void {
  program
    .command('agent')
    .requiredOption('--url <url>', 'the server WebSocket endpoint, e.g. ws://127.0.0.1:7411/v1/ws')
    .requiredOption('--exec <command>', 'shell command run per task (task JSON on stdin, result JSON on stdout)')
    .option('--token <token>', 'agent token (better: TROUPE_AGENT_TOKEN, which other users cannot see in ps)')
    .option('--id <id>', 'agent id; the same id resumes its tasks after a reconnect', `${hostname()}-${process.pid}`)
    .option('--capability <name...>', 'capabilities this agent offers')
    .option('--capacity <n>', 'tasks run at once', positive, 1)
    .option('--envelope', 'read stdout as {"result","artifacts","quality"} instead of the bare result')
    .option(
      '--kill-grace <ms>',
      "on cancel: SIGTERM to the command's process group, SIGKILL this long after",
      positive,
      DEFAULT_KILL_GRACE_MS,
    )
    .action(async (options: AgentCommandOptions) => {
      const token = options.token ?? process.env.TROUPE_AGENT_TOKEN;
      if (!token) {
        console.error('troupe agent: give --token or set TROUPE_AGENT_TOKEN');
        process.exitCode = 2;
        return;
      }
      const id = options.id ?? `${hostname()}-${process.pid}`;
      const log = (line: string) => console.error(`troupe agent ${id}: ${line}`);
      const agent = await connectAgent({
        url: options.url,
        token,
        id,
        capabilities: options.capability ?? [],
        capacity: options.capacity,
        handler: execHandler(options.exec, { envelope: options.envelope ?? false, killGraceMs: options.killGrace }),
        onError: (error) => log(error.message),
      }).catch((error: unknown) => {
        log(`could not connect: ${(error as Error).message}`);
        process.exitCode = 1;
        return null;
      });
      if (!agent) return;
      log(`connected to ${options.url}`);
      agent.on('disconnected', ({ code }) => log(`disconnected (${code}); reconnecting`));
      agent.on('connected', () => log('connected'));
      agent.on('stopped', (error) => {
        if (error) {
          log(`stopped: ${error.message}`);
          process.exitCode = 1;
        }
      });
      const stop = () => void agent.close().then(() => log('left'));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
