import type { WebSocket } from 'ws';

/** Pings tracked sockets that went quiet and terminates those that then do not answer. */
export interface Keepalive {
  track(ws: WebSocket): void;
  untrack(ws: WebSocket): void;
  stop(): void;
}

export const DEFAULT_KEEPALIVE_INTERVAL_MS = 30_000;

// A socket's entry: HEARD or QUIET, or else the tick at which it was pinged.
const HEARD = -1;
const QUIET = -2;
// Ticks come every half interval: a pinged socket has this many ticks (one interval) to answer.
const TICKS_TO_ANSWER = 2;

/**
 * One timer for all sockets (not one per socket: thousands of idle workers must stay cheap).
 * Only sockets that sent nothing (no message, no pong) since the previous tick are pinged: a
 * worker's heartbeats (every 10 s) already prove it alive, and a ping and its pong cost the
 * manager about as much CPU as a heartbeat (5,000 idle workers: 167 pings/s, docs/decisions/0020).
 * A pinged socket that sends nothing for a whole interval is dead (a worker machine that lost
 * power never closes its TCP connection) and is terminated, which fires its `close`. Ticking every
 * half interval keeps the time to find a dead socket at one to two intervals, as when every
 * socket was pinged every interval; quiet sockets (browsers) are still pinged once per interval.
 */
export function createKeepalive(intervalMs: number = DEFAULT_KEEPALIVE_INTERVAL_MS): Keepalive {
  const sockets = new Map<WebSocket, number>();
  let tick = 0;
  const markHeard = function (this: WebSocket): void {
    sockets.set(this, HEARD);
  };
  const timer = setInterval(
    () => {
      tick++;
      for (const [ws, state] of sockets) {
        if (state === HEARD) {
          sockets.set(ws, QUIET);
        } else if (state === QUIET) {
          sockets.set(ws, tick);
          ws.ping();
        } else if (tick - state >= TICKS_TO_ANSWER) {
          sockets.delete(ws);
          ws.terminate();
        }
      }
    },
    Math.max(1, Math.round(intervalMs / 2)),
  );
  timer.unref();
  return {
    track(ws) {
      sockets.set(ws, HEARD);
      ws.on('pong', markHeard);
      ws.on('message', markHeard);
    },
    untrack(ws) {
      sockets.delete(ws);
      ws.off('pong', markHeard);
      ws.off('message', markHeard);
    },
    stop() {
      clearInterval(timer);
      sockets.clear();
    },
  };
}
