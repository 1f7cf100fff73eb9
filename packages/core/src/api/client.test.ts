import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isFarmError, validationError, type FarmError } from '../errors';
import { createFarmClient, validateOperationInput, type Job } from '.';

const JOB_ID = '0b7d3c1e-8a2f-4c5d-9e6f-1a2b3c4d5e6f';

function job(name: string): Job {
  return {
    id: JOB_ID,
    name,
    type: 'echo-sleep-test',
    typeEtag: 'etag-1',
    priority: 50,
    status: 'queued',
    activity: '',
    settings: {},
    metadata: {},
    project: { id: JOB_ID, name: 'default' },
    submitter: null,
    requiredTags: [],
    maxWorkers: null,
    notBefore: null,
    failureThresholdPercent: 10,
    taskCounts: {
      queued: 4,
      active: 0,
      completed: 0,
      'soft-failed': 0,
      failed: 0,
      canceled: 0,
      paused: 0,
      total: 4,
    },
    progress: 0,
    created: '2026-11-22T10:00:00.000Z',
    updated: '2026-11-22T10:00:00.000Z',
    allowedActions: ['cancel', 'pause', 'delete', 'set-priority'],
  };
}

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

/** A tiny stand-in for the manager: real HTTP, real JSON, the manager's error bodies. */
function startManager(): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const body: unknown = raw ? JSON.parse(raw) : undefined;
      // A copy: validation below fills defaults into the body it checks.
      seen.push({
        method: req.method!,
        url: req.url!,
        authorization: req.headers.authorization,
        body: structuredClone(body),
      });
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        res.end(JSON.stringify(payload));
      };
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/api/v1/version')
        return send(200, { name: 'Farm', version: '0.1.0', apiVersion: '1.0.0' });
      if (url.pathname === '/api/v1/jobs' && req.method === 'POST') {
        const checked = validateOperationInput('submitJob', { body });
        if (!checked.ok)
          return send(400, validationError('the job is invalid', checked.issues).toJSON());
        return send(201, job(checked.value.body.name));
      }
      if (url.pathname === '/api/v1/jobs' && req.method === 'GET') {
        return send(200, {
          items: [job('a')],
          nextCursor: url.searchParams.getAll('status').join(','),
        });
      }
      if (url.pathname === `/api/v1/jobs/${JOB_ID}/actions`) {
        return send(409, {
          code: 'invalid_transition',
          message: 'a queued job cannot be resumed',
          details: { status: 'queued', action: 'resume', allowedActions: ['cancel', 'pause'] },
        });
      }
      if (url.pathname === `/api/v1/tasks/${JOB_ID}/log`) {
        res.writeHead(200, {
          'Content-Type': 'text/plain',
          'X-Log-Size': '1000',
          'X-Log-Offset': '988',
        });
        return res.end('last line ✓\n');
      }
      if (url.pathname === '/api/v1/workers') {
        res.writeHead(502, { 'Content-Type': 'text/html' });
        return res.end('<html>Bad Gateway</html>');
      }
      send(404, { code: 'not_found', message: `no route ${url.pathname}` });
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/`,
        seen,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

describe('createFarmClient', () => {
  let manager: Awaited<ReturnType<typeof startManager>>;
  beforeAll(async () => (manager = await startManager()));
  afterAll(() => manager.close());

  it('calls the manager with the token and returns the typed data', async () => {
    const farm = createFarmClient({ url: manager.url, token: 'secret-token' });
    await expect(farm.version()).resolves.toEqual({
      name: 'Farm',
      version: '0.1.0',
      apiVersion: '1.0.0',
    });
    const submitted = await farm.submitJob({
      name: 'hello',
      type: 'echo-sleep-test',
      settings: { message: 'hi' },
    });
    expect(submitted.status).toBe('queued');
    expect(submitted.taskCounts.total).toBe(4);
    expect(manager.seen.at(-1)).toEqual({
      method: 'POST',
      url: '/api/v1/jobs',
      authorization: 'Bearer secret-token',
      body: { name: 'hello', type: 'echo-sleep-test', settings: { message: 'hi' } },
    });
  });

  it('sends array query parameters as repeated keys', async () => {
    const farm = createFarmClient({ url: manager.url, token: 't' });
    const page = await farm.listJobs({ status: ['queued', 'active'], limit: 10 });
    expect(page.nextCursor).toBe('queued,active');
    expect(manager.seen.at(-1)!.url).toBe('/api/v1/jobs?status=queued&status=active&limit=10');
  });

  it("turns the manager's error body into a FarmError with the same code and details", async () => {
    const farm = createFarmClient({ url: manager.url, token: 't' });
    const error: unknown = await farm.jobAction(JOB_ID, 'resume').catch((e: unknown) => e);
    expect(isFarmError(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'invalid_transition',
      message: 'a queued job cannot be resumed',
      details: { allowedActions: ['cancel', 'pause'] },
    });

    const invalid = (await farm
      .submitJob({ type: 'echo-sleep-test' } as never)
      .catch((e: unknown) => e)) as FarmError;
    expect(invalid.code).toBe('validation_failed');
    expect(invalid.issues).toEqual([{ path: 'body.name', message: 'is required' }]);
  });

  it('names a non-Farm error by its HTTP status', async () => {
    const farm = createFarmClient({ url: manager.url });
    const error = (await farm.listWorkers().catch((e: unknown) => e)) as FarmError;
    expect(isFarmError(error)).toBe(true);
    expect(error.code).toBe('unavailable');
    expect(error.message).toMatch(/HTTP 502.*Bad Gateway/);
    await expect(farm.getWorker(JOB_ID)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('reads a task log as text with its size and offset', async () => {
    const farm = createFarmClient({ url: manager.url, token: 't' });
    await expect(farm.getTaskLog(JOB_ID, { tail: 12 })).resolves.toEqual({
      text: 'last line ✓\n',
      size: 1000,
      offset: 988,
    });
    expect(manager.seen.at(-1)!.url).toBe(`/api/v1/tasks/${JOB_ID}/log?tail=12`);
  });

  it('reports a manager that is not there as unavailable, naming the URL', async () => {
    const gone = await startManager();
    await gone.close();
    const farm = createFarmClient({ url: gone.url, token: 't' });
    const error = (await farm.version().catch((e: unknown) => e)) as FarmError;
    expect(isFarmError(error)).toBe(true);
    expect(error.code).toBe('unavailable');
    expect(error.message).toContain(`cannot reach the manager at ${gone.url.replace(/\/$/, '')}`);
    expect(error.message).toMatch(/ECONNREFUSED/);
  });
});
