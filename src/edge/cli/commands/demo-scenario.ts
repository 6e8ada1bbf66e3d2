import { createRuntime } from '../../../runtime.js';
import type { Store } from '../../../engine/store/store.js';
import type { TaskHandler } from '../../../engine/api/task-handler.js';

export interface DemoOptions {
  store: Store;
  print: (line: string) => void;
  summary: (line: string) => void;
}

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    });
  });

/**
 * The demo behind `npm start`: one ticket, three phases with gates, four in-process agents,
 * dependent tasks, one task that fails once and is retried after backoff.
 */
export async function runDemo({ store, print, summary }: DemoOptions): Promise<boolean> {
  const started = Date.now();
  const runtime = createRuntime({ store, retry: { backoff: { baseMs: 200, factor: 2, capMs: 2_000, jitter: 0 } } });
  const t0 = Date.now();
  const stamp = () => `${String(Date.now() - t0).padStart(5)} ms`;
  runtime.events.subscribe(
    { types: ['task.*', 'phase.*', 'ticket.*', 'dependency.resolved', 'agent.registered'] },
    (e) => {
      if (e.type === 'task.created' || e.type === 'task.queued' || (e.type === 'task.progress' && !e.data.message))
        return;
      const who = e.taskId ? `${e.taskId}` : e.phase ? `phase ${e.phase}` : (e.agentId ?? e.ticketId ?? '');
      const extra =
        e.type === 'task.failed' || e.type === 'task.retrying'
          ? ` (${(e.data.error as { message?: string } | null)?.message ?? ''}${e.type === 'task.retrying' ? `, retry at +${Number(e.data.retryAt) - e.at} ms` : ''})`
          : e.type === 'task.progress'
            ? ` ${String(e.data.message)}`
            : e.type === 'task.started' || e.type === 'task.assigned'
              ? ` on ${e.agentId}`
              : e.type === 'phase.rejected' || e.type === 'phase.failed'
                ? ` ${JSON.stringify(e.data.reasons)}`
                : '';
      print(`${stamp()}  ${e.type.padEnd(20)} ${who}${extra}`);
    },
  );

  let flakyFailures = 0;
  const worker =
    (ms: number): TaskHandler =>
    async (task, ctx) => {
      ctx.progress(0.5, `${task.type}: working`);
      await pause(ms, ctx.signal);
      if (task.id === 'api' && flakyFailures === 0) {
        flakyFailures += 1;
        throw new Error('database migration lock was busy');
      }
      const upstream = Object.keys(ctx.dependencies);
      ctx.artifact(`${task.id}-output`, `${task.type} built on [${upstream.join(', ')}]`);
      ctx.quality(0.9);
      return { done: task.type, usedArtifacts: Object.keys(ctx.artifacts) };
    };
  await runtime.agents.register({ id: 'architect', capabilities: ['design'], handler: worker(120) });
  await runtime.agents.register({ id: 'backend', capabilities: ['python', 'sql'], capacity: 2, handler: worker(150) });
  await runtime.agents.register({ id: 'frontend', capabilities: ['react'], handler: worker(130) });
  await runtime.agents.register({
    id: 'reviewer',
    capabilities: ['review'],
    handler: async (task, ctx) => {
      await pause(80, ctx.signal);
      return { approved: true, feedback: `looked at ${Object.keys(ctx.ticket?.phases ?? {}).join(', ')}` };
    },
  });

  const ticket = await runtime.tickets.create({
    id: 'user-roles',
    title: 'Add user roles',
    context: { repository: 'example/app' },
    phases: [
      {
        name: 'design',
        gate: { requiredArtifacts: ['contract-output'] },
        tasks: [{ id: 'contract', type: 'api-contract', requires: ['design'] }],
      },
      {
        name: 'implementation',
        gate: { minQuality: 0.8 },
        tasks: [
          { id: 'migration', type: 'db-migration', requires: ['sql'], priority: 'high' },
          { id: 'api', type: 'role-endpoints', requires: ['python'], dependsOn: ['migration'] },
          { id: 'ui', type: 'role-selector', requires: ['react'] },
          { id: 'wire-up', type: 'integrate', requires: ['python'], dependsOn: ['api', 'ui'] },
        ],
      },
      {
        name: 'review',
        gate: { validator: { type: 'code-review', requires: ['review'] } },
        tasks: [{ id: 'docs', type: 'write-docs', requires: ['design'] }],
      },
    ],
  });
  print(`${stamp()}  ticket ${ticket.id} created with phases ${ticket.phases.map((p) => p.name).join(' -> ')}`);
  const done = await runtime.tickets.wait(ticket.id);
  const tasks = await runtime.tasks.list({ ticketId: ticket.id });
  summary('');
  summary(`ticket "${done.title}": ${done.status} in ${Date.now() - started} ms (store: ${store.name})`);
  for (const phase of done.phases)
    summary(
      `  phase ${phase.name.padEnd(15)} ${phase.status} (round ${phase.round}, ${phase.tasks.succeeded}/${phase.tasks.total} tasks)`,
    );
  for (const t of tasks) {
    summary(
      `  task ${t.id.padEnd(44)} ${t.status.padEnd(10)} attempts=${t.attempt} agent=${t.attempts.at(-1)?.agentId ?? '-'}`,
    );
  }
  await runtime.stop();
  return done.status === 'completed';
}
