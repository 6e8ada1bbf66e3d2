import type { Logger } from 'pino';
import type { EventBus, TroupeEvent } from './event-bus.js';

type Level = 'error' | 'warn' | 'info' | 'debug';

/**
 * The level of each decision an operator reads in the log. Work that went wrong and needs a look
 * is `warn` (a dead-lettered task, a failed ticket, a stale agent); failed attempts and the milestones of tickets, phases, gates and agents are `info`; every step of every
 * task is `debug` (thousands a second under load). Types not listed: `*.failed`, `*.broken` and
 * `*.timed_out` of coordinators are `warn`, everything else `debug`.
 */
const LEVELS: Readonly<Record<string, Level>> = {
  'task.dead_lettered': 'warn',
  // An attempt that failed or timed out is retried unless its task dead-letters, which is the warning.
  'task.failed': 'info',
  'task.timed_out': 'info',
  'task.retrying': 'info',
  'task.cancelled': 'info',
  'agent.stale': 'warn',
  'agent.lost': 'warn',
  'agent.registered': 'info',
  'agent.deregistered': 'info',
  'ticket.created': 'info',
  'ticket.completed': 'info',
  'ticket.failed': 'warn',
  'ticket.cancelled': 'info',
  'ticket.phase_changed': 'info',
  'phase.opened': 'info',
  'phase.passed': 'info',
  'phase.failed': 'warn',
  'gate.passed': 'info',
  'gate.rejected': 'info',
};

/** `warn` for anything that failed, broke or timed out; the table above for the rest. */
export function decisionLevel(type: string): Level {
  const listed = LEVELS[type];
  if (listed !== undefined) return listed;
  if (
    type.endsWith('.failed') ||
    type.endsWith('.broken') ||
    type.endsWith('.timed_out') ||
    type.endsWith('.compensation_failed')
  )
    return 'warn';
  return 'debug';
}

/**
 * The small fields of an event's data (numbers, strings, booleans, and `error`): results, inputs
 * and artifacts stay out of the log, where they would be large and may be private.
 */
function smallFields(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (key === 'error' || key === 'lastError') out[key] = value;
    else if (
      typeof value === 'number' ||
      typeof value === 'boolean' ||
      (typeof value === 'string' && value.length <= 200)
    )
      out[key] = value;
  }
  return out;
}

/**
 * One log line per committed decision, with its ids, at the level `decisionLevel` gives it.
 * Reads the logger's level on every event, so a level changed at run time (SIGHUP) applies at
 * once; a disabled level costs a table lookup and a comparison.
 */
export function logDecisions(bus: EventBus, logger: Logger): () => void {
  return bus.subscribe({}, (event: TroupeEvent) => {
    const level = decisionLevel(event.type);
    if (!logger.isLevelEnabled(level)) return;
    const ids: Record<string, unknown> = { event: event.type, seq: event.seq };
    if (event.ticketId !== null) ids.ticketId = event.ticketId;
    if (event.phase !== null) ids.phase = event.phase;
    if (event.taskId !== null) ids.taskId = event.taskId;
    if (event.agentId !== null) ids.agentId = event.agentId;
    logger[level]({ ...ids, ...smallFields(event.data) }, event.type.replace(/[._]/g, ' '));
  });
}
