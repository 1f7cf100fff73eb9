import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig } from '../../../src/config';
import { createManager, type RunningManager } from '../../../src/create-manager';
import { createLogger } from '../../../src/logging';
import { createTestDatabase, type TestDatabase } from '../../support/test-database';

// Two managers on one Postgres database both run the notification loop and both hear every
// event (the bus crosses replicas), yet each notification reaches the receiver exactly once.
const canRun = Boolean(process.env.FARM_TEST_DATABASE_URL);
if (!canRun) {
  console.warn('skipping the two-replica notification test: it needs FARM_TEST_DATABASE_URL');
}

const JOBS = 6;
const TESTS = 10;

(canRun ? describe : describe.skip)('notifications from two replicas', () => {
  let database: TestDatabase;
  const managers: RunningManager[] = [];
  const dataDirs: string[] = [];
  const received: { delivery: string; event: string }[] = [];
  let server: http.Server;
  let receiverUrl: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push({
          delivery: String(req.headers['x-farm-delivery']),
          event: String(req.headers['x-farm-event']),
        });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    database = await createTestDatabase('postgres');
    for (let i = 0; i < 2; i++) {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `farm-notify-replica-${i}-`));
      dataDirs.push(dataDir);
      const config = resolveConfig({
        argv: ['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir],
        env: { DATABASE_URL: database.url!, FARM_DISCOVERY: 'false' },
      });
      managers.push(
        await createManager(config, { logger: createLogger({ level: 'error', format: 'json' }) }),
      );
    }
  }, 120_000);

  afterAll(async () => {
    for (const manager of managers) await manager.close();
    await database?.dispose();
    for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('sends each notification once though both replicas hear every event', async () => {
    const tokenFile = dataDirs.map((dir) => path.join(dir, 'admin-token')).find(fs.existsSync);
    const token = fs.readFileSync(tokenFile!, 'utf8').trim();
    const api = async (base: string, method: string, route: string, body?: unknown) => {
      const response = await fetch(`${base}${route}`, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    };
    const [a, b] = managers.map((manager) => manager.url) as [string, string];
    const sub = await api(a, 'POST', '/api/v1/notifications/subscriptions', {
      channel: 'webhook',
      url: receiverUrl,
      events: ['job-canceled'],
    });
    expect(sub.status).toBe(201);
    for (let i = 0; i < TESTS; i++) {
      const base = i % 2 === 0 ? a : b;
      const test = await api(
        base,
        'POST',
        `/api/v1/notifications/subscriptions/${sub.body.id}/test`,
      );
      expect(test.status).toBe(202);
    }
    for (let i = 0; i < JOBS; i++) {
      const base = i % 2 === 0 ? a : b;
      const job = await api(base, 'POST', '/api/v1/jobs', {
        name: `job ${i}`,
        type: 'echo-sleep-test',
        settings: { message: 'hi', sleep_repeats: 1 },
      });
      expect(job.status).toBe(201);
      await api(base, 'POST', `/api/v1/jobs/${job.body.id}/actions`, { action: 'cancel' });
    }
    const deadline = Date.now() + 20_000;
    while (received.length < TESTS + JOBS && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(received.filter((r) => r.event === 'test')).toHaveLength(TESTS);
    expect(received.filter((r) => r.event === 'job-canceled')).toHaveLength(JOBS);
    expect(new Set(received.map((r) => r.delivery)).size).toBe(received.length);
  }, 90_000);
});
