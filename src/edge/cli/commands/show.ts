import type { Command } from 'commander';
import { ApiError } from '../../client/api-error.js';
import type { AgentView, PatternRunView, TaskView, TicketView } from '../../client/create-client.js';
import { clientFrom, runClientCommand, withClientOptions, type ClientCommandOptions } from './cli-client.js';
import { formatTable, short, took, when } from './cli-table.js';

const json = (value: unknown) => JSON.stringify(value);

function showTask(t: TaskView): string[] {
  const lines = [
    `task ${t.id}  ${t.status}${t.reason ? ` (${t.reason})` : ''}`,
    `  type ${t.type}, priority ${t.priority}${t.requires.length > 0 ? `, requires ${t.requires.join(',')}` : ''}`,
    ...(t.ticketId ? [`  ticket ${t.ticketId}, phase ${t.phase ?? '-'}, round ${t.round}`] : []),
    ...(t.dependsOn.length > 0
      ? [
          `  depends on ${t.dependsOn.join(', ')}${t.pendingDependencies.length > 0 ? ` (waiting for ${t.pendingDependencies.join(', ')})` : ''}`,
        ]
      : []),
    `  created ${when(t.createdAt)}, started ${when(t.startedAt)}, settled ${when(t.settledAt)} (took ${took(t.createdAt, t.settledAt)})`,
    `  agent ${t.agentId ?? '-'}, attempt ${t.attempt} of ${t.maxAttempts}${t.progress ? `, progress ${t.progress.value ?? '-'} ${t.progress.message ?? ''}` : ''}`,
  ];
  if (t.attempts.length > 0) {
    lines.push('  attempts:');
    const rows = t.attempts.map((a) => [
      String(a.attempt),
      a.agentId,
      when(a.assignedAt),
      took(a.startedAt ?? a.assignedAt, a.endedAt),
      a.error
        ? `${a.error.category} ${a.error.code}: ${short(a.error.message, 80)}`
        : a.endedAt === undefined
          ? 'running'
          : 'ok',
    ]);
    for (const line of formatTable(['#', 'AGENT', 'ASSIGNED', 'TOOK', 'OUTCOME'], rows)) lines.push(`    ${line}`);
  }
  if (t.result !== null) lines.push(`  result ${short(json(t.result), 400)}`);
  const artifacts = Object.keys(t.artifacts);
  if (artifacts.length > 0) lines.push(`  artifacts ${artifacts.join(', ')}`);
  if (t.quality !== null) lines.push(`  quality ${t.quality}`);
  return lines;
}

function showTicket(t: TicketView): string[] {
  const lines = [
    `ticket ${t.id}  ${t.status}${t.reason ? ` (${t.reason})` : ''}  "${t.title}"`,
    `  created ${when(t.createdAt)}`,
  ];
  const rows = t.phases.map((p) => [
    p.name === t.currentPhase ? `> ${p.name}` : `  ${p.name}`,
    p.status,
    `${p.round}/${p.maxRounds}`,
    `${p.tasks.total - p.tasks.open}/${p.tasks.total}`,
    p.reasons.length > 0 ? short(p.reasons.join('; '), 80) : '',
  ]);
  for (const line of formatTable(['PHASE', 'STATUS', 'ROUND', 'TASKS', 'GATE'], rows)) lines.push(`  ${line}`);
  lines.push(`  tasks: troupe ls tasks --ticket ${t.id}`);
  return lines;
}

function showRun(r: PatternRunView): string[] {
  return [
    `run ${r.id}  ${r.status}  pattern ${r.pattern}, state ${r.state}`,
    ...(r.ticketId ? [`  ticket ${r.ticketId}, phase ${r.phase ?? '-'}`] : []),
    `  started ${when(r.startedAt)}, settled ${when(r.settledAt)} (took ${took(r.startedAt, r.settledAt)})`,
    ...(r.failure ? [`  failure at ${r.failure.step}: ${r.failure.kind}: ${r.failure.reason}`] : []),
    ...(Object.keys(r.results).length > 0 ? [`  results ${short(json(r.results), 400)}`] : []),
  ];
}

function showAgent(a: AgentView): string[] {
  return [
    `agent ${a.id}  ${a.status}${a.reason ? ` (${a.reason})` : ''}`,
    `  load ${a.load}/${a.capacity}, transport ${a.transport}, capabilities ${a.capabilities.join(',') || '-'}`,
    `  registered ${when(a.registeredAt)}, last heartbeat ${when(a.lastHeartbeatAt)}`,
  ];
}

/** `troupe show <id>`: one task, ticket, pattern run or agent, whole. */
export function registerShow(program: Command): void {
  withClientOptions(program.command('show').argument('<id>', 'an id')).action(
    (id: string, options: ClientCommandOptions) =>
      runClientCommand('show', options, async () => {
        const client = clientFrom(options);
        let lines: string[];
        let view: unknown;
        try {
          const found = await client.find(id);
          view = found.view;
          lines =
            found.kind === 'task'
              ? showTask(found.view)
              : found.kind === 'ticket'
                ? showTicket(found.view)
                : showRun(found.view);
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 404)) throw error;
          const agent = await client.agents.get(id).catch((e: unknown) => {
            if (e instanceof ApiError && e.status === 404)
              throw new ApiError('E_NOT_FOUND', `no task, ticket, run or agent has id "${id}"`, 404, ['path', 'id']);
            throw e;
          });
          view = agent;
          lines = showAgent(agent);
        }
        if (options.json) console.log(JSON.stringify(view, null, 2));
        else for (const line of lines) console.log(line);
      }),
  );
}
