import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openApiDocument } from '@farm/core';
import { defineOperation, respond } from '../../src/http/define-operation';
import { JOB_ID, TOKENS, bearer, json, startTestManager, type TestManager } from './test-app';

describe('the manager HTTP app', () => {
  let manager: TestManager;
  const submitted: unknown[] = [];

  beforeAll(async () => {
    manager = await startTestManager({
      operations: [
        defineOperation('submitJob', ({ body, principal }) => {
          submitted.push(body);
          return respond(201, {
            received: body,
            by: principal?.kind === 'user' ? principal.userId : null,
          });
        }),
        defineOperation('listJobs', ({ query }) => ({ items: [], nextCursor: null, query })),
        defineOperation('getJob', () => {
          throw new Error('connection to db-host:5432 failed: password=hunter2');
        }),
        defineOperation('uploadTaskOutput', ({ rawBody, contentType, params }) =>
          respond(202, { bytes: rawBody?.length, contentType, taskId: params.taskId }),
        ),
      ],
    });
  });
  afterAll(() => manager.close());
  beforeEach(() => {
    submitted.length = 0;
  });

  const get = (p: string, headers: Record<string, string> = {}) =>
    fetch(`${manager.url}${p}`, { headers });
  const postJson = (p: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${manager.url}${p}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  describe('meta endpoints', () => {
    it('answers /healthz without a credential', async () => {
      const res = await get('/healthz');
      expect(res.status).toBe(200);
      expect(await json(res)).toEqual({ status: 'ok' });
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('answers /readyz from the readiness check, 503 with the reason when not ready', async () => {
      expect((await get('/readyz')).status).toBe(200);
      manager.readiness.value = {
        ready: false,
        checks: { database: { ok: false, message: 'connection refused' } },
      };
      try {
        const res = await get('/readyz');
        expect(res.status).toBe(503);
        expect(await json(res)).toEqual(manager.readiness.value);
      } finally {
        manager.readiness.value = { ready: true, checks: { database: { ok: true } } };
      }
    });

    it('answers /readyz with 503 when the check itself fails, without its details', async () => {
      const failing = await startTestManager({
        app: {
          readiness: () => Promise.reject(new Error('connect ECONNREFUSED db.internal:5432')),
        },
      });
      try {
        const res = await fetch(`${failing.url}/readyz`);
        expect(res.status).toBe(503);
        const text = await res.text();
        expect(JSON.parse(text)).toMatchObject({ ready: false });
        expect(text).not.toContain('db.internal');
        expect(failing.logs.text()).toContain('db.internal');
      } finally {
        await failing.close();
      }
    });

    it('serves the version with the API version of the document', async () => {
      const res = await get('/api/v1/version');
      expect(await json(res)).toEqual({
        name: 'Test Farm',
        version: '0.1.0',
        apiVersion: openApiDocument.info.version,
      });
    });

    it('serves the OpenAPI document', async () => {
      const res = await get('/api/v1/openapi.json');
      expect(res.status).toBe(200);
      const doc = (await json(res)) as typeof openApiDocument;
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.paths)).toEqual(Object.keys(openApiDocument.paths));
    });

    it('serves an explorer page that loads only its own script and the document', async () => {
      const res = await get('/api/docs');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await res.text();
      expect(html).toContain('/api/docs/explorer.js');
      expect(html).not.toMatch(/https?:\/\//);
      const script = await (await get('/api/docs/explorer.js')).text();
      expect(script).toContain("fetch('/api/v1/openapi.json')");
      expect(script).toContain("'Bearer ' + state.token");
      expect(script).not.toContain('innerHTML');
      expect((await get('/api/docs/explorer.css')).status).toBe(200);
    });
  });

  describe('credentials', () => {
    it('refuses a missing token with 401 and WWW-Authenticate', async () => {
      const res = await get('/api/v1/jobs');
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await json(res)).toMatchObject({ code: 'unauthenticated' });
    });

    it('refuses an unknown or malformed token with 401', async () => {
      for (const header of [
        'Bearer nope',
        'Basic dXNlcjpwYXNz',
        'Bearer',
        `Bearer ${'x'.repeat(600)}`,
      ]) {
        const res = await get('/api/v1/jobs', { Authorization: header });
        expect(res.status).toBe(401);
        expect((await json(res)).code).toBe('unauthenticated');
      }
    });

    it('refuses a worker token on a user endpoint and a user token on a worker endpoint with 403', async () => {
      const asWorker = await get('/api/v1/jobs', bearer(TOKENS.worker));
      expect(asWorker.status).toBe(403);
      expect((await json(asWorker)).code).toBe('forbidden');
      const asUser = await postJson('/api/v1/worker/heartbeat', {}, bearer(TOKENS.admin));
      expect(asUser.status).toBe(403);
    });

    it('refuses a token without the scope with 403, before looking at the body', async () => {
      const res = await postJson(
        '/api/v1/jobs',
        { name: 'x', type: 'echo-sleep-test' },
        bearer(TOKENS.reader),
      );
      expect(res.status).toBe(403);
      expect(await json(res)).toMatchObject({
        code: 'forbidden',
        details: { requiredScope: 'jobs:write' },
      });
      expect(submitted).toHaveLength(0);
    });

    it('lets the reader read and the admin write', async () => {
      expect((await get('/api/v1/jobs', bearer(TOKENS.reader))).status).toBe(200);
      const res = await postJson(
        '/api/v1/jobs',
        { name: 'Shot 010', type: 'echo-sleep-test' },
        bearer(TOKENS.admin),
      );
      expect(res.status).toBe(201);
      expect(await json(res)).toEqual({
        received: {
          name: 'Shot 010',
          type: 'echo-sleep-test',
          priority: 50,
          initialStatus: 'queued',
        },
        by: 'u-admin',
      });
    });

    it('never writes a token into the log', async () => {
      await get('/api/v1/jobs', bearer(TOKENS.reader));
      await get('/api/v1/jobs', bearer('secret-unknown-token-value'));
      await get('/api/v1/jobs?token=secret-in-query');
      const text = manager.logs.text();
      expect(text).toContain('"path":"/api/v1/jobs"');
      expect(text).not.toContain(TOKENS.reader);
      expect(text).not.toContain('secret-unknown-token-value');
      expect(text).not.toContain('secret-in-query');
    });
  });

  describe('input validation', () => {
    it('lists every problem of a body at once and never calls the handler', async () => {
      const res = await postJson(
        '/api/v1/jobs',
        { type: 42, priority: 'high', colour: 'red' },
        bearer(TOKENS.admin),
      );
      expect(res.status).toBe(400);
      const body = await json(res);
      expect(body.code).toBe('validation_failed');
      const paths = (body.details.issues as Array<{ path: string }>)
        .map((issue) => issue.path)
        .sort();
      expect(paths).toEqual(['body.colour', 'body.name', 'body.priority', 'body.type']);
      expect(submitted).toHaveLength(0);
    });

    it('checks query parameters and path parameters', async () => {
      const res = await get('/api/v1/jobs?limit=lots&bogus=1', bearer(TOKENS.admin));
      expect(res.status).toBe(400);
      const paths = ((await json(res)).details.issues as Array<{ path: string }>)
        .map((i) => i.path)
        .sort();
      expect(paths).toEqual(['query.bogus', 'query.limit']);
      const bad = await get('/api/v1/jobs/not-a-uuid', bearer(TOKENS.admin));
      expect(bad.status).toBe(400);
      expect((await json(bad)).details.issues).toEqual([
        { path: 'params.jobId', message: 'must be a valid uuid' },
      ]);
    });

    it('hands the handler coerced query values', async () => {
      const res = await get('/api/v1/jobs?limit=5', bearer(TOKENS.admin));
      expect((await json(res)).query).toMatchObject({ limit: 5 });
    });

    it('answers 400 for a body that is not JSON and 415 for another media type', async () => {
      const broken = await postJson('/api/v1/jobs', '{"name": ', bearer(TOKENS.admin));
      expect(broken.status).toBe(400);
      expect((await json(broken)).code).toBe('bad_request');
      const text = await fetch(`${manager.url}/api/v1/jobs`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', ...bearer(TOKENS.admin) },
        body: 'name=x',
      });
      expect(text.status).toBe(415);
      expect((await json(text)).code).toBe('unsupported_media_type');
    });

    it('answers 413 with our error body for an oversized JSON body', async () => {
      const res = await postJson(
        '/api/v1/jobs',
        { name: 'x'.repeat(1024 * 1024 + 10), type: 'a' },
        bearer(TOKENS.admin),
      );
      expect(res.status).toBe(413);
      expect(await json(res)).toMatchObject({
        code: 'payload_too_large',
        details: { limitBytes: 1024 * 1024 },
      });
      expect(submitted).toHaveLength(0);
    });
  });

  describe('image uploads', () => {
    const upload = (body: Buffer, type: string, token: string = TOKENS.worker) =>
      fetch(`${manager.url}/api/v1/worker/tasks/${JOB_ID}/output`, {
        method: 'POST',
        headers: { 'Content-Type': type, ...bearer(token) },
        body,
      });

    it('hands the image bytes to the handler', async () => {
      const res = await upload(Buffer.alloc(3 * 1024 * 1024, 7), 'image/png');
      expect(res.status).toBe(202);
      expect(await json(res)).toEqual({
        bytes: 3 * 1024 * 1024,
        contentType: 'image/png',
        taskId: JOB_ID,
      });
    });

    it('refuses other media types, empty bodies and images over 10 MiB', async () => {
      expect((await upload(Buffer.from('GIF89a'), 'image/gif')).status).toBe(415);
      const empty = await upload(Buffer.alloc(0), 'image/png');
      expect(empty.status).toBe(400);
      const huge = await upload(Buffer.alloc(10 * 1024 * 1024 + 1), 'image/jpeg');
      expect(huge.status).toBe(413);
      expect((await json(huge)).code).toBe('payload_too_large');
    });
  });

  describe('errors', () => {
    it('answers unknown API paths with our 404 body', async () => {
      for (const [method, p] of [
        ['GET', '/api/v1/nothing-here'],
        ['DELETE', '/api/v1/jobs'],
        ['POST', '/api'],
      ] as const) {
        const res = await fetch(`${manager.url}${p}`, { method, headers: bearer(TOKENS.admin) });
        expect(res.status).toBe(404);
        expect(await json(res)).toMatchObject({ code: 'not_found' });
      }
    });

    it('turns a bug into a 500 that does not leak its message, and logs the details', async () => {
      const res = await get(`/api/v1/jobs/${JOB_ID}`, bearer(TOKENS.admin));
      expect(res.status).toBe(500);
      const body = await json(res);
      const requestId = res.headers.get('x-request-id');
      expect(body).toEqual({
        code: 'internal',
        message: expect.stringContaining(requestId!),
        details: { requestId },
      });
      expect(JSON.stringify(body)).not.toContain('hunter2');
      const logged = manager.logs.entries.find(
        (entry) => entry.requestId === requestId && entry.level === 'error',
      );
      expect(JSON.stringify(logged)).toContain('password=hunter2');
    });

    it('answers an operation nobody implemented yet with 501, after checking the credential', async () => {
      expect((await get('/api/v1/workers')).status).toBe(401);
      const res = await get('/api/v1/workers', bearer(TOKENS.admin));
      expect(res.status).toBe(501);
      expect(await json(res)).toMatchObject({
        code: 'internal',
        details: { operationId: 'listWorkers' },
      });
    });
  });
});

