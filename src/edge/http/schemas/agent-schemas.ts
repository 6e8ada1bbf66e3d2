import { z } from 'zod';
import type { AgentStatus } from '../../../core/machines/agent-machine.js';
import { csv, pageOf, pageQueryShape } from './common-schemas.js';

export const AGENT_STATUSES = [
  'idle',
  'busy',
  'draining',
  'stale',
  'leaving',
  'gone',
] as const satisfies readonly AgentStatus[];

export const agentView = z
  .looseObject({
    id: z.string(),
    status: z.enum(AGENT_STATUSES),
    capabilities: z.array(z.string()),
    capacity: z.int(),
    load: z.int().meta({ description: 'Slots in use now.' }),
    transport: z.string(),
    lastHeartbeatAt: z.number(),
    registeredAt: z.number(),
    reason: z.string().nullable(),
  })
  .meta({ title: 'AgentView' });

export const agentListQuery = z.strictObject({
  status: csv(z.enum(AGENT_STATUSES)).optional().meta({ description: 'Comma-separated statuses.' }),
  capability: z.string().min(1).max(200).optional().meta({ description: 'Agents that offer this capability.' }),
  ...pageQueryShape,
});

export const agentPage = pageOf(agentView, 'agents');

export type AgentListQuery = z.input<typeof agentListQuery>;
