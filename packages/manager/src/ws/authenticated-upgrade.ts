import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from 'winston';
import { WWW_AUTHENTICATE, authenticate } from '../http/authenticate';
import { toErrorResponse } from '../http/error-response';
import type { AuthenticateToken, Principal } from '../http/principal';
import { rejectUpgrade } from './upgrade-router';

const SHUTTING_DOWN = { code: 'unavailable', message: 'the manager is shutting down' } as const;

/**
 * Upgrades a request to a websocket only once its bearer token is accepted for `requirement`;
 * otherwise answers with our error body (401 with WWW-Authenticate, 403, or 503 while closing)
 * before any websocket exists. Both sockets (workers, live updates) go through here.
 */
export function acceptAuthenticatedUpgrade(options: {
  wss: WebSocketServer;
  request: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  requirement: Parameters<typeof authenticate>[0];
  token: string | null;
  authenticateToken: AuthenticateToken;
  logger: Logger;
  isClosing(): boolean;
  onAccepted(ws: WebSocket, principal: Principal): void;
}): void {
  const { socket } = options;
  // Errors while we await authentication (the peer hangs up) must not crash the process.
  socket.on('error', () => socket.destroy());
  if (options.isClosing()) {
    rejectUpgrade(socket, 503, SHUTTING_DOWN);
    return;
  }
  authenticate(options.requirement, options.token, options.authenticateToken).then(
    (principal) => {
      if (options.isClosing() || socket.destroyed || !principal) {
        rejectUpgrade(socket, 503, SHUTTING_DOWN);
        return;
      }
      options.wss.handleUpgrade(options.request, socket, options.head, (ws) =>
        options.onAccepted(ws, principal),
      );
    },
    (error: unknown) => {
      const { status, body } = toErrorResponse(error, options.logger);
      rejectUpgrade(
        socket,
        status,
        body,
        status === 401 ? { 'WWW-Authenticate': WWW_AUTHENTICATE } : {},
      );
    },
  );
}
