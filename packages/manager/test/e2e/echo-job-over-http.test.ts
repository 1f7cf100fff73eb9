import { testBackends } from '../support/test-database';
import { startTestManager, type TestManager } from '../support/test-manager';

// A job submitted the way docs/api.md shows it, run to completion by a worker speaking the
// documented HTTP worker protocol (register, sign on, claim, update) against the whole manager.
for (const backend of testBackends()) {
  describe(`the manager end to end [${backend}]`, () => {
    let farm: TestManager;
    beforeAll(async () => {
      farm = await startTestManager(backend);
    }, 120_000);
    afterAll(() => farm?.stop());

    const api = async (
      method: string,
      path: string,
      token: string | null,
      body?: unknown,
    ): Promise<{ status: number; body: any }> => {
      const response = await fetch(`${farm.url}${path}`, {
        method,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    };

    it('runs an echo-sleep-test job to completion', async () => {
      const submitted = await api('POST', '/api/v1/jobs', farm.adminToken, {
        name: 'hello',
        type: 'echo-sleep-test',
        settings: { message: 'hi', sleep_repeats: 3 },
      });
      expect(submitted.status).toBe(201);
      expect(submitted.body.taskCounts.total).toBe(4);
      const jobId: string = submitted.body.id;

      const registered = await api('POST', '/api/v1/worker/register', null, {
        secret: farm.manager.registrationSecret,
        name: 'test-worker',
        platform: 'linux',
        taskTypes: ['misc'],
      });
      expect(registered.status).toBe(201);
      const workerToken: string = registered.body.token;

      const signOn = await api('POST', '/api/v1/worker/sign-on', workerToken, {
        name: 'test-worker',
        platform: 'linux',
        taskTypes: ['misc'],
        version: 'test',
      });
      expect(signOn.status).toBe(200);
      await api('POST', '/api/v1/worker/state-changed', workerToken, { status: 'awake' });

      const seenTasks: string[] = [];
      for (let i = 0; i < 4; i++) {
        const claim = await api('POST', '/api/v1/worker/claim', workerToken, { waitMs: 0 });
        expect(claim.status).toBe(200);
        seenTasks.push(claim.body.name);
        const taskPath = `/api/v1/worker/tasks/${claim.body.id}/update`;
        expect((await api('POST', taskPath, workerToken, { status: 'active' })).status).toBe(204);
        const done = await api('POST', taskPath, workerToken, {
          status: 'completed',
          log: `ran ${claim.body.name}\n`,
        });
        expect(done.status).toBe(204);
      }
      expect(seenTasks[0]).toBe('echo');

      const nothingLeft = await api('POST', '/api/v1/worker/claim', workerToken, { waitMs: 0 });
      expect(nothingLeft.status).toBe(204);

      const job = await api('GET', `/api/v1/jobs/${jobId}`, farm.adminToken);
      expect(job.body.status).toBe('completed');
      expect(job.body.taskCounts.completed).toBe(4);
    });

    it('serves every operation of the API document', () => {
      expect([...farm.manager.unimplementedOperations]).toEqual([]);
    });

    it('answers 304 to a job-type request whose etag the client already has', async () => {
      const first = await fetch(`${farm.url}/api/v1/job-types/echo-sleep-test`, {
        headers: { Authorization: `Bearer ${farm.adminToken}` },
      });
      const etag = first.headers.get('etag');
      expect(first.status).toBe(200);
      expect(etag).toBeTruthy();
      const again = await fetch(`${farm.url}/api/v1/job-types/echo-sleep-test`, {
        headers: { Authorization: `Bearer ${farm.adminToken}`, 'If-None-Match': etag! },
      });
      expect(again.status).toBe(304);
    });

    it('refuses a request without a credential and changes nothing', async () => {
      const refused = await api('POST', '/api/v1/jobs', null, {
        name: 'x',
        type: 'echo-sleep-test',
        settings: { message: 'hi' },
      });
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('unauthenticated');
      const jobs = await api('GET', '/api/v1/jobs', farm.adminToken);
      expect(jobs.body.items.map((j: { name: string }) => j.name)).not.toContain('x');
    });
  });
}
