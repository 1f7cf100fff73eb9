import type { ErrorRequestHandler, RequestHandler } from 'express';
import { FarmError } from '@farm/core';
import { WWW_AUTHENTICATE } from './authenticate';
import { toErrorResponse } from './error-response';
import { requestState } from './request-context';

/**
 * The one error handler: whatever was thrown (a FarmError, a body-parser error, an ajv error, a
 * bug) becomes `{ code, message, details }` with the status from core's `ERROR_CODE_HTTP_STATUS`.
 * Unknown errors are logged with their stack and answered as `internal` without their message.
 */
export function errorMiddleware(): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    const state = requestState(res);
    const { status, body } = toErrorResponse(error, state.logger, {
      requestId: state.requestId,
      method: req.method,
      path: req.path,
    });
    if (res.headersSent) {
      // Too late for an error body (a stream failed midway): let Express cut the connection.
      next(error);
      return;
    }
    if (body.code === 'unauthenticated') res.setHeader('WWW-Authenticate', WWW_AUTHENTICATE);
    res.status(status).json(body);
  };
}

/** Answers anything no route took with our 404 body. */
export function notFoundHandler(): RequestHandler {
  return (req, _res, next) => {
    next(new FarmError('not_found', `no endpoint ${req.method} ${req.path}`));
  };
}
