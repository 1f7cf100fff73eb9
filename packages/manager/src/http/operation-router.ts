import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  FarmError,
  OPERATIONS,
  validateOperationInput,
  type OperationId,
  type OperationSpec,
} from '@farm/core';
import type { AuditRecord } from '../services/auth/audit-log';
import { auditDetails } from '../services/auth/audit-log';
import { authenticateRequest } from './authenticate-request';
import { validationFailed } from './error-response';
import {
  isOperationResponse,
  respond,
  type HandlerContext,
  type HandlerInput,
  type OperationDefinition,
  type OperationResponse,
} from './define-operation';
import type { AuthenticateSession, AuthenticateToken, Principal } from './principal';
import { hasBody } from './read-json-body';
import { requestLogger, requestState } from './request-context';

export interface OperationRouterOptions {
  authenticateToken: AuthenticateToken;
  /** Resolves the web session cookie; without it only bearer tokens work. */
  authenticateSession?: AuthenticateSession;
  /**
   * Checks a user may act on the job or task an operation's path names (`{jobId}`, `{taskId}`),
   * before the body is read; throws `forbidden`. Every operation with such a path gets it.
   */
  authorizeResource?: (
    spec: OperationSpec,
    params: Readonly<Record<string, string>>,
    principal: Principal,
  ) => Promise<void>;
  /** Called after every successful user call that changes something (the audit log). */
  audit?: (record: AuditRecord) => Promise<void>;
  jsonBodyLimitBytes: number;
  uploadBodyLimitBytes: number;
}

/** The router of every operation in core's table, and the operations nobody implemented yet. */
export interface OperationRouter {
  router: Router;
  unimplemented: OperationId[];
}

/** `/api/v1/jobs/{jobId}` → `/api/v1/jobs/:jobId`. */
export function toExpressPath(template: string): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ':$1');
}

/** Operation ids of the table that `registered` does not cover, sorted. */
export function findUnimplementedOperations(registered: Iterable<OperationId>): OperationId[] {
  const have = new Set(registered);
  return (Object.keys(OPERATIONS) as OperationId[]).filter((id) => !have.has(id)).sort();
}

// Literal segments must be tried before parameters (`/jobs/summary` before `/jobs/{jobId}`),
// whatever order the table lists them in.
function compareSpecificity(a: OperationSpec, b: OperationSpec): number {
  const sa = a.path.split('/');
  const sb = b.path.split('/');
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const pa = sa[i]!.startsWith('{');
    const pb = sb[i]!.startsWith('{');
    if (pa !== pb) return pa ? 1 : -1;
  }
  return sb.length - sa.length;
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function runParser(parser: RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    void parser(req, res, (error?: unknown) => (error ? reject(toError(error)) : resolve()));
  });
}

/** An operation no handler is registered for: 501, so clients and the routing test see it. */
function notImplemented(operationId: OperationId): OperationResponse {
  return respond(501, {
    code: 'internal',
    message: `${operationId} is not implemented yet`,
    details: { operationId, notImplemented: true },
  });
}

async function send(res: Response, result: unknown): Promise<void> {
  const response = isOperationResponse(result) ? result : respond(200, result);
  res.status(response.status);
  for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
  const body = response.body;
  if (body === undefined || response.status === 204 || response.status === 304) {
    res.end();
  } else if (body instanceof Readable) {
    if (!res.hasHeader('Content-Type')) res.type('application/octet-stream');
    await pipeline(body, res);
  } else if (Buffer.isBuffer(body)) {
    if (!res.hasHeader('Content-Type')) res.type('application/octet-stream');
    res.send(body);
  } else if (typeof body === 'string' && res.hasHeader('Content-Type')) {
    res.send(body);
  } else {
    res.json(body);
  }
}

/**
 * Mounts every operation of core's table: the handler from `definitions` when there is one, a 501
 * otherwise. Per request, in this order: authenticate and authorise (before reading any body, so
 * an anonymous client cannot make us parse a megabyte), read the body (JSON up to the JSON limit;
 * the operation's own media types, such as images, as bytes up to the upload limit), validate
 * params, query and body against the operation's schemas, run the handler, send its answer.
 */
