import type { Logger } from 'pino';
import type { Clock } from '../../engine/clock.js';
import type { Connection } from './connection.js';

/**
 * Pings a connection every `intervalMs` (WebSocket ping frames, answered by the client's
 * library with a pong) and drops it when the previous ping went unanswered: a peer that vanished
 * without a close (a laptop lid, a cut cable) frees its slot within two intervals. Any frame from
 * the client counts as an answer too. Runs on the runtime's clock, so tests drive it without
 * waiting. Returns the function that stops it.
 *
 * @example
 * ```ts
 * const stop = keepAlive(connection, runtime.clock, 30_000, logger);
 * ```
 */
export function keepAlive(connection: Connection, clock: Clock, intervalMs: number, logger: Logger): () => void {
  let answered = true;
  let timer: unknown = null;
  const heard = () => {
    answered = true;
  };
  connection.socket.on('pong', heard);
  connection.socket.on('message', heard);
  const tick = () => {
    timer = null;
    if (!connection.open) return;
    if (!answered) {
      logger.info({ connection: connection.id }, 'observer did not answer a ping in time: dropped');
      connection.terminate();
      return;
    }
    answered = false;
    try {
      connection.socket.ping();
    } catch (error) {
      logger.debug({ err: error, connection: connection.id }, 'ping failed');
    }
    timer = clock.schedule(intervalMs, tick);
  };
  timer = clock.schedule(intervalMs, tick);
  return () => {
    if (timer !== null) clock.clear(timer);
    timer = null;
    connection.socket.off('pong', heard);
    connection.socket.off('message', heard);
  };
}
