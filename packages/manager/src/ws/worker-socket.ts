import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { Logger } from 'winston';
import {
  FarmError,
  validateOperationInput,
  validateSchema,
  type WorkerSocketPush,
  type WorkerSocketRequest,
} from '@farm/core';
import { readBearerToken } from '../http/authenticate';
import { describeError, toErrorResponse, validationFailed } from '../http/error-response';
import type { AuthenticateToken, WorkerPrincipal } from '../http/principal';
import type { ServerAttachment } from '../http/serve';
import {
  WORKER_SOCKET_OPERATIONS,
  runWorkerOperation,
  type WorkerOperationHandlers,
} from '../http/worker-operations';
import { createKeepalive } from './keepalive';
import { readText } from './read-text';
import { acceptAuthenticatedUpgrade } from './authenticated-upgrade';
import { routeUpgrades } from './upgrade-router';

export const WORKER_SOCKET_PATH = '/api/v1/ws/worker';

/**
 * Worker sockets are pinged after 30-60 s of silence: an idle `farm-worker` beats every 30 s, so
 * it is never pinged, and a dead worker machine is found by the worker timeout (1 min) anyway;
 * its socket is closed within two minutes (docs/decisions/0028).
 */
export const WORKER_KEEPALIVE_INTERVAL_MS = 60_000;

export interface WorkerSocketDeps {
  logger: Logger;
  authenticateToken: AuthenticateToken;
  /** The same handlers the HTTP worker routes call. */
  workerHandlers: WorkerOperationHandlers;
  /** Called when a worker's socket opens (after a replaced socket of the same worker, if any). */
  onWorkerConnected?(worker: WorkerPrincipal): void;
  /** Called when a worker's last socket closes or is found dead. */
  onWorkerDisconnected?(workerId: string): void;
  keepaliveIntervalMs?: number;
  /** Largest message accepted; a TaskUpdate may carry up to 1 MiB of log. 2 MiB by default. */
  maxPayloadBytes?: number;
  /** Requests one socket may have unanswered at once; more answer 429. 64 by default. */
  maxInFlightPerSocket?: number;
}

/** The worker websocket endpoint, its registry of connected workers, and pushes to them. */
export interface WorkerSocket extends ServerAttachment {
  /** Routes `/api/v1/ws/worker` upgrades of `server` here; returns this. */
  attach(server: Server): WorkerSocket;
  /** Sends a push to a connected worker; false when it is not connected here. */
  pushToWorker(workerId: string, message: WorkerSocketPush): boolean;
  isWorkerConnected(workerId: string): boolean;
  connectedWorkerIds(): string[];
  /** Closes a worker's socket (its token was revoked): it reconnects and gets 401. */
  disconnectWorker(workerId: string, reason: string): void;
  /** Closes every socket with 1001 and stops keepalive pings. */
  close(): Promise<void>;
}

interface Connection {
  ws: WebSocket;
  worker: WorkerPrincipal;
  inFlight: number;
  // Aborted when the socket closes, so a waiting claim stops waiting.
  controller: AbortController;
}

/** Close code for a socket superseded by a newer one of the same worker. */
export const CLOSE_REPLACED = 4000;
/** Close code for a socket whose worker token was revoked (issue 7). */
export const CLOSE_REVOKED = 4001;
const CLOSE_TIMEOUT_MS = 2000;

/**
 * Creates the worker websocket endpoint. A worker authenticates with `Authorization: Bearer`
 * on the upgrade request (refused with 401/403 before upgrading otherwise), then sends
 * `{ id, op, taskId?, body? }` requests; each is validated with the HTTP operation's own schemas
 * and run by the same handler as over HTTP, and answered `{ id, status, body }`. Per message the
 * work is one JSON parse, the validation and the handler: no Express, no per-request objects.
 */
