import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { Logger } from 'winston';
import { openApiDocument, type Readiness } from '@farm/core';
import { createMetrics, type FarmMetrics } from '../metrics/create-metrics';
import { createApiDocsRouter } from './api-docs-page';
import { defineOperation, respond, type OperationDefinition } from './define-operation';
import { errorMiddleware, notFoundHandler } from './error-middleware';
import { describeError } from './error-response';
import { createOperationRouter, type OperationRouterOptions } from './operation-router';
import type { AuditRecord } from '../services/auth/audit-log';
import type { AuthenticateSession, AuthenticateToken } from './principal';
import { requestContext, requestState } from './request-context';
import { setSecurityHeaders } from './security-headers';
import { createWebAppRouter } from './web-app';
import { createWorkerFastPath } from './worker-fast-path';
import { createWorkerHttpOperations } from './worker-http-operations';
import type { WorkerOperationHandlers } from './worker-operations';

/** Everything the HTTP app needs; the services supply the database-backed parts. */
export interface AppDeps {
  logger: Logger;
  /** Resolves a bearer token to its principal, or null (see `AuthenticateToken`). */
  authenticateToken: AuthenticateToken;
  /** Resolves the web session cookie (issue 7); without it only bearer tokens work. */
  authenticateSession?: AuthenticateSession;
  /** Records successful changes made by people (the audit log). */
  audit?: (record: AuditRecord) => Promise<void>;
  /** Checks the caller's role in the project of the job or task a path names (issue 7). */
  authorizeResource?: OperationRouterOptions['authorizeResource'];
  /** `/readyz`: 200 with the body when `ready`, else 503 with the same body. */
  readiness(): Promise<Readiness>;
  /** `/api/v1/version`; `apiVersion` is added from the API document. */
  version: { name: string; version: string };
  /** The worker protocol, shared with the worker websocket. */
  workerHandlers: WorkerOperationHandlers;
  /** Handlers of the other operations (`defineOperation(...)`); missing ones answer 501. */
  operations?: Iterable<OperationDefinition>;
  /** The web app's build folder (packages/web/dist); a placeholder page is served without it. */
  webDir?: string;
  /** Largest JSON body accepted; 1 MiB by default. */
  jsonBodyLimitBytes?: number;
  /** Largest upload (task output images) accepted; 10 MiB by default. */
  uploadBodyLimitBytes?: number;
  /** The process's metrics (`/metrics`); a registry of the app's own (no farm gauges) by default. */
  metrics?: FarmMetrics;
  /** Express's `trust proxy` setting, for deployments behind a load balancer. */
  trustProxy?: boolean | number | string;
}

export const DEFAULT_JSON_BODY_LIMIT_BYTES = 1024 * 1024;
export const DEFAULT_UPLOAD_BODY_LIMIT_BYTES = 10 * 1024 * 1024;

/**
 * The farm's request listener (give it to `startServer`): the worker fast path first, then the
 * Express app. `locals.unimplementedOperations` lists the operations that answer 501.
 */
export interface FarmApp {
  (req: IncomingMessage, res: ServerResponse): void;
  readonly locals: Record<string, unknown>;
}

function metaOperations(deps: AppDeps): OperationDefinition[] {
  const version = { ...deps.version, apiVersion: openApiDocument.info.version };
  return [
    defineOperation('getHealth', () => ({ status: 'ok' })),
    defineOperation('getReadiness', async () => {
      // A failing check means "not ready", not a server error: the probe's caller acts on 503.
      const readiness = await deps.readiness().catch((error: unknown): Readiness => {
        // Unauthenticated probe: the details (hosts, messages) go to the log, not the answer.
        deps.logger.error('readiness check failed', { error: describeError(error) });
        return {
          ready: false,
          checks: { manager: { ok: false, message: 'the readiness check failed' } },
        };
      });
      return respond(readiness.ready ? 200 : 503, readiness, { 'Cache-Control': 'no-store' });
    }),
    defineOperation('getVersion', () => version),
    defineOperation('getOpenApiDocument', () => openApiDocument),
  ];
}

function metricsOperation(metrics: FarmMetrics): OperationDefinition {
  return defineOperation('getMetrics', async () =>
    respond(200, await metrics.render(), {
      'Content-Type': metrics.contentType,
      'Cache-Control': 'no-store',
    }),
  );
}

/**
 * Builds the manager's request listener. Worker-protocol calls that the worker fast path can
 * answer exactly as Express would skip Express (`worker-fast-path.ts`); everything else goes to
 * the Express app. In order: request id and access log, security headers, the API explorer, every
 * operation of the API document (authentication, body reading, validation, handler), our 404 for
 * unknown API paths, the web app with its SPA fallback, and one error handler that turns anything
 * thrown into our error body. No side effects beyond the app itself.
 */
export function createApp(deps: AppDeps): FarmApp {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', deps.trustProxy ?? false);
  app.use(requestContext(deps.logger));
  const metrics = deps.metrics ?? createMetrics();
  const jsonBodyLimitBytes = deps.jsonBodyLimitBytes ?? DEFAULT_JSON_BODY_LIMIT_BYTES;
  app.use((_req, res, next) => {
    res.on('finish', () => {
      const state = requestState(res);
      const seconds = Number(process.hrtime.bigint() - state.startedAt) / 1e9;
      metrics.observeHttp(state.operationId ?? 'other', _req.method, res.statusCode, seconds);
    });
    next();
  });
  app.use((_req, res, next) => {
    setSecurityHeaders(res);
    next();
  });
  app.use(createApiDocsRouter());
  const { router, unimplemented } = createOperationRouter(
    [
      ...metaOperations(deps),
      metricsOperation(metrics),
      ...createWorkerHttpOperations(deps.workerHandlers),
      ...(deps.operations ?? []),
    ],
    {
      authenticateToken: deps.authenticateToken,
      ...(deps.authenticateSession ? { authenticateSession: deps.authenticateSession } : {}),
      ...(deps.audit ? { audit: deps.audit } : {}),
      ...(deps.authorizeResource ? { authorizeResource: deps.authorizeResource } : {}),
      jsonBodyLimitBytes,
      uploadBodyLimitBytes: deps.uploadBodyLimitBytes ?? DEFAULT_UPLOAD_BODY_LIMIT_BYTES,
    },
  );
  app.locals.unimplementedOperations = unimplemented;
  app.use(router);
  app.use('/api', notFoundHandler());
  app.use(createWebAppRouter(deps.webDir));
  app.use(notFoundHandler());
  app.use(errorMiddleware());
  const fastPath = createWorkerFastPath({
    logger: deps.logger,
    metrics,
    authenticateToken: deps.authenticateToken,
    workerHandlers: deps.workerHandlers,
    jsonBodyLimitBytes,
  });
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    if (!fastPath(req, res)) app(req, res);
  };
  return Object.assign(listener, { locals: app.locals as Record<string, unknown> });
}
