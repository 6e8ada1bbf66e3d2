import type { Duplex } from 'node:stream';

/**
 * Returns a function to call before each WebSocket send: the first send of a tick corks the
 * TCP socket and the tick's end uncorks it, so frames sent together (the acks and assignments
 * of one commit) leave in one write instead of one system call each.
 *
 * @example
 * ```ts
 * const beforeSend = coalesceWrites(rawSocket);
 * beforeSend(); ws.send(frame);
 * ```
 */
export function coalesceWrites(socket: Duplex): () => void {
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  return () => {
    if (corked) return;
    corked = true;
    socket.cork();
    process.nextTick(uncork);
  };
}
