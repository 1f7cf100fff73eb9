import type { Readable } from 'node:stream';
import type { Logger } from 'winston';
import { FarmError, OPERATIONS, type OperationId, type OperationInput } from '@farm/core';
import type { Principal } from './principal';

/** What a handler receives: the validated params, query and body, and who is calling. */
export type HandlerInput<K extends OperationId> = OperationInput<K> & {
  /** null for `auth: none` operations; otherwise the authorised caller. */
  principal: Principal | null;
  /** The request body as bytes, for operations that take a non-JSON body (image uploads). */
  rawBody?: Buffer;
  /**
   * The request body as an unread stream, for operations that take only
   * `application/octet-stream` (file uploads); the handler reads it (or `resume()`s it).
   */
  bodyStream?: Readable;
  /** The request's media type (without parameters), when it had a body. */
  contentType?: string;
  /** The client's address (as Express's `trust proxy` setting sees it), for the audit log. */
  address?: string;
  /** The request headers (lower-case names), for conditional requests such as If-None-Match. */
  headers?: Readonly<Record<string, string | string[] | undefined>>;
};

/** Per-request context for logging and cancellation. */
export interface HandlerContext {
  requestId: string;
  /** A logger that tags every line with the request id. */
  logger: Logger;
  /** Aborted when the client disconnects before the answer is sent (e.g. a long poll). */
  signal: AbortSignal;
}

const RESPONSE = Symbol('farm.operationResponse');

/** A response with an explicit status, headers or a non-JSON body; made by `respond()`. */
export interface OperationResponse {
  readonly [RESPONSE]: true;
  readonly status: number;
  /**
   * JSON-serialisable data; or a Buffer, string or Readable sent as is (set `Content-Type` in
   * headers); or undefined for no body.
   */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Builds a response with a status other than 200, headers, or no body: `respond(201, job)`,
 * `respond(204)`. A handler that returns anything else answers 200 with it as JSON. (Results are
 * branded rather than duck-typed because API objects such as jobs have a `status` field too.)
 */
export function respond(
  status: number,
  body?: unknown,
  headers?: Readonly<Record<string, string>>,
): OperationResponse {
  return { [RESPONSE]: true, status, body, ...(headers ? { headers } : {}) };
}

/** True for a value built by `respond()`. */
export function isOperationResponse(value: unknown): value is OperationResponse {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[RESPONSE] === true
  );
}

export type OperationHandler<K extends OperationId> = (
  input: HandlerInput<K>,
  ctx: HandlerContext,
) => unknown;

/** An operation's handler, bound to its operationId; routed by `createApp`. */
export interface OperationDefinition<K extends OperationId = OperationId> {
  readonly operationId: K;
  readonly handler: OperationHandler<K>;
}

/**
 * Binds a handler to an operation of the API document. The method, path, credential kind, scope
 * and input schemas all come from core's operations table, so a route cannot drift from the spec;
 * the input is validated before `handler` runs, and the handler only sees valid input.
 *
 * @example
 * defineOperation('getJob', async ({ params }) => jobs.get(params.jobId))
 */
export function defineOperation<K extends OperationId>(
  operationId: K,
  handler: OperationHandler<K>,
): OperationDefinition<K> {
  if (!Object.hasOwn(OPERATIONS, operationId)) {
    throw new FarmError('internal', `the API document has no operation "${operationId}"`);
  }
  return { operationId, handler };
}
