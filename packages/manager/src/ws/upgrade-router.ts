import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FarmErrorBody } from '@farm/core';

/** Takes over an HTTP upgrade request for one path. */
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

const routers = new WeakMap<Server, Map<string, UpgradeHandler>>();

/**
 * Routes websocket upgrades on `server` by path. One listener per server serves every path, so an
 * upgrade for an unknown path is refused (404) instead of hanging with nobody answering it.
 * Returns the function that removes the route.
 */
export function routeUpgrades(
  server: Server,
  pathname: string,
  handler: UpgradeHandler,
): () => void {
  let routes = routers.get(server);
  if (!routes) {
    const table = new Map<string, UpgradeHandler>();
    routes = table;
    routers.set(server, table);
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = (request.url ?? '/').split('?', 1)[0] ?? '/';
      const route = table.get(path);
      if (route) route(request, socket, head);
      else
        rejectUpgrade(socket, 404, {
          code: 'not_found',
          message: `no websocket endpoint at ${path}`,
        });
    });
  }
  routes.set(pathname, handler);
  return () => {
    if (routes.get(pathname) === handler) routes.delete(pathname);
  };
}

/** Answers an upgrade request with a plain HTTP error (our error body) and closes the socket. */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  body: FarmErrorBody,
  headers: Record<string, string> = {},
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const json = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(json)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  // A peer that never reads must not keep the socket: destroy it once the answer is flushed.
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${json}`);
}
