/** The shapes the dashboard reads from the API (docs/api.md), as much of them as it shows. */

export interface AttemptView {
  attempt: number;
  agentId: string | null;
  startedAt: number | null;
  endedAt: number | null;
  outcome?: string;
  error?: { code?: string; message?: string; category?: string } | null;
  [key: string]: unknown;
}

export interface TaskView {
  id: string;
  status: string;
  type: string;
  description: string;
  ticketId: string | null;
  phase: string | null;
  priority: number;
  requires: string[];
  dependsOn: string[];
  pendingDependencies: string[];
  input: unknown;
  attempt: number;
  maxAttempts: number;
  attempts: AttemptView[];
  agentId: string | null;
  result: unknown;
  artifacts: Record<string, unknown>;
  quality: number | null;
  error: { code?: string; message?: string; category?: string } | null;
  reason: string | null;
  progress: { value: number | null; message: string | null } | null;
  round: number;
  createdAt: number;
  queuedAt: number | null;
  startedAt: number | null;
  retryAt: number | null;
  settledAt: number | null;
}

export interface PhaseView {
  name: string;
  status: string;
  round: number;
  maxRounds: number;
  tasks: Record<string, number>;
  artifacts: string[];
  quality: number | null;
  reasons: string[];
  feedback: string | null;
}

export interface TicketView {
  id: string;
  status: string;
  title: string;
  description: string;
  currentPhase: string | null;
  phases: PhaseView[];
  reason: string | null;
  createdAt: number;
}

export interface AgentView {
  id: string;
  status: string;
  capabilities: string[];
  capacity: number;
  load: number;
  transport: string;
  lastHeartbeatAt: number;
  registeredAt: number;
  reason: string | null;
}

export interface RunView {
  id: string;
  pattern: string;
  kind: string;
  status: string;
  state: string;
  ticketId: string | null;
  startedAt: number;
  [key: string]: unknown;
}

/** What `/v1/actors/{kind}/{id}` answers: an actor with its machine drawn. */
export interface ActorChart {
  kind: string;
  id: string;
  machineId: string;
  state: string;
  active: string[];
  settled: boolean;
  context: Record<string, unknown>;
  view: Record<string, unknown> | null;
  chart: {
    initial: string;
    nodes: Array<{ id: string; key: string; parent: string | null; type: string }>;
    edges: Array<{ from: string; to: string; event: string }>;
  };
}

export interface ActorSummary {
  kind: string;
  id: string;
  state: string;
  settled: boolean;
  view: Record<string, unknown> | null;
}
