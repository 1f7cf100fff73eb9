import { request as httpRequest } from 'node:http';
import { FarmError } from '@farm/core';
import { createApp } from '../../src/http/create-app';
import { createWakeups } from '../../src/http/long-poll';
import type { Principal } from '../../src/http/principal';
import { startServer, type RunningServer } from '../../src/http/serve';
import { createWorkerFastPath } from '../../src/http/worker-fast-path';
import { createMetrics, type FarmMetrics } from '../../src/metrics/create-metrics';
import {
  TASK_ID,
  TOKENS,
  WORKER_ID,
  assignedTask,
  createMemoryLogger,
  createWorkerHandlers,
} from './test-app';

// The worker fast path must answer every request it takes exactly as the Express route does.
// Each case is sent twice: as is (the fast path takes it) and with an empty query string (`?`),
// which the fast path always leaves to Express; status, body and headers must agree.

const PRINCIPALS: Record<string, Principal> = {
  [TOKENS.admin]: { kind: 'user', userId: 'u-admin', name: 'Ada', isAdmin: true, scopes: [] },
  [TOKENS.worker]: { kind: 'worker', workerId: WORKER_ID, name: 'render-01' },
};
const JSON_LIMIT = 4096;
const REQUEST_ID = 'fast-path-test-1';
const OTHER_TASK = '99999999-9999-4999-8999-999999999999';
const CRASHING_TASK = '88888888-8888-4888-8888-888888888888';

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

interface Call {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Sends the body with chunked transfer encoding instead of a Content-Length. */
  chunked?: boolean;
}

const COMPARED_HEADERS = [
  'content-type',
  'content-length',
  'www-authenticate',
  'x-content-type-options',
  'referrer-policy',
  'x-request-id',
];