export function createWorkerSocket(deps: WorkerSocketDeps): WorkerSocket {
  const logger = deps.logger;
  const maxInFlight = deps.maxInFlightPerSocket ?? 64;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: deps.maxPayloadBytes ?? 2 * 1024 * 1024,
    // Compression costs more CPU than the small JSON messages of this path would save.
    perMessageDeflate: false,
    clientTracking: false,
  });
  const connections = new Set<Connection>();
  const byWorker = new Map<string, Connection>();
  const keepalive = createKeepalive(deps.keepaliveIntervalMs ?? WORKER_KEEPALIVE_INTERVAL_MS);
  const detachers: Array<() => void> = [];
  let closing = false;

  function reply(connection: Connection, id: number, status: number, body: unknown): void {
    if (connection.ws.readyState !== WebSocket.OPEN) return;
    connection.ws.send(JSON.stringify(body === undefined ? { id, status } : { id, status, body }));
  }

  async function run(connection: Connection, request: WorkerSocketRequest): Promise<void> {
    const op = request.op;
    const operationId = WORKER_SOCKET_OPERATIONS[op];
    const checked = validateOperationInput(operationId, {
      params: request.taskId === undefined ? undefined : { taskId: request.taskId },
      body: request.body,
    });
    if (!checked.ok) throw validationFailed(checked.issues);
    const result = await runWorkerOperation(deps.workerHandlers, op, connection.worker, {
      params: checked.value.params as { taskId?: string },
      body: checked.value.body,
      signal: connection.controller.signal,
      transport: 'ws',
    });
    reply(connection, request.id, result.status, result.body);
  }

  function onMessage(connection: Connection, data: RawData): void {
    let message: unknown;
    try {
      message = JSON.parse(readText(data));
    } catch {
      // Without a parsable message there is no id to answer to: the peer broke the protocol.
      connection.ws.close(1007, 'messages must be JSON');
      return;
    }
    const id = (message as { id?: unknown } | null)?.id;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      connection.ws.close(1007, 'every message needs an integer id');
      return;
    }
    const envelope = validateSchema('WorkerSocketRequest', message);
    if (!envelope.ok) {
      const { status, body } = toErrorResponse(
        validationFailed(envelope.issues, 'message'),
        logger,
      );
      reply(connection, id, status, body);
      return;
    }
    if (connection.inFlight >= maxInFlight) {
      const error = new FarmError(
        'rate_limited',
        `more than ${maxInFlight} requests are waiting for answers`,
      );
      const { status, body } = toErrorResponse(error, logger);
      reply(connection, id, status, body);
      return;
    }
    connection.inFlight++;
    run(connection, envelope.value)
      .catch((error: unknown) => {
        const { status, body } = toErrorResponse(error, logger, {
          workerId: connection.worker.workerId,
          op: envelope.value.op,
        });
        reply(connection, id, status, body);
      })
      .finally(() => connection.inFlight--);
  }

  function onConnection(ws: WebSocket, worker: WorkerPrincipal): void {
    const connection: Connection = { ws, worker, inFlight: 0, controller: new AbortController() };
    connections.add(connection);
    const previous = byWorker.get(worker.workerId);
    byWorker.set(worker.workerId, connection);
    // A worker that reconnects before its old socket was found dead keeps only the new one.
    previous?.ws.close(CLOSE_REPLACED, 'replaced by a newer connection of this worker');
    keepalive.track(ws);
    ws.on('message', (data) => onMessage(connection, data));
    ws.on('error', (error) =>
      logger.debug('worker socket error', {
        workerId: worker.workerId,
        error: describeError(error),
      }),
    );
    ws.on('close', () => {
      keepalive.untrack(ws);
      connections.delete(connection);
      connection.controller.abort();
      if (byWorker.get(worker.workerId) !== connection) return;
      byWorker.delete(worker.workerId);
      try {
        deps.onWorkerDisconnected?.(worker.workerId);
      } catch (error) {
        logger.error('onWorkerDisconnected failed', {
          workerId: worker.workerId,
          error: describeError(error),
        });
      }
    });
    try {
      deps.onWorkerConnected?.(worker);
    } catch (error) {
      logger.error('onWorkerConnected failed', {
        workerId: worker.workerId,
        error: describeError(error),
      });
    }
  }

  function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    acceptAuthenticatedUpgrade({
      wss,
      request,
      socket,
      head,
      requirement: { auth: 'worker' },
      token: readBearerToken(request.headers.authorization),
      authenticateToken: deps.authenticateToken,
      logger,
      isClosing: () => closing,
      onAccepted: (ws, principal) => onConnection(ws, principal as WorkerPrincipal),
    });
  }

  const endpoint: WorkerSocket = {
    attach(server) {
      detachers.push(routeUpgrades(server, WORKER_SOCKET_PATH, handleUpgrade));
      return endpoint;
    },
    pushToWorker(workerId, message) {
      const connection = byWorker.get(workerId);
      if (connection?.ws.readyState !== WebSocket.OPEN) return false;
      connection.ws.send(JSON.stringify(message));
      return true;
    },
    isWorkerConnected: (workerId) => byWorker.has(workerId),
    connectedWorkerIds: () => [...byWorker.keys()],
    disconnectWorker(workerId, reason) {
      for (const connection of connections) {
        if (connection.worker.workerId === workerId) connection.ws.close(CLOSE_REVOKED, reason);
      }
    },
    async close() {
      closing = true;
      keepalive.stop();
      for (const detach of detachers.splice(0)) detach();
      await closeAll([...connections].map((c) => c.ws));
      wss.close();
    },
  };
  return endpoint;
}

/** Creates the worker websocket endpoint and routes `server`'s upgrades at its path to it. */
export function attachWorkerSocket(server: Server, deps: WorkerSocketDeps): WorkerSocket {
  return createWorkerSocket(deps).attach(server);
}

/** Closes sockets with 1001 (going away) and waits for them, terminating stragglers. */
export async function closeAll(sockets: WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) {
            resolve();
            return;
          }
          const timer = setTimeout(() => ws.terminate(), CLOSE_TIMEOUT_MS);
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          ws.close(1001, 'the manager is shutting down');
        }),
    ),
  );
}
