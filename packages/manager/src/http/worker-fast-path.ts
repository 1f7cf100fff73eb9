import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'winston';
import {
  FarmError,
  OPERATIONS,
  validateOperationInput,
  type OperationSpec,
  type WorkerSocketOperation,
} from '@farm/core';
import type { FarmMetrics } from '../metrics/create-metrics';
import { readBearerToken, WWW_AUTHENTICATE } from './authenticate';
import { authenticateRequest } from './authenticate-request';
import { toErrorResponse, validationFailed } from './error-response';
import type { AuthenticateToken, Principal } from './principal';
import { hasBody, isPlainJsonBody, readJsonBody } from './read-json-body';
import { logRequest, requestIdFor } from './request-context';
import { setSecurityHeaders } from './security-headers';
import {
  WORKER_SOCKET_OPERATIONS,
  runWorkerOperation,
  type WorkerOperationHandlers,
} from './worker-operations';

export interface WorkerFastPathOptions {
  logger: Logger;
  metrics: FarmMetrics;
  authenticateToken: AuthenticateToken;
  workerHandlers: WorkerOperationHandlers;
  jsonBodyLimitBytes: number;
}

/**
 * Serves a request itself and returns true, or returns false without touching it (Express then
 * serves it). See `createWorkerFastPath`.
 */
export type WorkerFastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

interface Route {
  op: WorkerSocketOperation;
  spec: OperationSpec;
  method: string;
  takesJson: boolean;
}

/** A route whose path has one parameter: `prefix{name}suffix`. */
interface ParamRoute extends Route {
  prefix: string;
  suffix: string;
  param: string;
}

function buildRoutes(): { exact: Map<string, Route>; withParam: ParamRoute[] } {
  const exact = new Map<string, Route>();
  const withParam: ParamRoute[] = [];
  for (const [op, operationId] of Object.entries(WORKER_SOCKET_OPERATIONS)) {
    const spec = OPERATIONS[operationId];
    const route: Route = {
      op: op as WorkerSocketOperation,
      spec,
      method: spec.method.toUpperCase(),
      takesJson: spec.contentTypes.includes('application/json'),
    };
    const param = /^(.*)\{([A-Za-z_][A-Za-z0-9_]*)\}([^{}]*)$/.exec(spec.path);
    if (!param) {
      exact.set(`${route.method} ${spec.path}`, route);
    } else if (!param[1]!.includes('{')) {
      withParam.push({ ...route, prefix: param[1]!, suffix: param[3]!, param: param[2]! });
    }
    // A path with two parameters would be left to Express; the worker protocol has none.
  }
  return { exact, withParam };
}

interface Match {
  route: Route;
  params: Record<string, string>;
}

/**
 * Writes an answer as the Express app's `send` does for these operations: no body for 204 or an
 * empty result, else JSON with `application/json; charset=utf-8` and its length.
 */
function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  if (body === undefined || status === 204 || status === 304) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/**
 * The worker protocol over HTTP without Express: the hot path of HTTP workers (claim, task
 * updates, heartbeats) costs several times less CPU per request here than through the Express
 * router, body parser and response helpers (docs/decisions/0022).
 *
 * It takes only requests it can answer exactly as the Express route would: a worker operation's
 * method and exact path without a query string, a bearer token, and either no body or a plain
 * UTF-8 JSON body. Anything else (a session cookie, no credential, another media type or
 * encoding, a trailing slash, an encoded path) returns false and goes to Express, which answers
 * as it always did. What it takes runs the same steps as the Express route, in the same order,
 * with the same functions: request id, access log and metrics, security headers, authentication
 * (401/403 before the body is read), the body limit, validation of the operation's schemas, the
 * handler shared with the worker websocket, and the same error bodies.
 */
export function createWorkerFastPath(options: WorkerFastPathOptions): WorkerFastPath {
  const { logger, metrics, authenticateToken, workerHandlers, jsonBodyLimitBytes } = options;
  const { exact, withParam } = buildRoutes();

  function match(method: string, url: string): Match | null {
    const route = exact.get(`${method} ${url}`);
    if (route) return { route, params: {} };
    for (const candidate of withParam) {
      if (candidate.method !== method) continue;
      if (!url.startsWith(candidate.prefix) || !url.endsWith(candidate.suffix)) continue;
      const value = url.slice(candidate.prefix.length, url.length - candidate.suffix.length);
      // Encoded or multi-segment values are decoded and matched by Express.
      if (value.length === 0 || value.includes('/') || value.includes('%')) continue;
      return { route: candidate, params: { [candidate.param]: value } };
    }
    return null;
  }

  async function serve(
    route: Route,
    params: Record<string, string>,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const startedAt = process.hrtime.bigint();
    const method = req.method ?? 'GET';
    const path = req.url ?? '';
    const requestId = requestIdFor(req.headers);
    let principal: Principal | null = null;
    let controller: AbortController | undefined;
    let gone = false;
    res.setHeader('X-Request-Id', requestId);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      metrics.observeHttp(route.spec.operationId, method, res.statusCode, seconds);
    });
    res.on('close', () => {
      if (!res.writableFinished) {
        gone = true;
        controller?.abort();
      }
      logRequest(logger, {
        requestId,
        method,
        path,
        status: res.statusCode,
        startedAt,
        principal: principal ?? undefined,
        aborted: !res.writableFinished,
      });
    });
    setSecurityHeaders(res);
    try {
      principal = await authenticateRequest(route.spec, method, req.headers, {
        authenticateToken,
      });
      if (principal?.kind !== 'worker') {
        throw new FarmError('forbidden', 'this endpoint is for workers');
      }
      const body =
        route.takesJson && hasBody(req) ? await readJsonBody(req, jsonBodyLimitBytes) : undefined;
      const checked = validateOperationInput(route.spec.operationId, { params, body });
      if (!checked.ok) throw validationFailed(checked.issues);
      const result = await runWorkerOperation(workerHandlers, route.op, principal, {
        params: checked.value.params as { taskId?: string },
        body: checked.value.body,
        // Made on first use, as in Express's request context: most requests never need one.
        get signal() {
          if (!controller) {
            controller = new AbortController();
            if (gone) controller.abort();
          }
          return controller.signal;
        },
        transport: 'http',
      });
      sendJson(res, result.status, result.body);
    } catch (error) {
      const { status, body } = toErrorResponse(error, logger, { requestId, method, path });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (body.code === 'unauthenticated') res.setHeader('WWW-Authenticate', WWW_AUTHENTICATE);
      sendJson(res, status, body);
    }
  }

  return (req, res) => {
    const url = req.url;
    const method = req.method;
    if (url === undefined || method === undefined || url.includes('?')) return false;
    const found = match(method, url);
    if (!found) return false;
    // A session cookie (CSRF rules) or a missing credential: Express's path, with its answers.
    if (readBearerToken(req.headers.authorization) === null) return false;
    if (found.route.takesJson && hasBody(req) && !isPlainJsonBody(req)) return false;
    void serve(found.route, found.params, req, res);
    return true;
  };
}
