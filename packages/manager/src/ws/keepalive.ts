import type { WebSocket } from 'ws';

/** Pings tracked sockets and terminates those that did not answer the previous ping. */
export interface Keepalive {
  track(ws: WebSocket): void;
  untrack(ws: WebSocket): void;
  stop(): void;
}

export const DEFAULT_KEEPALIVE_INTERVAL_MS = 30_000;

/**
 * One timer for all sockets (not one per socket: thousands of idle workers must stay cheap). A
 * socket that sent nothing and answered no ping for a whole interval is dead (a worker machine
 * that lost power never closes its TCP connection) and is terminated, which fires its `close`.
 */
export function createKeepalive(intervalMs: number = DEFAULT_KEEPALIVE_INTERVAL_MS): Keepalive {
  const alive = new Map<WebSocket, boolean>();
  const markAlive = function (this: WebSocket): void {
    alive.set(this, true);
  };
  const timer = setInterval(() => {
    for (const [ws, answered] of alive) {
      if (!answered) {
        ws.terminate();
        alive.delete(ws);
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return {
    track(ws) {
      alive.set(ws, true);
      ws.on('pong', markAlive);
      ws.on('message', markAlive);
    },
    untrack(ws) {
      alive.delete(ws);
      ws.off('pong', markAlive);
      ws.off('message', markAlive);
    },
    stop() {
      clearInterval(timer);
      alive.clear();
    },
  };
}
