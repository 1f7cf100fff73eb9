import express from 'express';
import type { Logger } from 'winston';
import { openApiDocument, type Readiness } from '@farm/core';
import { createApiDocsRouter } from './api-docs-page';
import { defineOperation, respond, type OperationDefinition } from './define-operation';
import { errorMiddleware, notFoundHandler } from './error-middleware';
import { describeError } from './error-response';
import { createOperationRouter } from './operation-router';
import type { AuthenticateToken } from './principal';
import { requestContext } from './request-context';
import { createWebAppRouter } from './web-app';
import { createWorkerHttpOperations } from './worker-http-operations';
import type { WorkerOperationHandlers } from './worker-operations';

/** Everything the HTTP app needs; the services supply the database-backed parts. */
export interface AppDeps {
  logger: Logger;
  /** Resolves a bearer token to its principal, or null (see `AuthenticateToken`). */
  authenticateToken: AuthenticateToken;
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
  /** Express's `trust proxy` setting, for deployments behind a load balancer. */
  trustProxy?: boolean | number | string;
}

export const DEFAULT_JSON_BODY_LIMIT_BYTES = 1024 * 1024;
export const DEFAULT_UPLOAD_BODY_LIMIT_BYTES = 10 * 1024 * 1024;

/** The farm app with its operations; `app.locals.unimplementedOperations` lists the 501s. */
export type FarmApp = express.Express;

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

/**
 * Builds the manager's Express app. In order: request id and access log, security headers, the
 * API explorer, every operation of the API document (authentication, body reading, validation,
 * handler), our 404 for unknown API paths, the web app with its SPA fallback, and one error
 * handler that turns anything thrown into our error body. No side effects beyond the app itself.
 */
export function createApp(deps: AppDeps): FarmApp {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', deps.trustProxy ?? false);
  app.use(requestContext(deps.logger));
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    next();
  });
  app.use(createApiDocsRouter());
  const { router, unimplemented } = createOperationRouter(
    [
      ...metaOperations(deps),
      ...createWorkerHttpOperations(deps.workerHandlers),
      ...(deps.operations ?? []),
    ],
    {
      authenticateToken: deps.authenticateToken,
      jsonBodyLimitBytes: deps.jsonBodyLimitBytes ?? DEFAULT_JSON_BODY_LIMIT_BYTES,
      uploadBodyLimitBytes: deps.uploadBodyLimitBytes ?? DEFAULT_UPLOAD_BODY_LIMIT_BYTES,
    },
  );
  app.locals.unimplementedOperations = unimplemented;
  app.use(router);
  app.use('/api', notFoundHandler());
  app.use(createWebAppRouter(deps.webDir));
  app.use(notFoundHandler());
  app.use(errorMiddleware());
  return app;
}
