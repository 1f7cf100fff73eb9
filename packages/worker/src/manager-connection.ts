import { FarmError } from '@farm/core';
import WebSocket from 'ws';
import { backoffDelayMs, type BackoffOptions } from './backoff';
import { describeError } from './manager-http';
import {
  WORKER_SOCKET_PATH,
  type WorkerSocketOp,
  type WorkerSocketPush,
  type WorkerSocketResponse,
} from './protocol';

export interface ManagerConnectionOptions {
  /** The manager's base URL, `http(s)://host:port`. */
  url: string;
  /** The worker token, read at each connection attempt (it changes after re-registering). */
  token: () => string;
  onPush: (push: WorkerSocketPush) => void;
  /** After every successful (re)connection. */
  onConnected?: () => void;
  onDisconnected?: (reason: string) => void;
  /**
   * The manager refused the token (HTTP 401 on the upgrade). The connection tries again after
   * this settles, with back-off, so it may register anew and change the token meanwhile.
   */
  onUnauthorized?: () => Promise<void> | void;
  /** How long a request waits for its answer unless it says otherwise. 30 s by default. */
  requestTimeoutMs?: number;
  /** 0.5 s doubling to 30 s, with jitter, unless given. */
  backoff?: BackoffOptions;
  /** Pings the manager this often; a connection that misses a pong for as long is dropped. 15 s. */
  pingIntervalMs?: number;
}

export interface RequestOptions {
  taskId?: string;
  body?: object;
  timeoutMs?: number;
}

/** One websocket to the manager carrying the worker operations, reconnecting by itself. */
export interface ManagerConnection {
  /** Starts connecting; later drops reconnect with back-off until `close()`. */
  start(): void;
  readonly connected: boolean;
  /**
   * Sends one operation and resolves with the manager's `{status, body}` (any HTTP status).
   * Rejects with FarmError `unavailable` when the socket is down, drops before the answer, or the
   * answer takes longer than the timeout: the caller decides whether to retry.
   */
  request(op: WorkerSocketOp, options?: RequestOptions): Promise<WorkerSocketResponse>;
  /** Resolves true once connected, false when `signal` aborts or the connection is closed. */
  waitUntilConnected(signal?: AbortSignal): Promise<boolean>;
  /** Drops the current socket (it reconnects unless closed); for tests and a dead manager. */
  drop(reason: string): void;
  /** Closes for good; pending requests reject. */
  close(): Promise<void>;
}

