import { FarmError, ERROR_CODES, type ErrorCode } from '@farm/core';
import { API_PREFIX, apiPlatform } from './protocol';

const KNOWN_CODES = new Set<string>(ERROR_CODES);
const DEFAULT_TIMEOUT_MS = 10_000;

export interface ManagerVersion {
  name: string;
  version: string;
  apiVersion: string;
}

interface CallOptions {
  token?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * One HTTP call to the manager. Resolves with the status and parsed JSON body for any HTTP answer;
 * rejects with FarmError `unavailable` when the manager cannot be reached.
 */
export async function callManager(
  baseUrl: string,
  method: string,
  pathname: string,
  body: unknown,
  options: CallOptions & { contentType?: string } = {},
): Promise<{ status: number; body: unknown }> {
  const signals = [AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS)];
  if (options.signal) signals.push(options.signal);
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let payload: string | Uint8Array | undefined;
  if (body instanceof Uint8Array) {
    headers['content-type'] = options.contentType ?? 'application/octet-stream';
    payload = body;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(new URL(pathname, baseUrl + '/'), {
      method,
      headers,
      body: payload,
      signal: AbortSignal.any(signals),
    });
  } catch (error) {
    throw new FarmError(
      'unavailable',
      `cannot reach the manager at ${baseUrl}: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
  const text = await response.text().catch(() => '');
  let parsed: unknown = undefined;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: response.status, body: parsed };
}

/** Turns an error answer into a FarmError carrying the manager's code and message. */
export function managerError(status: number, body: unknown, what: string): FarmError {
  const b = body as { code?: unknown; message?: unknown } | undefined;
  const code: ErrorCode =
    typeof b?.code === 'string' && KNOWN_CODES.has(b.code)
      ? (b.code as ErrorCode)
      : status === 401
        ? 'unauthenticated'
        : status >= 500
          ? 'unavailable'
          : 'bad_request';
  const message = typeof b?.message === 'string' ? b.message : `HTTP ${status}`;
  return new FarmError(code, `${what}: ${message}`, { details: { status } });
}

/** `GET /api/v1/version`: is there a Farm manager at this URL? */
export async function fetchManagerVersion(
  baseUrl: string,
  options: CallOptions = {},
): Promise<ManagerVersion> {
  const { status, body } = await callManager(
    baseUrl,
    'GET',
    `${API_PREFIX}/version`,
    undefined,
    options,
  );
  const v = body as Partial<ManagerVersion> | undefined;
  if (status !== 200 || typeof v?.version !== 'string')
    throw new FarmError(
      'unavailable',
      `${baseUrl} does not answer like a Farm manager (HTTP ${status})`,
    );
  return { name: String(v.name ?? ''), version: v.version, apiVersion: String(v.apiVersion ?? '') };
}

export interface RegisterWorkerInput {
  secret: string;
  name: string;
  taskTypes: string[];
  tags: string[];
}

/**
 * Registers a new worker with the farm's registration secret.
 * @throws FarmError `forbidden` for a wrong secret, `unavailable` when the manager is unreachable.
 */
export async function registerWorker(
  baseUrl: string,
  input: RegisterWorkerInput,
  options: CallOptions = {},
): Promise<{ workerId: string; token: string }> {
  const { status, body } = await callManager(
    baseUrl,
    'POST',
    `${API_PREFIX}/worker/register`,
    {
      secret: input.secret,
      name: input.name,
      platform: apiPlatform(),
      taskTypes: input.taskTypes,
      ...(input.tags.length > 0 ? { tags: input.tags } : {}),
    },
    options,
  );
  const result = body as { workerId?: unknown; token?: unknown } | undefined;
  if (
    (status === 200 || status === 201) &&
    typeof result?.workerId === 'string' &&
    typeof result.token === 'string'
  )
    return { workerId: result.workerId, token: result.token };
  throw managerError(status, body, 'registration refused');
}

/** Uploads an image for the last-rendered view; resolves with the HTTP status. */
export async function uploadTaskOutput(
  baseUrl: string,
  token: string,
  taskId: string,
  image: Uint8Array,
  contentType: 'image/jpeg' | 'image/png',
  options: CallOptions = {},
): Promise<number> {
  const { status } = await callManager(
    baseUrl,
    'POST',
    `${API_PREFIX}/worker/tasks/${encodeURIComponent(taskId)}/output`,
    image,
    { ...options, token, contentType, timeoutMs: options.timeoutMs ?? 30_000 },
  );
  return status;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const inner = cause instanceof Error ? ` (${cause.message})` : '';
    return `${error.message}${inner}`;
  }
  return String(error);
}
