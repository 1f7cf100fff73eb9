import { ApiError, errorLine } from './api-error';
import { buildUrl, createApi } from './create-api';

describe('buildUrl', () => {
  it('fills path parameters and repeats array query parameters', () => {
    expect(buildUrl('/api/v1/jobs/{jobId}', { jobId: 'a b' })).toBe('/api/v1/jobs/a%20b');
    expect(
      buildUrl('/api/v1/jobs', undefined, {
        status: ['queued', 'active'],
        limit: 5,
        cursor: undefined,
      }),
    ).toBe('/api/v1/jobs?status=queued&status=active&limit=5');
  });
});

describe('createApi', () => {
  it('sends the bearer token and a JSON body, and returns the JSON answer', async () => {
    const seen: Array<{
      url: string;
      auth: string | null;
      body: unknown;
      method: string | undefined;
    }> = [];
    const api = createApi({
      getToken: () => 'secret',
      fetch: (url, init) => {
        seen.push({
          url: url as string,
          auth: new Headers(init?.headers).get('Authorization'),
          body: init?.body,
          method: init?.method,
        });
        return Promise.resolve(
          new Response(JSON.stringify({ results: [] }), {
            headers: { 'Content-Type': 'application/json' },
          }),
        );
      },
    });
    const result = await api.call('post', '/api/v1/jobs/actions', {
      body: { jobIds: ['j'], action: 'cancel' },
    });
    expect(result).toEqual({ results: [] });
    expect(seen).toEqual([
      {
        url: '/api/v1/jobs/actions',
        auth: 'Bearer secret',
        body: '{"jobIds":["j"],"action":"cancel"}',
        method: 'POST',
      },
    ]);
  });

  it('turns an error body into one clear line and reports a 401', async () => {
    let signedOut = false;
    const api = createApi({
      getToken: () => 'old',
      onUnauthenticated: () => (signedOut = true),
      fetch: () =>
        Promise.resolve(
          new Response(
            JSON.stringify({
              code: 'unauthenticated',
              message: 'the token is unknown, expired or revoked',
            }),
            {
              status: 401,
            },
          ),
        ),
    });
    const error = await api.call('get', '/api/v1/job-types').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('unauthenticated');
    expect(errorLine(error)).toBe('the token is unknown, expired or revoked');
    expect(signedOut).toBe(true);
  });

  it('names the first validation issue in the line and keeps every issue', async () => {
    const body = {
      code: 'validation_failed',
      message: 'the job is invalid',
      details: {
        issues: [
          { path: 'body.settings.fps', message: 'is required' },
          { path: 'body.name', message: 'is too long' },
        ],
      },
    };
    const api = createApi({
      getToken: () => 't',
      fetch: () => Promise.resolve(new Response(JSON.stringify(body), { status: 400 })),
    });
    const error = (await api.call('get', '/api/v1/job-types').catch((e: unknown) => e)) as ApiError;
    expect(error.issues).toHaveLength(2);
    expect(errorLine(error)).toBe('the job is invalid (body.settings.fps: is required, ...)');
  });

  it('says when the manager cannot be reached', async () => {
    const api = createApi({
      getToken: () => null,
      fetch: () => Promise.reject(new TypeError('fetch failed')),
    });
    const error = await api.call('get', '/api/v1/version').catch((e: unknown) => e);
    expect(errorLine(error)).toBe('Cannot reach the manager: fetch failed');
  });
});
