import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { isFarmError } from '@farm/core';
import { createManagerConnection, type ManagerConnection } from '../src/manager-connection';
import type { WorkerSocketPush } from '../src/protocol';
import { waitFor } from './fixtures/processes';

interface TestServer {
  url: string;
  /** Upgrade attempts, with their time and token. */
  attempts: Array<{ at: number; token: string }>;
  /** How the next upgrades are answered: accepted, or refused with this HTTP status. */
  mode: 'accept' | number;
  sockets: Set<WebSocket>;
  close(): Promise<void>;
}

async function startServer(): Promise<TestServer> {
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  const state: TestServer = {
    url: '',
    attempts: [],
    mode: 'accept',
    sockets: new Set(),
    close: async () => {
      for (const ws of state.sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  server.on('upgrade', (req, socket, head) => {
    state.attempts.push({ at: Date.now(), token: req.headers.authorization ?? '' });
    if (state.mode !== 'accept') {
      socket.end(`HTTP/1.1 ${state.mode} No\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      state.sockets.add(ws);
      ws.on('close', () => state.sockets.delete(ws));
      ws.on('message', (data) => {
        const msg = JSON.parse((data as Buffer).toString('utf8')) as {
          id: number;
          op: string;
          body?: unknown;
        };
        if (msg.op === 'claim') return; // never answered: tests the timeout
        ws.send(JSON.stringify({ id: msg.id, status: 200, body: { echo: msg.op, got: msg.body } }));
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

describe('manager connection', () => {
  let server: TestServer;
  let connection: ManagerConnection | undefined;
  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    await connection?.close();
    connection = undefined;
    await server.close();
  });

  it('answers requests by id and delivers pushes', async () => {
    const pushes: WorkerSocketPush[] = [];
    connection = createManagerConnection({
      url: server.url,
      token: () => 'tok',
      onPush: (p) => pushes.push(p),
    });
    connection.start();
    expect(await connection.waitUntilConnected()).toBe(true);
    expect(server.attempts[0]?.token).toBe('Bearer tok');
    const [a, b] = await Promise.all([
      connection.request('heartbeat', { body: { n: 1 } }),
      connection.request('mayIRun', { taskId: 'x' }),
    ]);
    expect(a).toMatchObject({ status: 200, body: { echo: 'heartbeat', got: { n: 1 } } });
    expect(b).toMatchObject({ status: 200, body: { echo: 'mayIRun' } });
    for (const ws of server.sockets)
      ws.send(JSON.stringify({ type: 'stop-task', taskId: 't', reason: 'canceled' }));
    await waitFor(() => pushes.length === 1);
    expect(pushes[0]).toEqual({ type: 'stop-task', taskId: 't', reason: 'canceled' });
  });

  it('rejects a request that gets no answer in time', async () => {
    connection = createManagerConnection({
      url: server.url,
      token: () => 'tok',
      onPush: () => undefined,
    });
    connection.start();
    await connection.waitUntilConnected();
    const started = Date.now();
    await expect(connection.request('claim', { timeoutMs: 100 })).rejects.toMatchObject({
      code: 'unavailable',
    });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('reconnects with growing delays while the manager refuses, and resumes when it is back', async () => {
    const disconnects: string[] = [];
    let connects = 0;
    connection = createManagerConnection({
      url: server.url,
      token: () => 'tok',
      onPush: () => undefined,
      onConnected: () => connects++,
      onDisconnected: (reason) => disconnects.push(reason),
      backoff: { initialMs: 40, maxMs: 320, jitter: 0 },
    });
    connection.start();
    await connection.waitUntilConnected();
    expect(connects).toBe(1);

    // The manager goes away: the socket drops and upgrades are refused for a while.
    server.mode = 503;
    const before = server.attempts.length;
    for (const ws of server.sockets) ws.terminate();
    await waitFor(() => !connection!.connected);
    // A request while down fails at once instead of hanging.
    const failed = await connection.request('heartbeat').catch((e: unknown) => e);
    expect(isFarmError(failed) && failed.code === 'unavailable').toBe(true);

    await waitFor(() => server.attempts.length - before >= 5, 5000);
    const times = server.attempts.slice(before).map((a) => a.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // 40, 80, 160, 320 ms (jitter off): each wait at least as long as the one before, and capped.
    expect(gaps[0]).toBeGreaterThanOrEqual(60);
    expect(gaps[2]).toBeGreaterThanOrEqual(gaps[0]! * 1.5);
    expect(Math.max(...gaps)).toBeLessThan(320 + 200);
    expect(disconnects.length).toBeGreaterThan(0);

    server.mode = 'accept';
    await waitFor(() => connection!.connected, 5000);
    expect(connects).toBe(2);
    await expect(connection.request('heartbeat')).resolves.toMatchObject({ status: 200 });
  });

  it('asks for new credentials when the manager refuses the token, then connects with them', async () => {
    let token = 'old';
    server.mode = 401;
    connection = createManagerConnection({
      url: server.url,
      token: () => token,
      onPush: () => undefined,
      onUnauthorized: () => {
        token = 'new';
        server.mode = 'accept';
      },
      backoff: { initialMs: 10, maxMs: 20 },
    });
    connection.start();
    expect(await connection.waitUntilConnected()).toBe(true);
    expect(server.attempts.map((a) => a.token)).toEqual(['Bearer old', 'Bearer new']);
  });

  it('stops reconnecting once closed', async () => {
    connection = createManagerConnection({
      url: server.url,
      token: () => 'tok',
      onPush: () => undefined,
      backoff: { initialMs: 10, maxMs: 20 },
    });
    connection.start();
    await connection.waitUntilConnected();
    await connection.close();
    const count = server.attempts.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(server.attempts.length).toBe(count);
    expect(await connection.waitUntilConnected()).toBe(false);
  });
});
