import WebSocket from 'ws';
import {
  TASK_ID,
  TOKENS,
  WORKER_ID,
  assignedTask,
  bearer,
  eventually,
  json,
  startTestManager,
  type TestManager,
} from '../http/test-app';

/** A worker's socket with request/response correlation, as the worker daemon would use it. */
async function connectWorker(manager: TestManager, token: string = TOKENS.worker) {
  const ws = new WebSocket(`${manager.wsUrl}/api/v1/ws/worker`, { headers: bearer(token) });
  const pushes: unknown[] = [];
  const waiting = new Map<
    number,
    (message: { id: number; status: number; body?: unknown }) => void
  >();
  ws.on('message', (data) => {
    const message = JSON.parse((data as Buffer).toString());
    if (typeof message.id === 'number' && waiting.has(message.id)) {
      waiting.get(message.id)!(message);
      waiting.delete(message.id);
    } else pushes.push(message);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let nextId = 1;
  return {
    ws,
    pushes,
    request(
      message: Record<string, unknown>,
    ): Promise<{ id: number; status: number; body?: unknown }> {
      const id = nextId++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        ws.send(JSON.stringify({ id, ...message }));
      });
    },
    closed: new Promise<{ code: number; reason: string }>((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    ),
  };
}

function refusedUpgrade(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; auth?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += String(chunk)));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, auth: res.headers['www-authenticate'] }),
      );
    });
    ws.once('error', () => undefined);
  });
}

