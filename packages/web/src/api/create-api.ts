import { ApiError } from './api-error';
import type { paths } from './api-types';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The operation object of one path and method in the generated `paths`. */
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;

type JsonContent<R> = R extends { content: { 'application/json': infer J } } ? J : undefined;

/** The JSON body of the success answer (200 or 201); `undefined` for 204 and non-JSON answers. */
export type OkBody<O> = O extends { responses: infer R }
  ? R extends { 200: infer A }
    ? JsonContent<A>
    : R extends { 201: infer A }
      ? JsonContent<A>
      : undefined
  : never;

type Params<O> = O extends { parameters: infer P } ? P : never;
type PathParams<O> = Params<O> extends { path: infer A } ? A : undefined;
type QueryParams<O> = Params<O> extends { query?: infer Q } ? Q : undefined;
type RequestBody<O> = O extends { requestBody?: { content: { 'application/json': infer B } } }
  ? B
  : undefined;

/** What one call takes: path parameters, query parameters and a JSON body, typed by the API. */
export interface CallOptions<O> {
  path?: PathParams<O>;
  query?: QueryParams<O>;
  body?: RequestBody<O>;
  signal?: AbortSignal;
}

export interface ApiOptions {
  /** The token to send, read at each call (it changes on login and logout). */
  getToken(): string | null;
  /**
   * The web session's CSRF token, sent as `X-Farm-CSRF` on changes when there is no bearer token
   * (the session cookie itself goes with every same-origin request).
   */
  getCsrfToken?(): string | null;
  /** Called on a 401, so the app can ask for a token again. */
  onUnauthenticated?(): void;
  fetch?: typeof fetch;
  /** Prefix for every path; empty in the browser (same origin). */
  baseUrl?: string;
}

export interface Api {
  /** Calls one operation of the API; resolves with the success body, rejects with an `ApiError`. */
  call<P extends keyof paths, M extends Method & keyof paths[P]>(
    method: M,
    path: P,
    options?: CallOptions<Operation<P, M>>,
  ): Promise<OkBody<Operation<P, M>>>;
  /** Fetches a path with the token and returns the raw response (logs, images). */
  raw(path: string, init?: RequestInit): Promise<Response>;
}

/** Fills `{name}` placeholders of an API path and appends the query string. */
export function buildUrl(
  path: string,
  pathParams?: Record<string, unknown>,
  query?: Record<string, unknown>,
): string {
  const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = pathParams?.[name];
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new Error(`missing path parameter "${name}" for ${path}`);
    }
    return encodeURIComponent(value);
  });
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value])
      search.append(key, String(item as string | number | boolean));
  }
  const text = search.toString();
  return text ? `${filled}?${text}` : filled;
}

/** A small typed layer over `fetch` that sends the bearer token and turns error bodies into `ApiError`. */
export function createApi(options: ApiOptions): Api {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const base = options.baseUrl ?? '';

  async function raw(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const token = options.getToken();
    if (token) headers.set('Authorization', `Bearer ${token}`);
    const method = (init.method ?? 'GET').toUpperCase();
    const csrf = token ? null : (options.getCsrfToken?.() ?? null);
    if (csrf && method !== 'GET' && method !== 'HEAD') headers.set('X-Farm-CSRF', csrf);
    let response: Response;
    try {
      response = await doFetch(base + path, { ...init, headers });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new ApiError(0, undefined, error instanceof Error ? error.message : String(error));
    }
    if (!response.ok) {
      let body: Partial<{ code: string; message: string; details: unknown }> | undefined;
      try {
        body = (await response.json()) as typeof body;
      } catch {
        body = undefined;
      }
      if (response.status === 401) options.onUnauthenticated?.();
      throw new ApiError(
        response.status,
        body as ConstructorParameters<typeof ApiError>[1],
        `${response.status} ${response.statusText || 'error'}`,
      );
    }
    return response;
  }

  async function call(
    method: Method,
    path: string,
    callOptions: {
      path?: unknown;
      query?: unknown;
      body?: unknown;
      signal?: AbortSignal;
    } = {},
  ): Promise<unknown> {
    const url = buildUrl(
      path,
      callOptions.path as Record<string, unknown> | undefined,
      callOptions.query as Record<string, unknown> | undefined,
    );
    const init: RequestInit = { method: method.toUpperCase(), signal: callOptions.signal };
    if (callOptions.body !== undefined) {
      init.body = JSON.stringify(callOptions.body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    const response = await raw(url, init);
    if (response.status === 204) return undefined;
    const type = response.headers.get('content-type') ?? '';
    return type.includes('json') ? response.json() : undefined;
  }

  return { call: call as Api['call'], raw };
}