describe('the web app', () => {
  it('serves a placeholder page when the web build is missing, and keeps API 404s as JSON', async () => {
    const manager = await startTestManager({
      app: { webDir: path.join(tmpdir(), 'farm-no-such-build') },
    });
    try {
      const page = await fetch(`${manager.url}/jobs/123`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('npm run build -w @farm/web');
      expect((await fetch(`${manager.url}/api/v1/missing`)).headers.get('content-type')).toMatch(
        /json/,
      );
    } finally {
      await manager.close();
    }
  });

  it('serves the build, falling back to index.html for client-side routes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'farm-web-'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Farm UI</title>');
    writeFileSync(path.join(dir, 'app.js'), 'console.log(1)');
    const manager = await startTestManager({ app: { webDir: dir } });
    try {
      expect(await (await fetch(`${manager.url}/`)).text()).toContain('Farm UI');
      expect(await (await fetch(`${manager.url}/jobs/${JOB_ID}/tasks`)).text()).toContain(
        'Farm UI',
      );
      expect(await (await fetch(`${manager.url}/app.js`)).text()).toBe('console.log(1)');
      const post = await fetch(`${manager.url}/jobs`, { method: 'POST' });
      expect(post.status).toBe(404);
      expect((await json(post)).code).toBe('not_found');
    } finally {
      await manager.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
