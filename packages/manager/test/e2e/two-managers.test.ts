import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import {
  managerIsBuilt,
  startManagerProcess,
  type ManagerProcess,
} from '../support/manager-process';

const WORKERS = 50;
const TASKS = 600;
const SECRET = 'two-managers-test-secret';

// Two manager processes on one Postgres database, 50 workers split between them: no task is ever
// given to two workers, and every task completes exactly once.
const canRun = Boolean(process.env.FARM_TEST_DATABASE_URL) && managerIsBuilt();
if (!canRun) {
  console.warn(
    'skipping the two-manager test: it needs FARM_TEST_DATABASE_URL (real Postgres) and a built manager (npx tsc -b)',
  );
}

(canRun ? describe : describe.skip)('two managers on one Postgres database', () => {
  let database: TestDatabase;
  const dataDirs: string[] = [];
  const managers: ManagerProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    for (let i = 0; i < 2; i++) {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `farm-replica-${i}-`));
      dataDirs.push(dataDir);
      managers.push(
        await startManagerProcess({
          dataDir,
          databaseUrl: database.url!,
          registrationSecret: SECRET,
        }),
      );
    }
  }, 180_000);

  afterAll(async () => {
    for (const manager of managers) await manager.stop();
    await database?.dispose();
    for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  const call = async (base: string, route: string, token: string | null, body?: unknown) => {
    const response = await fetch(`${base}${route}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };

  it('gives every task to exactly one worker and completes each once', async () => {
    // Whichever replica created the first admin holds its token.
    const tokenFile = dataDirs.map((dir) => path.join(dir, 'admin-token')).find(fs.existsSync);
    const adminToken = fs.readFileSync(tokenFile!, 'utf8').trim();
    const submitted = await call(managers[0]!.url, '/api/v1/jobs', adminToken, {
      name: 'replicas',
      type: 'shell-frames',
      settings: { command: 'true', frames: `1-${TASKS}`, chunk_size: 1 },
    });
    expect(submitted.status).toBe(201);

    const claimedBy = new Map<string, string[]>();
    const runWorker = async (index: number) => {
      const base = managers[index % 2]!.url;
      const name = `worker-${index}`;
      const registered = await call(base, '/api/v1/worker/register', null, {
        secret: SECRET,
        name,
        platform: 'linux',
        taskTypes: ['misc'],
      });
      const token: string = registered.body.token;
      await call(base, '/api/v1/worker/sign-on', token, {
        name,
        platform: 'linux',
        taskTypes: ['misc'],
        version: 'test',
      });
      await call(base, '/api/v1/worker/state-changed', token, { status: 'awake' });
      for (;;) {
        const claim = await call(base, '/api/v1/worker/claim', token, { waitMs: 0 });
        if (claim.status === 204) return;
        expect(claim.status).toBe(200);
        const taskId: string = claim.body.id;
        claimedBy.set(taskId, [...(claimedBy.get(taskId) ?? []), name]);
        const update = `/api/v1/worker/tasks/${taskId}/update`;
        expect((await call(base, update, token, { status: 'active' })).status).toBe(204);
        expect((await call(base, update, token, { status: 'completed' })).status).toBe(204);
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, i) => runWorker(i)));

    expect(claimedBy.size).toBe(TASKS);
    const doubles = [...claimedBy.entries()].filter(([, workers]) => workers.length > 1);
    expect(doubles).toEqual([]);

    const job = await call(managers[1]!.url, `/api/v1/jobs/${submitted.body.id}`, adminToken);
    expect(job.body.status).toBe('completed');
    expect(job.body.taskCounts.completed).toBe(TASKS);
    const { rows } = await database.database.db
      .selectFrom('tasks')
      .select(({ fn }) => ['status', fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute()
      .then((r) => ({ rows: r }));
    expect(rows).toEqual([{ status: 'completed', n: TASKS }]);
  }, 300_000);
});