describe('the worker fast path', () => {
  let server: RunningServer;
  let metrics: FarmMetrics;
  const logs = createMemoryLogger();
  const worker = createWorkerHandlers(createWakeups());
  const leftToExpress: string[] = [];

  beforeAll(async () => {
    metrics = createMetrics();
    const authenticateToken = (token: string): Promise<Principal | null> =>
      Promise.resolve(PRINCIPALS[token] ?? null);
    const mayIRun = worker.handlers.mayIRun;
    // A bug in a handler: both paths must hide it behind the same 500.
    worker.handlers.mayIRun = (principal, input) =>
      input.params.taskId === CRASHING_TASK
        ? Promise.reject(new Error('secret internals'))
        : mayIRun(principal, input);
    const deps = {
      logger: logs.logger,
      metrics,
      authenticateToken,
      workerHandlers: worker.handlers,
      jsonBodyLimitBytes: JSON_LIMIT,
    };
    const app = createApp({
      ...deps,
      readiness: () => Promise.resolve({ ready: true, checks: {} }),
      version: { name: 'test', version: '0' },
    });
    // The same fast path the app has inside, in front of it, to see which requests it takes.
    const fastPath = createWorkerFastPath(deps);
    server = await startServer(
      (req, res) => {
        if (fastPath(req, res)) return;
        leftToExpress.push(`${req.method} ${req.url}`);
        app(req, res);
      },
      { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 2000 },
    );
  });
  afterAll(async () => {
    await server.close();
    await metrics.close();
  });
  beforeEach(() => {
    leftToExpress.length = 0;
    worker.calls.length = 0;
    worker.queue.length = 0;
  });

  function send(call: Call): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const body = call.body === undefined ? undefined : Buffer.from(call.body);
      const headers: Record<string, string | number> = {
        'X-Request-Id': REQUEST_ID,
        ...call.headers,
      };
      if (body && !call.chunked) headers['Content-Length'] = body.length;
      // The path as given: a URL would drop an empty query string's `?`.
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: server.port,
          path: call.path,
          method: call.method,
          headers,
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const picked: Record<string, string | undefined> = {};
            for (const name of COMPARED_HEADERS) {
              const value = res.headers[name];
              picked[name] = Array.isArray(value) ? value.join(', ') : value;
            }
            resolve({
              status: res.statusCode ?? 0,
              headers: picked,
              body: Buffer.concat(chunks).toString('utf8'),
            });
          });
        },
      );
      req.on('error', reject);
      if (body && call.chunked) {
        req.write(body.subarray(0, 1));
        req.end(body.subarray(1));
      } else req.end(body);
    });
  }

  /** Sends `call` on both paths; returns the fast path's answer after checking Express agrees. */
  async function sameOnBothPaths(call: Call): Promise<Answer> {
    leftToExpress.length = 0;
    worker.queue.push(assignedTask());
    const fast = await send(call);
    const fastCalls = worker.calls.splice(0);
    expect(leftToExpress).toEqual([]);
    worker.queue.length = 0;
    worker.queue.push(assignedTask());
    const viaExpress = await send({ ...call, path: `${call.path}?` });
    expect(leftToExpress).toEqual([`${call.method} ${call.path}?`]);
    expect(fast).toEqual(viaExpress);
    expect(fastCalls).toEqual(worker.calls.splice(0));
    return fast;
  }

  const worker200 = { Authorization: `Bearer ${TOKENS.worker}` };
  const jsonHeaders = { ...worker200, 'Content-Type': 'application/json' };

  it('answers the protocol operations as Express does', async () => {
    const claimed = await sameOnBothPaths({
      method: 'POST',
      path: '/api/v1/worker/claim',
      headers: jsonHeaders,
      body: '{"waitMs":0}',
    });
    expect(claimed.status).toBe(200);
    expect(JSON.parse(claimed.body)).toEqual(assignedTask());
    expect(claimed.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
      'x-request-id': REQUEST_ID,
    });
    const update = await sameOnBothPaths({
      method: 'POST',
      path: `/api/v1/worker/tasks/${TASK_ID}/update`,
      headers: jsonHeaders,
      body: JSON.stringify({ status: 'active', log: 'frame 1\n' }),
    });
    expect(update).toMatchObject({ status: 204, body: '' });
    const beat = await sameOnBothPaths({
      method: 'POST',
      path: '/api/v1/worker/heartbeat',
      headers: worker200,
    });
    expect(beat.status).toBe(200);
    const mayIRun = await sameOnBothPaths({
      method: 'GET',
      path: `/api/v1/worker/tasks/${TASK_ID}/may-i-run`,
      headers: worker200,
    });
    expect(JSON.parse(mayIRun.body)).toEqual({
      mayKeepRunning: true,
      statusChangeRequested: false,
    });
  });

  it('hands the handler the validated body with its defaults, over the http transport', async () => {
    await sameOnBothPaths({
      method: 'POST',
      path: '/api/v1/worker/sign-on',
      headers: jsonHeaders,
      body: JSON.stringify({ name: 'render-01', platform: 'linux', taskTypes: ['misc'] }),
    });
    await sameOnBothPaths({
      method: 'POST',
      path: '/api/v1/worker/claim',
      headers: { ...worker200, 'Content-Type': 'application/json; charset=UTF-8' },
      body: '\uFEFF {"waitMs":0}',
      chunked: true,
    });
    const claim = await send({
      method: 'POST',
      path: '/api/v1/worker/claim',
      headers: jsonHeaders,
      body: '{}',
    });
    expect(claim.status).toBe(204);
    expect(worker.calls).toEqual([
      expect.objectContaining({ op: 'claim', workerId: WORKER_ID, transport: 'http' }),
    ]);
  });

  it('refuses bad credentials before reading the body, with the same 401 and 403', async () => {
    const unknown = await sameOnBothPaths({
      method: 'POST',
      path: '/api/v1/worker/claim',
      headers: { Authorization: 'Bearer nobody-0123456789', 'Content-Type': 'application/json' },
      body: '{"waitMs":0}',
    });
    expect(unknown.status).toBe(401);
    expect(unknown.headers['www-authenticate']).toBe('Bearer realm="farm"');
    const user = await sameOnBothPaths({
      method: 'POST',
      path: `/api/v1/worker/tasks/${TASK_ID}/update`,
      headers: { Authorization: `Bearer ${TOKENS.admin}`, 'Content-Type': 'application/json' },
      body: 'not json at all',
    });
    expect(user.status).toBe(403);
    expect(JSON.parse(user.body)).toMatchObject({ code: 'forbidden' });
  });

  it('answers bad bodies and parameters with the same 400, 404 and 413 bodies', async () => {
    const cases: Array<[Call, number]> = [
      [
        { method: 'POST', path: '/api/v1/worker/claim', headers: jsonHeaders, body: '{"waitMs": ' },
        400,
      ],
      [{ method: 'POST', path: '/api/v1/worker/claim', headers: jsonHeaders, body: '"text"' }, 400],
      [{ method: 'POST', path: '/api/v1/worker/claim', headers: jsonHeaders, body: '   ' }, 400],
      [
        {
          method: 'POST',
          path: '/api/v1/worker/claim',
          headers: jsonHeaders,
          body: '{"waitMs":-1}',
        },
        400,
      ],
      [{ method: 'POST', path: '/api/v1/worker/claim', headers: jsonHeaders, body: '[]' }, 400],
      [{ method: 'POST', path: '/api/v1/worker/sign-on', headers: jsonHeaders, body: '' }, 400],
      [
        {
          method: 'POST',
          path: '/api/v1/worker/sign-on',
          headers: jsonHeaders,
          body: '{}',
          chunked: true,
        },
        400,
      ],
      [{ method: 'POST', path: '/api/v1/worker/sign-on', headers: worker200 }, 400],
      [
        {
          method: 'POST',
          path: '/api/v1/worker/tasks/not-a-uuid/update',
          headers: jsonHeaders,
          body: '{}',
        },
        400,
      ],
      [
        {
          method: 'POST',
          path: `/api/v1/worker/tasks/${OTHER_TASK}/update`,
          headers: jsonHeaders,
          body: '{"progress":0.5}',
        },
        404,
      ],
      [
        {
          method: 'GET',
          path: `/api/v1/worker/tasks/${CRASHING_TASK}/may-i-run`,
          headers: worker200,
        },
        500,
      ],
      [
        {
          method: 'POST',
          path: `/api/v1/worker/tasks/${TASK_ID}/update`,
          headers: jsonHeaders,
          body: JSON.stringify({ log: 'x'.repeat(JSON_LIMIT) }),
        },
        413,
      ],
      [
        {
          method: 'POST',
          path: `/api/v1/worker/tasks/${TASK_ID}/update`,
          headers: jsonHeaders,
          body: JSON.stringify({ log: 'x'.repeat(JSON_LIMIT) }),
          chunked: true,
        },
        413,
      ],
    ];
    for (const [call, status] of cases) {
      const answer = await sameOnBothPaths(call);
      expect({ path: call.path, body: call.body, status: answer.status }).toEqual({
        path: call.path,
        body: call.body,
        status,
      });
    }
    const crash = await send(cases[10]![0]);
    expect(crash.body).not.toContain('secret internals');
    expect(JSON.parse(crash.body)).toMatchObject({ details: { requestId: REQUEST_ID } });
  });

  it('leaves to Express what it cannot answer exactly as Express would', async () => {
    const leftAlone: Call[] = [
      {
        method: 'POST',
        path: '/api/v1/worker/claim',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      },
      {
        method: 'POST',
        path: '/api/v1/worker/claim',
        headers: { Cookie: 'farm_session=x', 'Content-Type': 'application/json' },
        body: '{}',
      },
      {
        method: 'POST',
        path: '/api/v1/worker/claim',
        headers: { Authorization: 'Basic eDp5', 'Content-Type': 'application/json' },
        body: '{}',
      },
      {
        method: 'POST',
        path: '/api/v1/worker/claim',
        headers: { ...worker200, 'Content-Type': 'text/plain' },
        body: '{}',
      },
      { method: 'POST', path: '/api/v1/worker/claim', headers: worker200, body: '{}' },
      {
        method: 'POST',
        path: '/api/v1/worker/claim',
        headers: { ...worker200, 'Content-Type': 'application/json; charset=latin1' },
        body: '{}',
      },
      {
        method: 'POST',
        path: '/api/v1/worker/claim',
        headers: { ...worker200, 'Content-Type': 'application/merge-patch+json' },
        body: '{}',
      },
      {
        method: 'POST',
        path: '/api/v1/worker/claim',
        headers: { ...jsonHeaders, 'Content-Encoding': 'gzip' },
        body: '{}',
      },
      { method: 'POST', path: '/api/v1/worker/claim/', headers: jsonHeaders, body: '{}' },
      { method: 'POST', path: '/API/v1/worker/claim', headers: jsonHeaders, body: '{}' },
      { method: 'GET', path: '/api/v1/worker/claim', headers: worker200 },
      {
        method: 'POST',
        path: `/api/v1/worker/tasks/%33${TASK_ID.slice(1)}/update`,
        headers: jsonHeaders,
        body: '{}',
      },
      { method: 'POST', path: '/api/v1/worker/register', headers: jsonHeaders, body: '{}' },
    ];
    for (const call of leftAlone) {
      leftToExpress.length = 0;
      await send(call);
      expect(leftToExpress).toEqual([`${call.method} ${call.path}`]);
    }
  });

  it('writes the same access-log line and metrics as Express', async () => {
    const call: Call = {
      method: 'POST',
      path: '/api/v1/worker/claim',
      headers: jsonHeaders,
      body: '{}',
    };
    const before = (await metrics.render()).match(
      /farm_http_request_duration_seconds_count\{operation="claimTask",method="POST",status_class="2xx"\} (\d+)/,
    );
    const start = logs.entries.length;
    await sameOnBothPaths(call);
    const lines = logs.entries
      .slice(start)
      .filter((entry) => entry.message === 'request')
      .map(({ durationMs: _duration, ...rest }) => rest);
    expect(lines).toEqual([
      {
        level: 'http',
        message: 'request',
        requestId: REQUEST_ID,
        method: 'POST',
        path: '/api/v1/worker/claim',
        status: 200,
        principal: `worker:${WORKER_ID}`,
      },
      expect.objectContaining({ path: '/api/v1/worker/claim', status: 200 }),
    ]);
    expect(lines[0]).toEqual(lines[1]);
    const after = (await metrics.render()).match(
      /farm_http_request_duration_seconds_count\{operation="claimTask",method="POST",status_class="2xx"\} (\d+)/,
    );
    expect(Number(after?.[1])).toBe(Number(before?.[1] ?? 0) + 2);
  });

  it('aborts the handler signal when the client goes away during a long poll', async () => {
    let seen: AbortSignal | undefined;
    const claim = worker.handlers.claim;
    worker.handlers.claim = (principal, input) => {
      seen = input.signal;
      return new Promise((resolve) =>
        input.signal.addEventListener('abort', () => resolve({ status: 204 }), { once: true }),
      );
    };
    try {
      const req = httpRequest(`${server.url}/api/v1/worker/claim`, {
        method: 'POST',
        headers: { ...jsonHeaders, 'Content-Length': 15 },
        agent: false,
      });
      req.on('error', () => undefined);
      req.end('{"waitMs":5000}');
      const deadline = Date.now() + 3000;
      while (!seen && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(seen?.aborted).toBe(false);
      req.destroy();
      while (!seen?.aborted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(seen?.aborted).toBe(true);
      expect(leftToExpress).toEqual([]);
    } finally {
      worker.handlers.claim = claim;
    }
  });

  it('keeps FarmErrors of handlers as they are', async () => {
    const updateTask = worker.handlers.updateTask;
    worker.handlers.updateTask = () =>
      Promise.reject(
        new FarmError('conflict', 'the task is canceled', { details: { allowed: ['requeue'] } }),
      );
    try {
      const answer = await sameOnBothPaths({
        method: 'POST',
        path: `/api/v1/worker/tasks/${TASK_ID}/update`,
        headers: jsonHeaders,
        body: '{"status":"completed"}',
      });
      expect(answer.status).toBe(409);
      expect(JSON.parse(answer.body)).toEqual({
        code: 'conflict',
        message: 'the task is canceled',
        details: { allowed: ['requeue'] },
      });
    } finally {
      worker.handlers.updateTask = updateTask;
    }
  });
});
