import WebSocket from 'ws';
import {
  api,
  createTestPeople,
  createTestWorker,
  submitTestJob,
  type TestPeople,
} from './farm-callers';
import { testBackends } from '../support/test-database';
import { startTestManager, type TestManager } from '../support/test-manager';

// Issue 7, the leftovers: what a worker runs, schedules and the farm's newest image are shown only
// to callers with a role in the project they belong to (farm admins: all).

interface LiveClient {
  ws: WebSocket;
  messages: any[];
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

for (const backend of testBackends()) {
  describe(`project visibility of workers, schedules and images [${backend}]`, () => {
    let farm: TestManager;
    let people: TestPeople;

    beforeAll(async () => {
      farm = await startTestManager(backend);
      people = await createTestPeople(farm);
    }, 120_000);
    afterAll(() => farm?.stop());

    const open = async (token: string): Promise<LiveClient> => {
      const issued = await api(farm, 'POST', '/api/v1/auth/access-token', token);
      const ws = new WebSocket(
        `${farm.url.replace('http', 'ws')}/api/v1/ws?token=${issued.body.token}`,
      );
      const messages: any[] = [];
      ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8'))));
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      for (const topic of ['jobs', 'workers'])
        ws.send(JSON.stringify({ type: 'subscribe', topic }));
      await waitFor('both subscriptions', () =>
        messages.filter((m) => m.type === 'subscribed').length === 2 ? true : undefined,
      );
      return { ws, messages };
    };

    it('shows the task a worker runs only to callers who may see its job; others see it busy', async () => {
      const viewer = await open(people.users.viewer.token);
      const other = await open(people.users.otherArtist.token);
      try {
        const worker = await createTestWorker(
          farm,
          'visible-worker',
          farm.manager.registrationSecret,
        );
        const jobId = await submitTestJob(farm, people.users.artist.token, 'alpha', 'secret shot');
        const claim = await api(farm, 'POST', '/api/v1/worker/claim', worker.token, { waitMs: 0 });
        expect(claim.status).toBe(200);

        const listed = async (token: string) =>
          (await api(farm, 'GET', '/api/v1/workers', token)).body.items.find(
            (w: { id: string }) => w.id === worker.id,
          ) as Record<string, unknown> | undefined;
        const expected = { id: claim.body.id, jobId, name: claim.body.name };
        expect(await listed(people.users.viewer.token)).toMatchObject({
          busy: true,
          currentTask: expected,
        });
        expect(await listed(farm.adminToken)).toMatchObject({ busy: true, currentTask: expected });
        const hidden = await listed(people.users.otherArtist.token);
        expect(hidden).toMatchObject({ busy: true, currentTask: null });
        expect(JSON.stringify(hidden)).not.toContain(jobId);

        const one = await api(
          farm,
          'GET',
          `/api/v1/workers/${worker.id}`,
          people.users.otherArtist.token,
        );
        expect(one.status).toBe(200);
        expect(one.body).toMatchObject({ busy: true, currentTask: null });
        const seen = await api(
          farm,
          'GET',
          `/api/v1/workers/${worker.id}`,
          people.users.manager.token,
        );
        expect(seen.body.currentTask).toEqual(expected);

        // A change of the worker goes to both live clients, with the task only for the viewer.
        const tagged = await api(
          farm,
          'PUT',
          `/api/v1/workers/${worker.id}/tags`,
          people.users.manager.token,
          { tags: ['gpu'] },
        );
        expect(tagged.status).toBe(200);
        expect(tagged.body.currentTask).toEqual(expected);
        const update = (client: LiveClient) =>
          waitFor(
            'the worker update',
            () =>
              client.messages.find(
                (m) =>
                  m.type === 'worker-updated' && m.worker.id === worker.id && m.worker.tags.length,
              ) as { worker: Record<string, unknown> } | undefined,
          );
        expect((await update(viewer)).worker).toMatchObject({ busy: true, currentTask: expected });
        const foreign = await update(other);
        expect(foreign.worker).toMatchObject({ busy: true, currentTask: null, tags: ['gpu'] });
        expect(JSON.stringify(other.messages)).not.toContain('secret shot');
        expect(JSON.stringify(other.messages)).not.toContain(jobId);

        // Idle workers are not busy for anyone.
        const idle = await createTestWorker(farm, 'idle-worker', farm.manager.registrationSecret);
        const idleRow = (
          await api(farm, 'GET', '/api/v1/workers', people.users.viewer.token)
        ).body.items.find((w: { id: string }) => w.id === idle.id);
        expect(idleRow).toMatchObject({ busy: false, currentTask: null });
      } finally {
        viewer.ws.close();
        other.ws.close();
      }
    });

    it('lists and shows schedules only to callers with a role in their project', async () => {
      const make = async (name: string, project: string | undefined) => {
        const created = await api(farm, 'POST', '/api/v1/schedules', farm.adminToken, {
          name,
          cron: '0 3 * * *',
          template: {
            name,
            type: 'echo-sleep-test',
            ...(project ? { project } : {}),
            settings: { message: 'nightly' },
          },
        });
        expect(created.status).toBe(201);
        return created.body.id as string;
      };
      const alpha = await make('alpha nightly', 'alpha');
      const beta = await make('beta nightly', 'beta');
      const fallback = await make('default nightly', undefined);

      const names = async (token: string) =>
        (await api(farm, 'GET', '/api/v1/schedules', token)).body.items.map(
          (s: { name: string }) => s.name,
        ) as string[];
      expect(await names(people.users.viewer.token)).toEqual(['alpha nightly']);
      expect(await names(people.users.otherArtist.token)).toEqual(['beta nightly']);
      expect(await names(farm.adminToken)).toEqual([
        'alpha nightly',
        'beta nightly',
        'default nightly',
      ]);

      const get = (id: string, token: string, suffix = '') =>
        api(farm, 'GET', `/api/v1/schedules/${id}${suffix}`, token);
      expect((await get(alpha, people.users.viewer.token)).status).toBe(200);
      const refused = await get(beta, people.users.viewer.token);
      expect(refused.status).toBe(403);
      expect(JSON.stringify(refused.body)).not.toContain('nightly');
      expect((await get(beta, people.users.viewer.token, '/runs')).status).toBe(403);
      expect((await get(fallback, people.users.otherArtist.token)).status).toBe(403);
      expect((await get(beta, people.users.otherArtist.token, '/runs')).status).toBe(200);
    });

    it("returns the newest image of the caller's projects, not nothing when another project's is newer", async () => {
      const alphaJob = await submitTestJob(
        farm,
        people.users.artist.token,
        'alpha',
        'alpha frames',
      );
      const betaJob = await submitTestJob(
        farm,
        people.users.otherArtist.token,
        'beta',
        'beta frames',
      );
      const db = farm.manager.database.db;
      await db.deleteFrom('last_rendered').execute();
      const newest = async (token: string) => {
        const answer = await api(farm, 'GET', '/api/v1/last-rendered', token);
        return answer.status === 204 ? null : (answer.body.jobId as string);
      };
      expect(await newest(people.users.viewer.token)).toBeNull();

      await db
        .insertInto('last_rendered')
        .values([
          {
            job_id: alphaJob,
            task_id: null,
            path: 'alpha.jpg',
            updated_at: new Date(Date.now() - 60_000),
          },
          { job_id: betaJob, task_id: null, path: 'beta.jpg', updated_at: new Date() },
        ])
        .execute();
      expect(await newest(farm.adminToken)).toBe(betaJob);
      expect(await newest(people.users.otherArtist.token)).toBe(betaJob);
      expect(await newest(people.users.viewer.token)).toBe(alphaJob);
    });
  });
}