interface Pending {
  resolve: (response: WorkerSocketResponse) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const CONNECT_TIMEOUT_MS = 10_000;

function rawDataToText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** Creates the worker's connection to `/api/v1/ws/worker`. */
export function createManagerConnection(options: ManagerConnectionOptions): ManagerConnection {
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const pingIntervalMs = options.pingIntervalMs ?? 15_000;
  const wsUrl = options.url.replace(/^http/, 'ws').replace(/\/+$/, '') + WORKER_SOCKET_PATH;
  const pending = new Map<number, Pending>();
  const connectedWaiters = new Set<(connected: boolean) => void>();
  let nextId = 1;
  let socket: WebSocket | undefined;
  let open = false;
  let closed = false;
  let started = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let pingTimer: NodeJS.Timeout | undefined;

  const failAll = (reason: string): void => {
    for (const [id, p] of pending) {
      pending.delete(id);
      clearTimeout(p.timer);
      p.reject(new FarmError('unavailable', `connection to the manager lost: ${reason}`));
    }
  };

  const scheduleReconnect = (): void => {
    if (closed || retryTimer !== undefined) return;
    const wait = backoffDelayMs(attempt++, options.backoff);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect();
    }, wait);
  };

  function connect(): void {
    if (closed) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(wsUrl, {
        headers: { authorization: `Bearer ${options.token()}` },
        handshakeTimeout: CONNECT_TIMEOUT_MS,
        perMessageDeflate: false,
      });
    } catch (error) {
      options.onDisconnected?.(describeError(error));
      scheduleReconnect();
      return;
    }
    socket = ws;
    let unauthorized = false;
    let alive = true;

    ws.on('unexpected-response', (_req, res) => {
      unauthorized = res.statusCode === 401;
      res.resume();
      ws.terminate();
      if (!unauthorized)
        options.onDisconnected?.(`the manager refused the socket (HTTP ${res.statusCode})`);
    });
    ws.on('open', () => {
      open = true;
      attempt = 0;
      pingTimer = setInterval(() => {
        // No pong since the last ping: the manager's machine is gone without closing TCP.
        if (!alive) {
          ws.terminate();
          return;
        }
        alive = false;
        ws.ping();
      }, pingIntervalMs);
      pingTimer.unref();
      for (const wake of [...connectedWaiters]) wake(true);
      options.onConnected?.();
    });
    ws.on('pong', () => (alive = true));
    ws.on('message', (data) => {
      alive = true;
      let message: unknown;
      try {
        message = JSON.parse(rawDataToText(data));
      } catch {
        return;
      }
      const m = message as Partial<WorkerSocketResponse> & { type?: unknown };
      if (typeof m.id === 'number' && typeof m.status === 'number') {
        const p = pending.get(m.id);
        if (p === undefined) return; // answered after its timeout
        pending.delete(m.id);
        clearTimeout(p.timer);
        p.resolve(m as WorkerSocketResponse);
        return;
      }
      if (typeof m.type === 'string') options.onPush(message as WorkerSocketPush);
    });
    ws.on('error', () => {
      // 'close' follows and does the work; without a listener the error would crash the process.
    });
    ws.on('close', (code, reasonBuffer) => {
      if (socket === ws) socket = undefined;
      clearInterval(pingTimer);
      const wasOpen = open;
      open = false;
      const reason = reasonBuffer.toString() || `code ${code}`;
      failAll(reason);
      if (closed) return;
      if (wasOpen) options.onDisconnected?.(reason);
      if (unauthorized && options.onUnauthorized) {
        Promise.resolve(options.onUnauthorized())
          .catch(() => undefined)
          .finally(scheduleReconnect);
        return;
      }
      if (!wasOpen && !unauthorized) options.onDisconnected?.(reason);
      scheduleReconnect();
    });
  }

  return {
    start() {
      if (started) return;
      started = true;
      connect();
    },
    get connected() {
      return open;
    },
    request(op, req = {}) {
      const ws = socket;
      if (!open || ws === undefined || ws.readyState !== WebSocket.OPEN)
        return Promise.reject(new FarmError('unavailable', 'not connected to the manager'));
      const id = nextId++;
      const message: Record<string, unknown> = { id, op };
      if (req.taskId !== undefined) message.taskId = req.taskId;
      if (req.body !== undefined) message.body = req.body;
      return new Promise<WorkerSocketResponse>((resolve, reject) => {
        const timeoutMs = req.timeoutMs ?? requestTimeoutMs;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(
            new FarmError('unavailable', `the manager did not answer ${op} within ${timeoutMs} ms`),
          );
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        ws.send(JSON.stringify(message), (error) => {
          if (error === undefined || error === null) return;
          const p = pending.get(id);
          if (p === undefined) return;
          pending.delete(id);
          clearTimeout(p.timer);
          p.reject(new FarmError('unavailable', `cannot send ${op}: ${error.message}`));
        });
      });
    },
    waitUntilConnected(signal) {
      if (open) return Promise.resolve(true);
      if (closed || signal?.aborted) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const done = (value: boolean): void => {
          connectedWaiters.delete(done);
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        };
        const onAbort = (): void => done(false);
        connectedWaiters.add(done);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    drop(reason) {
      socket?.close(4001, reason);
      socket?.terminate();
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      clearInterval(pingTimer);
      for (const wake of [...connectedWaiters]) wake(false);
      failAll('closed');
      const ws = socket;
      socket = undefined;
      open = false;
      if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1000);
        ws.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1000, 'worker signing off');
      });
    },
  };
}