describe('the worker websocket', () => {
  let manager: TestManager;
  beforeEach(async () => {
    manager = await startTestManager();
  });
  afterEach(() => manager.close());

  it('refuses an upgrade without a worker token before upgrading', async () => {
    const url = `${manager.wsUrl}/api/v1/ws/worker`;
    const none = await refusedUpgrade(url);
    expect(none.status).toBe(401);
    expect(none.auth).toMatch(/^Bearer/);
    expect(JSON.parse(none.body)).toMatchObject({ code: 'unauthenticated' });
    expect((await refusedUpgrade(url, bearer('wrong'))).status).toBe(401);
    expect((await refusedUpgrade(url, bearer(TOKENS.admin))).status).toBe(403);
    expect(
      (await refusedUpgrade(`${manager.wsUrl}/api/v1/ws/nothing`, bearer(TOKENS.worker))).status,
    ).toBe(404);
    expect(manager.workerSocket.connectedWorkerIds()).toEqual([]);
  });

  it('gives the same answers as HTTP, from the same handlers', async () => {
    const worker = await connectWorker(manager);
    expect(manager.workerSocket.isWorkerConnected(WORKER_ID)).toBe(true);
    const http = (path: string, body?: unknown, method = 'POST') =>
      fetch(`${manager.url}${path}`, {
        method,
        headers: {
          ...bearer(TOKENS.worker),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const signOn = { name: 'render-01', platform: 'linux', taskTypes: ['misc'], version: '0.1.0' };

    const cases: Array<{ ws: Record<string, unknown>; http: () => Promise<Response> }> = [
      { ws: { op: 'signOn', body: signOn }, http: () => http('/api/v1/worker/sign-on', signOn) },
      {
        ws: { op: 'mayIRun', taskId: TASK_ID },
        http: () => http(`/api/v1/worker/tasks/${TASK_ID}/may-i-run`, undefined, 'GET'),
      },
      {
        ws: { op: 'updateTask', taskId: TASK_ID, body: { progress: 0.5 } },
        http: () => http(`/api/v1/worker/tasks/${TASK_ID}/update`, { progress: 0.5 }),
      },
      { ws: { op: 'heartbeat' }, http: () => http('/api/v1/worker/heartbeat') },
      // A handler's FarmError:
      {
        ws: { op: 'updateTask', taskId: assignedTask().jobId, body: {} },
        http: () => http(`/api/v1/worker/tasks/${assignedTask().jobId}/update`, {}),
      },
      // Invalid input, checked by the same schemas:
      {
        ws: {
          op: 'updateTask',
          taskId: TASK_ID,
          body: { progress: 2, status: 'exploded', colour: 1 },
        },
        http: () =>
          http(`/api/v1/worker/tasks/${TASK_ID}/update`, {
            progress: 2,
            status: 'exploded',
            colour: 1,
          }),
      },
      {
        ws: { op: 'stateChanged', body: {} },
        http: () => http('/api/v1/worker/state-changed', {}),
      },
    ];
    for (const c of cases) {
      const viaSocket = await worker.request(c.ws);
      const res = await c.http();
      const text = await res.text();
      const viaHttp = { status: res.status, body: text ? JSON.parse(text) : undefined };
      expect({ op: c.ws.op, status: viaSocket.status, body: viaSocket.body }).toEqual({
        op: c.ws.op,
        ...viaHttp,
      });
    }
    const invalid = await worker.request(cases[5]!.ws);
    expect(invalid.status).toBe(400);
    expect((invalid.body as { details: { issues: unknown[] } }).details.issues).toHaveLength(3);

    manager.worker.queue.push(assignedTask(), assignedTask());
    const claimedWs = await worker.request({ op: 'claim', body: {} });
    const claimedHttp = await http('/api/v1/worker/claim', {});
    expect(claimedWs).toMatchObject({ status: 200, body: assignedTask() });
    expect({ status: claimedHttp.status, body: await json(claimedHttp) }).toEqual({
      status: 200,
      body: assignedTask(),
    });

    const transports = manager.worker.calls
      .filter((call) => call.op === 'claim')
      .map((call) => call.transport);
    expect(transports).toEqual(['ws', 'http']);
    expect(manager.worker.calls.every((call) => call.workerId === WORKER_ID)).toBe(true);
  });

  it('answers an invalid envelope with 400 and closes on a message that is not JSON', async () => {
    const worker = await connectWorker(manager);
    const noTask = await worker.request({ op: 'mayIRun' });
    expect(noTask.status).toBe(400);
    expect(
      (noTask.body as { details: { issues: Array<{ path: string }> } }).details.issues[0]!.path,
    ).toBe('params.taskId');
    const unknown = await worker.request({ op: 'dance' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 'validation_failed' });
    worker.ws.send('{not json');
    expect((await worker.closed).code).toBe(1007);
  });

  it('pushes messages to a connected worker, reports disconnection', async () => {
    const worker = await connectWorker(manager);
    expect(manager.workerSocket.pushToWorker(WORKER_ID, { type: 'work-available' })).toBe(true);
    expect(
      manager.workerSocket.pushToWorker(WORKER_ID, {
        type: 'stop-task',
        taskId: TASK_ID,
        reason: 'job canceled',
      }),
    ).toBe(true);
    expect(manager.workerSocket.pushToWorker('someone-else', { type: 'work-available' })).toBe(
      false,
    );
    await eventually(() => worker.pushes.length === 2);
    expect(worker.pushes).toEqual([
      { type: 'work-available' },
      { type: 'stop-task', taskId: TASK_ID, reason: 'job canceled' },
    ]);
    worker.ws.close();
    await eventually(() => manager.disconnected.length === 1);
    expect(manager.disconnected).toEqual([WORKER_ID]);
    expect(manager.workerSocket.isWorkerConnected(WORKER_ID)).toBe(false);
  });

  it('keeps only the newest socket of a worker', async () => {
    const first = await connectWorker(manager);
    const second = await connectWorker(manager);
    expect((await first.closed).code).toBe(4000);
    expect(manager.workerSocket.isWorkerConnected(WORKER_ID)).toBe(true);
    expect(manager.disconnected).toEqual([]);
    expect((await second.request({ op: 'heartbeat' })).status).toBe(200);
  });
});

describe('worker websocket keepalive', () => {
  it('terminates a socket that stops answering pings and reports the worker gone', async () => {
    const manager = await startTestManager({ workerSocket: { keepaliveIntervalMs: 40 } });
    try {
      const worker = await connectWorker(manager);
      // A live client answers pings on its own: it stays.
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(manager.workerSocket.isWorkerConnected(WORKER_ID)).toBe(true);
      // A machine that froze reads nothing, so it answers no ping.
      (worker.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      await eventually(() => manager.disconnected.includes(WORKER_ID), 2000);
      expect(manager.workerSocket.isWorkerConnected(WORKER_ID)).toBe(false);
    } finally {
      await manager.close();
    }
  });
});
