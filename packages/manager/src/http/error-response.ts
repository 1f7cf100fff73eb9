import type { Logger } from 'winston';
import {
  ERROR_CODE_HTTP_STATUS,
  FarmError,
  isFarmError,
  type ErrorCode,
  type FarmErrorBody,
  type ValidationIssue,
} from '@farm/core';
import { isDatabaseUnavailable } from '../db/sqlstate';

/** An error turned into what goes on the wire: an HTTP status and our error body. */
export interface ErrorResponse {
  status: number;
  body: FarmErrorBody;
}

/** Where an error happened, for the log line; never holds credentials. */
export interface ErrorContext {
  requestId?: string;
  method?: string;
  path?: string;
  workerId?: string;
  op?: string;
}

// body-parser (and raw-body) tag their errors with a `type`; these are the ones a client causes.
const BODY_PARSER_CODES: Record<string, ErrorCode> = {
  'entity.too.large': 'payload_too_large',
  'entity.parse.failed': 'bad_request',
  'entity.verify.failed': 'bad_request',
  'request.aborted': 'bad_request',
  'request.size.invalid': 'bad_request',
  'charset.unsupported': 'unsupported_media_type',
  'encoding.unsupported': 'unsupported_media_type',
  'parameters.too.many': 'payload_too_large',
};

interface BodyParserError {
  type: string;
  limit?: number;
  status?: number;
}

function isBodyParserError(value: unknown): value is BodyParserError {
  if (!(value instanceof Error)) return false;
  const type = (value as unknown as Partial<BodyParserError>).type;
  return typeof type === 'string' && Object.hasOwn(BODY_PARSER_CODES, type);
}

interface AjvLikeError {
  errors: Array<{ instancePath?: string; message?: string }>;
}

// Ajv's ValidationError (thrown by async schemas) marks itself with `validation: true`; we duck-type
// it because the manager must not load its own copy of ajv.
function isAjvError(value: unknown): value is AjvLikeError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { validation?: unknown }).validation === true &&
    Array.isArray((value as { errors?: unknown }).errors)
  );
}

function bodyParserMessage(error: BodyParserError, code: ErrorCode): string {
  switch (error.type) {
    case 'entity.too.large':
      return error.limit === undefined
        ? 'the request body is too large'
        : `the request body is larger than the limit of ${error.limit} bytes`;
    case 'entity.parse.failed':
      return 'the request body is not valid JSON';
    case 'request.aborted':
      return 'the request was aborted before its body was read';
    default:
      return code === 'unsupported_media_type'
        ? 'the request body uses an unsupported charset or encoding'
        : 'the request body could not be read';
  }
}

/** The body of a 400 `validation_failed` answer listing every issue. */
export function validationFailed(issues: readonly ValidationIssue[], what = 'request'): FarmError {
  const count = issues.length;
  return new FarmError(
    'validation_failed',
    `the ${what} has ${count} problem${count === 1 ? '' : 's'}`,
    {
      details: { issues },
    },
  );
}

/**
 * Turns anything thrown into a status and our `{ code, message, details }` body. FarmErrors are
 * deliberate and sent as they are; anything else is a bug on our side: it is logged with its
 * stack and the client only learns the request id, never the message (it may hold internals).
 */
export function toErrorResponse(
  error: unknown,
  logger: Logger,
  context: ErrorContext = {},
): ErrorResponse {
  if (isFarmError(error)) {
    const status = ERROR_CODE_HTTP_STATUS[error.code] ?? 500;
    if (status >= 500) logger.error('request failed', { ...context, error: describeError(error) });
    return { status, body: error.toJSON() };
  }
  if (isBodyParserError(error)) {
    const code = BODY_PARSER_CODES[error.type] ?? 'bad_request';
    const details =
      error.type === 'entity.too.large' && error.limit !== undefined
        ? { limitBytes: error.limit }
        : undefined;
    const body: FarmErrorBody = { code, message: bodyParserMessage(error, code) };
    if (details) body.details = details;
    return { status: ERROR_CODE_HTTP_STATUS[code], body };
  }
  if (isAjvError(error)) {
    const issues = error.errors.map((e) => ({
      path: e.instancePath || '/',
      message: e.message ?? 'is invalid',
    }));
    return { status: 400, body: validationFailed(issues).toJSON() };
  }
  if (isDatabaseUnavailable(error)) {
    // Not a bug of ours: the database is down or restarting. The client retries later; the
    // manager itself keeps running and reconnects.
    logger.warn('request failed: the database is unavailable', {
      ...context,
      error: error instanceof Error ? error.message : String(error),
    });
    return {
      status: ERROR_CODE_HTTP_STATUS.unavailable,
      body: { code: 'unavailable', message: 'the database is unavailable; try again shortly' },
    };
  }
  logger.error('unexpected error', { ...context, error: describeError(error) });
  const requestId = context.requestId;
  return {
    status: 500,
    body: {
      code: 'internal',
      message: requestId
        ? `internal error; the manager's log has the details under request id ${requestId}`
        : "internal error; the manager's log has the details",
      ...(requestId ? { details: { requestId } } : {}),
    },
  };
}

/** An error as plain data for a log line (winston's JSON format drops an Error's fields). */
export function describeError(error: unknown): Record<string, unknown> | string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      ...(cause === undefined ? {} : { cause: describeError(cause) }),
    };
  }
  return String(error);
}
