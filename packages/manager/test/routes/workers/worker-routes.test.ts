import winston from 'winston';
import { WebSocket } from 'ws';
import { createApp } from '../../../src/http/create-app';
import type { OperationDefinition } from '../../../src/http/define-operation';
import type { Principal } from '../../../src/http/principal';
import { startServer, type RunningServer } from '../../../src/http/serve';
import { createWorkerSide } from '../../../src/services/workers';
import { createWorkerSocket } from '../../../src/ws/worker-socket';
import { describeEachDatabase } from '../../support/test-database';
import { jobRow, seedJob, taskRow } from '../../scheduler/seed';
import {
  createTestWorkerContext,
  type TestWorkerContext,
} from '../../services/workers/worker-context';

type Json = Record<string, any>;

const ADMIN_TOKEN = 'admin-token-for-tests';
const SECRET = 'farm-registration-secret';
const ADMIN: Principal = { kind: 'user', userId: 'u1', name: 'ann', isAdmin: true, scopes: [] };

describeEachDatabase(
  'worker routes',
  (getDb) => {
    let ctx: TestWorkerContext;
    let server: RunningServer;

    beforeEach(async () => {
      ctx = createTestWorkerContext(getDb());
      const holder: { side?: ReturnType<typeof createWorkerSide> } = {};
      const authenticateToken = async (token: string) =>
        token === ADMIN_TOKEN
          ? ADMIN
          : ((await holder.side?.authenticateWorkerToken(token)) ?? null);
      const logger = winston.createLogger({ silent: true });
      const socket = createWorkerSocket({
        logger,
        authenticateToken,
        workerHandlers: new Proxy({} as never, {
          get: (_t, key) => (holder.side!.handlers as never)[key],
        }),
      });
      const side = createWorkerSide(ctx, {
        registrationSecret: SECRET,
        wakeups: ctx.wakeups,
        pushToWorker: (id, message) => socket.pushToWorker(id, message),
      });
      holder.side = side;
      await side.ready;
      const operations: OperationDefinition[] = [];
      side.registerRoutes(operations);
      const app = createApp({
        logger,
        authenticateToken,
        readiness: () => Promise.resolve({ ready: true, checks: {} }),
        version: { name: 'test', version: '0' },
        workerHandlers: side.handlers,
        operations,
      });
      server = await startServer(app, {
        port: 0,
        host: '127.0.0.1',
        attach: [(s) => socket.attach(s)],
        releaseLongPolls: () => ctx.wakeups.releaseAll(),
      });
    });
    afterEach(async () => {
      await server.close();
      await ctx.cleanUp();
    });

    async function call(method: string, path: string, token: string | null, body?: unknown) {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return {
        status: response.status,
        body: text ? (JSON.parse(text) as Json) : null,
      };
    }

    async function register(name: string) {
      const res = await call('POST', '/api/v1/worker/register', null, {
        secret: SECRET,
        name,
        platform: 'linux',
        taskTypes: ['misc'],
      });
      expect(res.status).toBe(201);
      const token = res.body!.token as string;
      const workerId = res.body!.workerId as string;
      const signOn = await call('POST', '/api/v1/worker/sign-on', token, {
        name,
        platform: 'linux',
        taskTypes: ['misc'],
        version: '1.0.0',
      });
      expect(signOn.body).toEqual({ statusRequested: 'awake', lazy: false });
      expect(
        (await call('POST', '/api/v1/worker/state-changed', token, { status: 'awake' })).status,
      ).toBe(204);
      return { token, workerId };
    }

    it('runs a task end to end over HTTP and refuses another worker`s update', async () => {
      const { jobId, taskIds } = await seedJob(getDb().db);
      const a = await register('render-a');
      const b = await register('render-b');
      const claim = await call('POST', '/api/v1/worker/claim', a.token, { waitMs: 0 });
      expect(claim.status).toBe(200);
      expect(claim.body).toMatchObject({ id: taskIds[0], jobId, type: 'misc', index: 0 });
      expect((await call('POST', '/api/v1/worker/claim', b.token, {})).status).toBe(204);

      const stolen = await call('POST', `/api/v1/worker/tasks/${taskIds[0]}/update`, b.token, {
        status: 'completed',
      });
      expect(stolen.status).toBe(409);
      expect(stolen.body).toMatchObject({ code: 'conflict', details: { reason: 'not-your-task' } });
      expect((await taskRow(getDb().db, taskIds[0]!)).status).toBe('active');

      const may = await call('GET', `/api/v1/worker/tasks/${taskIds[0]}/may-i-run`, a.token);
      expect(may.body).toEqual({ mayKeepRunning: true, statusChangeRequested: false });
      const workers = await call('GET', '/api/v1/workers', ADMIN_TOKEN);
      expect(
        workers.body!.items.find((w: { id: string }) => w.id === a.workerId).currentTask,
      ).toMatchObject({ id: taskIds[0] });

      const done = await call('POST', `/api/v1/worker/tasks/${taskIds[0]}/update`, a.token, {
        status: 'completed',
        log: 'ok',
      });
      expect(done.status).toBe(204);
      expect((await jobRow(getDb().db, jobId)).status).toBe('completed');
      const signOff = await call('POST', '/api/v1/worker/sign-off', a.token, {});
      expect(signOff.status).toBe(204);
    });

    it('answers 423 with a pending request and 409 for a worker that is not awake', async () => {
      await seedJob(getDb().db);
      const a = await register('render-a');
      const request = await call(
        'POST',
        `/api/v1/workers/${a.workerId}/status-request`,
        ADMIN_TOKEN,
        { status: 'asleep', lazy: true },
      );
      expect(request.status).toBe(200);
      expect(request.body).toMatchObject({ statusRequest: { status: 'asleep', lazy: true } });
      const claim = await call('POST', '/api/v1/worker/claim', a.token, {});
      expect(claim).toEqual({ status: 423, body: { statusRequested: 'asleep', lazy: true } });
      await call('POST', '/api/v1/worker/state-changed', a.token, { status: 'asleep' });
      const asleep = await call('POST', '/api/v1/worker/claim', a.token, {});
      expect(asleep.status).toBe(409);
      expect((await call('GET', `/api/v1/workers/${a.workerId}`, ADMIN_TOKEN)).body).toMatchObject({
        status: 'asleep',
        statusRequest: null,
      });
    });

    it('refuses registration with a wrong secret and a worker token on management routes', async () => {
      const bad = await call('POST', '/api/v1/worker/register', null, {
        secret: 'nope',
        name: 'x',
        platform: 'linux',
        taskTypes: ['misc'],
      });
      expect(bad.status).toBe(403);
      const a = await register('render-a');
      expect((await call('GET', '/api/v1/workers', a.token)).status).toBe(403);
      expect((await call('POST', '/api/v1/worker/claim', 'farm_w_unknown', {})).status).toBe(401);
      expect((await call('DELETE', `/api/v1/workers/${a.workerId}`, ADMIN_TOKEN)).status).toBe(409);
    });

    it('serves the same claim and update over the worker websocket', async () => {
      const { jobId, taskIds } = await seedJob(getDb().db);
      const a = await register('render-a');
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/ws/worker`, {
        headers: { Authorization: `Bearer ${a.token}` },
      });
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const pending = new Map<number, (value: Json) => void>();
      ws.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString('utf8')) as Json;
        if (typeof message.id === 'number') pending.get(message.id)?.(message);
      });
      let next = 1;
      const send = (op: string, body?: unknown, taskId?: string) =>
        new Promise<Json>((resolve) => {
          const id = next++;
          pending.set(id, resolve);
          ws.send(
            JSON.stringify({ id, op, ...(taskId ? { taskId } : {}), ...(body ? { body } : {}) }),
          );
        });
      const claim = await send('claim', { waitMs: 0 });
      expect(claim).toMatchObject({ status: 200, body: { id: taskIds[0] } });
      expect(await send('updateTask', { status: 'completed' }, taskIds[0])).toMatchObject({
        status: 204,
      });
      expect((await jobRow(getDb().db, jobId)).status).toBe('completed');
      ws.close();
    });
  },
  { resetBetweenTests: true },
);
