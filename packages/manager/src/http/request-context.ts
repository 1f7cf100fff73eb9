import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'winston';
import type { Principal } from './principal';

/** What the transport knows about one request; lives in `res.locals.farm`. */
export interface RequestState {
  requestId: string;
  startedAt: bigint;
  logger: Logger;
  principal?: Principal;
  /** The API operation the request was routed to (for per-operation metrics). */
  operationId?: string;
  /** Aborted when the client goes away before the response is complete. */
  readonly signal: AbortSignal;
  childLogger?: Logger;
}

// A client may pass its own id to correlate logs across systems, if it looks like an id.
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's state; set up by `requestContext()` before anything else runs. */
export function requestState(res: Response): RequestState {
  return (res.locals as { farm: RequestState }).farm;
}

/** A logger tagged with the request id (made on first use). */
export function requestLogger(res: Response): Logger {
  const state = requestState(res);
  return (state.childLogger ??= state.logger.child({ requestId: state.requestId }));
}

function principalLabel(principal: Principal | undefined): string | undefined {
  if (!principal) return undefined;
  return principal.kind === 'user' ? `user:${principal.userId}` : `worker:${principal.workerId}`;
}

/** The request's id: the client's `X-Request-Id` when it looks like one, else a new UUID. */
export function requestIdFor(headers: IncomingHttpHeaders): string {
  const incoming = headers['x-request-id'];
  return typeof incoming === 'string' && CLIENT_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** What the access-log line of one request says. */
export interface AccessLogEntry {
  requestId: string;
  method: string;
  /** Without the query string. */
  path: string;
  status: number;
  startedAt: bigint;
  principal: Principal | undefined;
  /** The client went away before the answer was complete. */
  aborted: boolean;
}

/**
 * Writes one access-log line at the `http` level: method, path, status, duration and who called;
 * never headers, so never a token. Shared by the Express app and the worker fast path.
 */
export function logRequest(logger: Logger, entry: AccessLogEntry): void {
  if (!logger.isLevelEnabled('http')) return;
  logger.http('request', {
    requestId: entry.requestId,
    method: entry.method,
    path: entry.path,
    status: entry.status,
    durationMs: Number(process.hrtime.bigint() - entry.startedAt) / 1e6,
    principal: principalLabel(entry.principal),
    aborted: entry.aborted || undefined,
  });
}

/**
 * Gives every request an id (echoed as `X-Request-Id`) and writes one access-log line when it
 * ends, at the `http` level. The line has the method, the path without its query string, the
 * status, the duration and who called; never headers, so never a token.
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const requestId = requestIdFor(req.headers);
    let controller: AbortController | undefined;
    let gone = false;
    const state: RequestState = {
      requestId,
      startedAt: process.hrtime.bigint(),
      logger,
      // Made on first use: most requests never need one.
      get signal() {
        if (!controller) {
          controller = new AbortController();
          if (gone) controller.abort();
        }
        return controller.signal;
      },
    };
    (res.locals as { farm: RequestState }).farm = state;
    res.setHeader('X-Request-Id', requestId);
    res.on('close', () => {
      if (!res.writableFinished) {
        gone = true;
        controller?.abort();
      }
      logRequest(logger, {
        requestId,
        method: req.method,
        path: req.path,
        status: res.statusCode,
        startedAt: state.startedAt,
        principal: state.principal,
        aborted: !res.writableFinished,
      });
    });
    next();
  };
}
