import type { TaskControls, TaskStatus } from './task-types.js';

/** Effects specific to tasks, carried out by the runtime. */
export interface EnqueueParams {
  taskId: string;
  priority: number;
  requires: string[];
  queuedAt: number;
  type: string;
  controls: TaskControls;
}
export interface OfferParams {
  taskId: string;
  agentId: string;
  leaseId: string;
  attempt: number;
  autoStart: boolean;
}
export interface LeaseEndedParams {
  taskId: string;
  agentId: string;
  leaseId: string;
  revoke: string | null;
  /** The agent declined the offer: the dispatcher keeps the task from it for a while. */
  rejected: boolean;
}
export interface SettledParams {
  taskId: string;
  status: TaskStatus;
  ticketId: string | null;
  phase: string | null;
  role: string | null;
  agentId: string | null;
}

export interface RegisterWaitingParams {
  taskId: string;
  pendingDeps: string[];
  phaseOpen: boolean;
  ticketId: string | null;
  phase: string | null;
}
