/**
 * The Troupe agent SDK, behind the `troupe/sdk` subpath: connect an agent to a Troupe server
 * over WebSocket with the same handler as an in-process agent.
 *
 * @example
 * ```ts
 * import { connectAgent } from 'troupe/sdk';
 * const agent = await connectAgent({ url, token, id: 'a1', capabilities: ['code'], handler: async (task) => task.input });
 * ```
 */
export { connectAgent, RemoteAgent } from './connect-agent.js';
export type { ConnectAgentOptions, RemoteAgentEvents } from './connect-agent.js';
export { connectClusterAgent, ClusterAgent } from './connect-cluster-agent.js';
export type { ConnectClusterAgentOptions } from './connect-cluster-agent.js';
export { SlotPool } from './slot-pool.js';
export { execHandler, DEFAULT_KILL_GRACE_MS } from './exec-handler.js';
export type { ExecHandlerOptions } from './exec-handler.js';
export { RemoteError, DisconnectedError, ConnectionRefusedError } from './remote-error.js';
export { DEFAULT_RECONNECT, reconnectDelay } from './reconnect-backoff.js';
export type { ReconnectPolicy } from './reconnect-backoff.js';
export type { TaskHandler, TaskHandlerContext } from '../../engine/api/task-handler.js';
export type { TaskView } from '../../engine/api/views.js';
