// A test double of the manager's worker protocol for the daemon's unit tests: real HTTP and a real
// websocket, scripted answers. The end-to-end tests use the real manager instead.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface ReceivedRequest {
  op: string;
  taskId?: string;
  body?: Record<string, unknown>;
  at: number;
}

export interface FakeTask {
  id: string;
  jobId: string;
  jobName: string;
  jobPriority: number;
  jobType: string;
  name: string;
  type: string;
  index: number;
  priority: number;
  commands: Array<{ name: string; parameters: Record<string, unknown> }>;
}

/** What the fake answers an operation with; undefined falls back to the default behaviour. */
export type Responder = (
  req: ReceivedRequest,
) =>
  | { status: number; body?: unknown }
  | undefined
  | Promise<{ status: number; body?: unknown } | undefined>;

export interface FakeManager {
  url: string;
  port: number;
  secret: string;
  requests: ReceivedRequest[];
  /** Task updates in the order they arrived. */
  updates: Array<{ taskId: string; body: Record<string, unknown> }>;
  registrations: number;
  uploads: Array<{ taskId: string; contentType: string; bytes: number; data: Buffer }>;
  /** Tasks handed out by the next claims, in order. */
  queue: FakeTask[];
  /** Tokens the fake accepts. */
  tokens: Set<string>;
  respond?: Responder;
  /** The status sign-on asks for. */
  signOnStatus: string;
  connections: number;
  push(message: object): void;
  /** Closes every worker socket abruptly (as when the network drops). */
  dropSockets(): void;
  ops(op: string): ReceivedRequest[];
  close(): Promise<void>;
}

export function makeTask(commands: FakeTask['commands'], name = 'task'): FakeTask {
  return {
    id: randomUUID(),
    jobId: randomUUID(),
    jobName: 'job',
    jobPriority: 50,
    jobType: 'echo-sleep-test',
    name,
    type: 'misc',
    index: 0,
    priority: 50,
    commands,
  };
}

/** Starts the fake on a free port (or `port`, to come back on the same one after a restart). */
export async function startFakeManager(
  port = 0,
  state?: Partial<FakeManager>,
): Promise<FakeManager> {
  const sockets = new Set<WebSocket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = req.url ?? '';
      const send = (status: number, value?: unknown): void => {
        res.writeHead(status, value === undefined ? {} : { 'content-type': 'application/json' });
        res.end(value === undefined ? undefined : JSON.stringify(value));
      };
      if (url === '/api/v1/version')
        return send(200, { name: 'fake', version: '0.0.1', apiVersion: '1.0.0' });
      if (url === '/api/v1/worker/register' && req.method === 'POST') {
        const input = JSON.parse(body.toString()) as { secret?: string };
        if (input.secret !== fake.secret)
          return send(403, { code: 'forbidden', message: 'wrong registration secret' });
        fake.registrations++;
        const token = `token-${randomUUID()}`;
        fake.tokens.add(token);
        return send(201, { workerId: randomUUID(), token });
      }
      const output = /^\/api\/v1\/worker\/tasks\/([^/]+)\/output$/.exec(url);
      if (output && req.method === 'POST') {
        fake.uploads.push({
          taskId: output[1]!,
          contentType: String(req.headers['content-type']),
          bytes: body.length,
          data: body,
        });
        return send(202);
      }
      if (url === '/api/v1/worker/sign-off') {
        fake.requests.push({
          op: 'signOff',
          body: body.length ? (JSON.parse(body.toString()) as Record<string, unknown>) : {},
          at: Date.now(),
        });
        return send(204);
      }
      send(404, { code: 'not_found', message: 'no such route' });
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!fake.tokens.has(token)) {
      socket.end(
        'HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n\r\n{"code":"unauthenticated","message":"bad token"}',
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      fake.connections++;
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', (data) => {
        const msg = JSON.parse((data as Buffer).toString('utf8')) as {
          id: number;
          op: string;
          taskId?: string;
          body?: Record<string, unknown>;
        };
        const received: ReceivedRequest = {
          op: msg.op,
          taskId: msg.taskId,
          body: msg.body,
          at: Date.now(),
        };
        fake.requests.push(received);
        void answer(received).then((result) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: msg.id, ...result }));
        });
      });
    });
  });

  async function answer(req: ReceivedRequest): Promise<{ status: number; body?: unknown }> {
    const scripted = await fake.respond?.(req);
    if (scripted !== undefined) return scripted;
    switch (req.op) {
      case 'signOn':
        return { status: 200, body: { statusRequested: fake.signOnStatus, lazy: false } };
      case 'claim': {
        const task = fake.queue.shift();
        return task ? { status: 200, body: task } : { status: 204 };
      }
      case 'updateTask':
        fake.updates.push({ taskId: req.taskId!, body: req.body ?? {} });
        return { status: 204 };
      case 'mayIRun':
        return { status: 200, body: { mayKeepRunning: true, statusChangeRequested: false } };
      case 'heartbeat':
        return { status: 200, body: { statusRequested: null, lazy: false } };
      default:
        return { status: 204 };
    }
  }

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actualPort = (server.address() as AddressInfo).port;
  const fake: FakeManager = {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    secret: 'farm-secret',
    requests: [],
    updates: [],
    registrations: 0,
    uploads: [],
    queue: [],
    tokens: new Set(),
    signOnStatus: 'awake',
    connections: 0,
    ...state,
    push(message) {
      for (const ws of sockets) ws.send(JSON.stringify(message));
    },
    dropSockets() {
      for (const ws of sockets) ws.terminate();
    },
    ops(op) {
      return fake.requests.filter((r) => r.op === op);
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