export function createOperationRouter(
  definitions: Iterable<OperationDefinition>,
  options: OperationRouterOptions,
): OperationRouter {
  const handlers = new Map<OperationId, OperationDefinition>();
  for (const definition of definitions) {
    if (handlers.has(definition.operationId)) {
      throw new FarmError('internal', `operation ${definition.operationId} is registered twice`);
    }
    handlers.set(definition.operationId, definition);
  }
  const jsonParser = express.json({
    limit: options.jsonBodyLimitBytes,
    type: ['application/json', 'application/*+json'],
  });
  const router = Router();
  const specs = Object.values(OPERATIONS).sort(compareSpecificity);
  for (const spec of specs) {
    const definition = handlers.get(spec.operationId);
    const takesJson = spec.contentTypes.some((type) => type === 'application/json');
    // An operation that takes only `application/octet-stream` (file-store uploads) gets the
    // request itself as a stream: files can be far larger than any body we would hold in memory.
    const streamsBody =
      spec.contentTypes.length === 1 && spec.contentTypes[0] === 'application/octet-stream';
    const rawParser =
      spec.contentTypes.length > 0 && !takesJson && !streamsBody
        ? express.raw({ type: [...spec.contentTypes], limit: options.uploadBodyLimitBytes })
        : undefined;

    const handle = async (req: Request, res: Response): Promise<void> => {
      requestState(res).operationId = spec.operationId;
      const principal = await authenticateRequest(spec, req.method, req.headers, options);
      if (principal) requestState(res).principal = principal;
      if (principal?.kind === 'user' && options.authorizeResource) {
        await options.authorizeResource(spec, req.params as Record<string, string>, principal);
      }
      if (!definition) {
        await send(res, notImplemented(spec.operationId));
        return;
      }
      let contentType: string | undefined;
      if (hasBody(req) && spec.contentTypes.length > 0) {
        contentType = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
        if (!req.is([...spec.contentTypes, ...(takesJson ? ['application/*+json'] : [])])) {
          throw new FarmError(
            'unsupported_media_type',
            `send the body as ${spec.contentTypes.join(' or ')}`,
            {
              details: { accepted: spec.contentTypes },
            },
          );
        }
        if (!streamsBody) await runParser(rawParser ?? jsonParser, req, res);
      }
      const rawBody =
        rawParser && Buffer.isBuffer(req.body) && req.body.length > 0 ? req.body : undefined;
      if (rawParser && spec.bodyRequired && !rawBody) {
        throw validationFailed([
          { path: 'body', message: `is required (${spec.contentTypes.join(' or ')})` },
        ]);
      }
      const checked = validateOperationInput(spec.operationId, {
        params: req.params,
        query: req.query,
        body: rawParser || streamsBody ? undefined : (req.body as unknown),
      });
      if (!checked.ok) throw validationFailed(checked.issues);
      const input = {
        ...checked.value,
        principal,
        headers: req.headers,
        address: req.ip ?? req.socket.remoteAddress ?? '',
        ...(rawBody ? { rawBody } : {}),
        ...(streamsBody ? { bodyStream: req } : {}),
        ...(contentType ? { contentType } : {}),
      } as HandlerInput<OperationId>;
      const state = requestState(res);
      const ctx: HandlerContext = {
        requestId: state.requestId,
        logger: requestLogger(res),
        signal: state.signal,
      };
      const result: unknown = await (
        definition.handler as (i: typeof input, c: HandlerContext) => unknown
      )(input, ctx);
      // Every change a person makes is audited here, so a new operation cannot be missed; the
      // body is reduced to whitelisted fields (never passwords or secrets). Written before the
      // answer goes out, so a client that sees its change done also finds it in the log.
      const status = isOperationResponse(result) ? result.status : 200;
      if (options.audit && principal?.kind === 'user' && spec.method !== 'get' && status < 400) {
        await options.audit({
          actor: { id: principal.userId, name: principal.name },
          action: spec.operationId,
          target: { ...(req.params as Record<string, string>) },
          status,
          address: input.address ?? '',
          details: auditDetails(req.body),
        });
      }
      await send(res, result);
    };
    router[spec.method](toExpressPath(spec.path), handle);
  }
  return { router, unimplemented: findUnimplementedOperations(handlers.keys()) };
}
