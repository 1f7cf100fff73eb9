import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { createLogger } from '../../src/logging';
import { createApiToken } from '../../src/services/auth';
import {
  api,
  createTestPeople,
  createTestWorker,
  submitTestJob,
  type TestPeople,
} from './farm-callers';
import { testBackends } from '../support/test-database';
import { startTestManager, type TestManager } from '../support/test-manager';

// Issue 7 end to end: password login and web sessions (fixation, CSRF), brute-force slowing,
// personal tokens, access tokens, roles on jobs and lists and live events, worker credentials,
// the audit log, and no secret in the logs.

function cookieOf(response: { headers: Headers }): string {
  const header = response.headers.get('set-cookie') ?? '';
  return header.split(';', 1)[0]!;
}

for (const backend of testBackends()) {
  describe(`people, sessions and tokens [${backend}]`, () => {
    let farm: TestManager;
    let people: TestPeople;
    const logLines: string[] = [];

    beforeAll(async () => {
      const stream = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          logLines.push(chunk.toString());
          callback();
        },
      });
      farm = await startTestManager(backend, [], {
        logger: createLogger({ level: 'debug', format: 'json', stream }),
      });
      people = await createTestPeople(farm);
    }, 120_000);
    afterAll(() => farm?.stop());

    const login = (name: string, password: string, cookie?: string) =>
      api(
        farm,
        'POST',
        '/api/v1/auth/login',
        null,
        { name, password },
        cookie ? { Cookie: cookie } : {},
      );

    describe('web sessions', () => {
      it('signs in with a password: an httpOnly, SameSite=Strict cookie that works until logout', async () => {
        const { viewer } = people.users;
        const wrong = await login(viewer.name, 'not the password');
        expect(wrong.status).toBe(401);
        expect(wrong.headers.get('set-cookie')).toBeNull();

        const ok = await login(viewer.name, viewer.password);
        expect(ok.status).toBe(200);
        expect(ok.body.user.name).toBe(viewer.name);
        const setCookie = ok.headers.get('set-cookie')!;
        expect(setCookie).toMatch(/^farm_session=farm_s_/);
        expect(setCookie).toContain('HttpOnly');
        expect(setCookie).toContain('SameSite=Strict');
        const cookie = cookieOf(ok);
        const me = await api(farm, 'GET', '/api/v1/me', null, undefined, { Cookie: cookie });
        expect(me.status).toBe(200);
        expect(me.body.name).toBe(viewer.name);

        const out = await api(farm, 'POST', '/api/v1/auth/logout', null, undefined, {
          Cookie: cookie,
          'X-Farm-CSRF': ok.body.csrfToken,
        });
        expect(out.status).toBe(204);
        const after = await api(farm, 'GET', '/api/v1/me', null, undefined, { Cookie: cookie });
        expect(after.status).toBe(401);
      });

      it('refuses a cookie-authenticated change without the CSRF token, and changes nothing', async () => {
        const { artist } = people.users;
        const ok = await login(artist.name, artist.password);
        const cookie = cookieOf(ok);
        const before = await api(farm, 'GET', '/api/v1/me/tokens', artist.token);
        const body = { name: 'from a forged form', scopes: ['jobs:read'] };

        const missing = await api(farm, 'POST', '/api/v1/me/tokens', null, body, {
          Cookie: cookie,
        });
        expect(missing.status).toBe(403);
        const wrong = await api(farm, 'POST', '/api/v1/me/tokens', null, body, {
          Cookie: cookie,
          'X-Farm-CSRF': 'guessed',
        });
        expect(wrong.status).toBe(403);
        const unchanged = await api(farm, 'GET', '/api/v1/me/tokens', artist.token);
        expect(unchanged.body.items).toHaveLength(before.body.items.length);

        const right = await api(farm, 'POST', '/api/v1/me/tokens', null, body, {
          Cookie: cookie,
          'X-Farm-CSRF': ok.body.csrfToken,
        });
        expect(right.status).toBe(201);
        // Reads need no token; bearer calls never do.
        expect(
          (await api(farm, 'GET', '/api/v1/me', null, undefined, { Cookie: cookie })).status,
        ).toBe(200);
        const bearer = await api(farm, 'POST', '/api/v1/me/tokens', artist.token, body);
        expect(bearer.status).toBe(201);
      });

      it('gives a new session id at every login: a planted or earlier session id is never reused', async () => {
        const { manager } = people.users;
        const planted = 'farm_session=farm_s_plantedbyanattacker0123456789abcdefghijklmnop';
        const first = await login(manager.name, manager.password, planted);
        expect(first.status).toBe(200);
        const firstCookie = cookieOf(first);
        expect(firstCookie).not.toBe(planted);
        expect(
          (await api(farm, 'GET', '/api/v1/me', null, undefined, { Cookie: planted })).status,
        ).toBe(401);

        // Logging in again with a valid session ends it and makes another.
        const second = await login(manager.name, manager.password, firstCookie);
        const secondCookie = cookieOf(second);
        expect(secondCookie).not.toBe(firstCookie);
        expect(
          (await api(farm, 'GET', '/api/v1/me', null, undefined, { Cookie: firstCookie })).status,
        ).toBe(401);
        expect(
          (await api(farm, 'GET', '/api/v1/me', null, undefined, { Cookie: secondCookie })).status,
        ).toBe(200);
      });

      it('slows a password guesser: after 5 failures even the right password waits (429)', async () => {
        const created = await api(farm, 'POST', '/api/v1/users', farm.adminToken, {
          name: 'target',
          password: 'the right password',
        });
        expect(created.status).toBe(201);
        for (let i = 0; i < 5; i++) {
          expect((await login('target', `guess ${i}`)).status).toBe(401);
        }
        const blocked = await login('target', 'the right password');
        expect(blocked.status).toBe(429);
        expect(blocked.body.code).toBe('rate_limited');
        expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        // Another account from the same address is not blocked yet.
        const other = await login(people.users.viewer.name, people.users.viewer.password);
        expect(other.status).toBe(200);
      });

      it('ends the sessions of a disabled user and refuses their login', async () => {
        const created = await api(farm, 'POST', '/api/v1/users', farm.adminToken, {
          name: 'leaver',
          password: 'leaver password',
        });
        const ok = await login('leaver', 'leaver password');
        const cookie = cookieOf(ok);
        const disabled = await api(
          farm,
          'PATCH',
          `/api/v1/users/${created.body.id}`,
          farm.adminToken,
          {
            disabled: true,
          },
        );
        expect(disabled.body.disabled).toBe(true);
        expect(
          (await api(farm, 'GET', '/api/v1/me', null, undefined, { Cookie: cookie })).status,
        ).toBe(401);
        expect((await login('leaver', 'leaver password')).status).toBe(401);
      });
    });

    describe('tokens', () => {
      it('shows a new token once, lists it with its last use, and stops it when revoked or expired', async () => {
        const { viewer } = people.users;
        const created = await api(farm, 'POST', '/api/v1/me/tokens', viewer.token, {
          name: 'script',
          scopes: ['jobs:read'],
          expiresInDays: 30,
        });
        expect(created.status).toBe(201);
        const secret: string = created.body.secret;
        expect(secret).toMatch(/^farm_u_/);
        expect((await api(farm, 'GET', '/api/v1/jobs', secret)).status).toBe(200);
        // jobs:read only: submitting is refused even though the viewer's role would allow reads.
        expect((await api(farm, 'POST', '/api/v1/jobs', secret, {})).status).toBe(403);

        const list = await api(farm, 'GET', '/api/v1/me/tokens', viewer.token);
        expect(JSON.stringify(list.body)).not.toContain(secret);
        const listed = list.body.items.find((t: { id: string }) => t.id === created.body.token.id);
        expect(listed.lastUsedAt).not.toBeNull();
        expect(listed.expiresAt).not.toBeNull();

        // Another user cannot revoke it (not found), its owner can.
        const foreign = await api(
          farm,
          'DELETE',
          `/api/v1/me/tokens/${listed.id}`,
          people.users.artist.token,
        );
        expect(foreign.status).toBe(404);
        expect(
          (await api(farm, 'DELETE', `/api/v1/me/tokens/${listed.id}`, viewer.token)).status,
        ).toBe(204);
        expect((await api(farm, 'GET', '/api/v1/jobs', secret)).status).toBe(401);

        const expiring = await api(farm, 'POST', '/api/v1/me/tokens', viewer.token, {
          name: 'short',
          scopes: ['jobs:read'],
          expiresInDays: 1,
        });
        await farm.manager.database.db
          .updateTable('api_tokens')
          .set({ expires_at: new Date(Date.now() - 1000) })
          .where('id', '=', expiring.body.token.id)
          .execute();
        expect((await api(farm, 'GET', '/api/v1/jobs', expiring.body.secret)).status).toBe(401);
      });

      it('lets only admins put the admin scope on a token', async () => {
        const refused = await api(farm, 'POST', '/api/v1/me/tokens', people.users.manager.token, {
          name: 'escalate',
          scopes: ['admin'],
        });
        expect(refused.status).toBe(403);
      });

      it('issues short-lived access tokens that only read', async () => {
        const issued = await api(
          farm,
          'POST',
          '/api/v1/auth/access-token',
          people.users.viewer.token,
        );
        expect(issued.status).toBe(201);
        const jwt: string = issued.body.token;
        expect(jwt.split('.')).toHaveLength(3);
        expect(Date.parse(issued.body.expiresAt) - Date.now()).toBeLessThanOrEqual(5 * 60_000);
        expect((await api(farm, 'GET', '/api/v1/jobs', jwt)).status).toBe(200);
        expect(
          (await api(farm, 'POST', '/api/v1/me/tokens', jwt, { name: 'x', scopes: ['jobs:read'] }))
            .status,
        ).toBe(403);
        const admins = await api(farm, 'POST', '/api/v1/auth/access-token', farm.adminToken);
        expect(
          (await api(farm, 'POST', '/api/v1/projects', admins.body.token, { name: 'nope' })).status,
        ).toBe(403);
        expect((await api(farm, 'GET', '/api/v1/jobs', `${jwt.slice(0, -2)}xx`)).status).toBe(401);
      });
    });

    describe('roles', () => {
      it('lets artists control only their own jobs and managers every job of their project', async () => {
        const artist2 = await api(farm, 'POST', '/api/v1/users', farm.adminToken, {
          name: 'artist2',
        });
        await api(
          farm,
          'PUT',
          `/api/v1/projects/${people.projectId}/members/${artist2.body.id}`,
          farm.adminToken,
          {
            role: 'artist',
          },
        );
        const secret2 = (
          await createApiToken(
            farm.manager.database.db,
            { kind: 'user', userId: artist2.body.id, name: 'artist2', isAdmin: false, scopes: [] },
            { name: 't', scopes: ['jobs:read', 'jobs:write'] },
          )
        ).secret;

        const jobId = await submitTestJob(farm, people.users.artist.token, 'alpha', 'owned');
        const pause = { action: 'pause' };
        const byOther = await api(farm, 'POST', `/api/v1/jobs/${jobId}/actions`, secret2, pause);
        expect(byOther.status).toBe(403);
        const byViewer = await api(
          farm,
          'POST',
          `/api/v1/jobs/${jobId}/actions`,
          people.users.viewer.token,
          pause,
        );
        expect(byViewer.status).toBe(403);
        const bulkByOther = await api(farm, 'POST', '/api/v1/jobs/actions', secret2, {
          jobIds: [jobId],
          action: 'pause',
        });
        expect(bulkByOther.status).toBe(403);
        const job = await api(farm, 'GET', `/api/v1/jobs/${jobId}`, farm.adminToken);
        expect(job.body.status).not.toMatch(/pause/);

        const byOwner = await api(
          farm,
          'POST',
          `/api/v1/jobs/${jobId}/actions`,
          people.users.artist.token,
          pause,
        );
        expect(byOwner.status).toBe(200);
        const byManager = await api(
          farm,
          'POST',
          `/api/v1/jobs/${jobId}/actions`,
          people.users.manager.token,
          {
            action: 'cancel',
          },
        );
        expect(byManager.status).toBe(200);

        // Viewers cannot submit; artists of another project cannot submit here.
        const submit = {
          name: 'x',
          type: 'echo-sleep-test',
          project: 'alpha',
          settings: { message: 'x', sleep_repeats: 1 },
        };
        expect(
          (await api(farm, 'POST', '/api/v1/jobs', people.users.viewer.token, submit)).status,
        ).toBe(403);
        expect(
          (await api(farm, 'POST', '/api/v1/jobs', people.users.otherArtist.token, submit)).status,
        ).toBe(403);
      });

      it('filters job lists, counts and projects to the projects the caller has a role in', async () => {
        const alphaJob = await submitTestJob(
          farm,
          people.users.artist.token,
          'alpha',
          'alpha only',
        );
        const betaJob = await submitTestJob(
          farm,
          people.users.otherArtist.token,
          'beta',
          'beta only',
        );
        const ids = async (token: string) =>
          (
            (await api(farm, 'GET', '/api/v1/jobs?limit=1000', token)).body.items as {
              id: string;
            }[]
          ).map((j) => j.id);
        expect(await ids(people.users.viewer.token)).toContain(alphaJob);
        expect(await ids(people.users.viewer.token)).not.toContain(betaJob);
        expect(await ids(people.users.otherArtist.token)).toEqual([betaJob]);
        expect(await ids(farm.adminToken)).toEqual(expect.arrayContaining([alphaJob, betaJob]));

        const summary = await api(
          farm,
          'GET',
          '/api/v1/jobs/summary',
          people.users.otherArtist.token,
        );
        expect(summary.body.total).toBe(1);
        const projects = await api(farm, 'GET', '/api/v1/projects', people.users.otherArtist.token);
        expect(projects.body.items.map((p: { name: string }) => p.name)).toEqual(['beta']);
      });

      it('delivers live events only of visible projects and refuses subscriptions to others', async () => {
        const open = async (token: string) => {
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
          return { ws, messages };
        };
        const viewer = await open(people.users.viewer.token);
        const other = await open(people.users.otherArtist.token);
        for (const client of [viewer, other])
          client.ws.send(JSON.stringify({ type: 'subscribe', topic: 'jobs' }));
        const jobId = await submitTestJob(farm, people.users.artist.token, 'alpha', 'live');
        other.ws.send(JSON.stringify({ type: 'subscribe', topic: 'job', id: jobId }));
        await new Promise((resolve) => setTimeout(resolve, 500));
        const about = (messages: any[]): unknown[] =>
          messages.filter((m) => m.job?.id === jobId || m.jobId === jobId);
        expect(about(viewer.messages).length).toBeGreaterThan(0);
        expect(about(other.messages)).toEqual([]);
        expect(other.messages.some((m) => m.type === 'error' && m.code === 'forbidden')).toBe(true);
        viewer.ws.close();
        other.ws.close();
      });
    });

    describe('workers', () => {
      it('revokes a worker token: the worker gets 401 and must register again', async () => {
        const worker = await createTestWorker(farm, 'revoked-one', farm.manager.registrationSecret);
        expect(
          (await api(farm, 'POST', '/api/v1/worker/heartbeat', worker.token, {})).status,
        ).not.toBe(401);
        const socket = new WebSocket(`${farm.url.replace('http', 'ws')}/api/v1/ws/worker`, {
          headers: { Authorization: `Bearer ${worker.token}` },
        });
        await new Promise((resolve, reject) => {
          socket.once('open', resolve);
          socket.once('error', reject);
        });
        const closed = new Promise<number>((resolve) =>
          socket.once('close', (code) => resolve(code)),
        );
        const revoked = await api(
          farm,
          'POST',
          `/api/v1/workers/${worker.id}/revoke-token`,
          people.users.manager.token,
        );
        expect(revoked.status).toBe(204);
        // Its open socket is closed at once (4001), so it notices without waiting for a call.
        expect(await closed).toBe(4001);
        const after = await api(farm, 'POST', '/api/v1/worker/heartbeat', worker.token, {});
        expect(after.status).toBe(401);
        const again = await createTestWorker(farm, 'revoked-one', farm.manager.registrationSecret);
        expect(again.token).not.toBe(worker.token);
      });

      it('rotates the registration secret: the old one is refused, the new one works', async () => {
        const rotated = await api(
          farm,
          'POST',
          '/api/v1/workers/registration-secret',
          farm.adminToken,
        );
        expect(rotated.status).toBe(200);
        const register = (secret: string) =>
          api(farm, 'POST', '/api/v1/worker/register', null, {
            secret,
            name: 'rotating',
            platform: 'linux',
            taskTypes: ['misc'],
          });
        expect((await register(farm.manager.registrationSecret)).status).toBe(403);
        expect((await register(rotated.body.secret)).status).toBe(201);
      });
    });

    describe('audit log', () => {
      it('records submissions, job actions, token and user changes and logins, for admins', async () => {
        const jobId = await submitTestJob(farm, people.users.artist.token, 'alpha', 'audited');
        await api(farm, 'POST', `/api/v1/jobs/${jobId}/actions`, people.users.artist.token, {
          action: 'cancel',
        });
        const page = await api(farm, 'GET', '/api/v1/audit-log?limit=1000', farm.adminToken);
        expect(page.status).toBe(200);
        const actions = page.body.items.map((e: { action: string }) => e.action);
        for (const action of [
          'submitJob',
          'applyJobAction',
          'createApiToken',
          'createUser',
          'login',
          'loginFailed',
        ]) {
          expect(actions).toContain(action);
        }
        const cancel = page.body.items.find(
          (e: { action: string; target: { jobId?: string } }) =>
            e.action === 'applyJobAction' && e.target.jobId === jobId,
        );
        expect(cancel.actor.name).toBe(people.users.artist.name);
        expect(cancel.details.action).toBe('cancel');
        expect(JSON.stringify(page.body)).not.toMatch(/password|farm_u_|farm_s_/);

        const filtered = await api(
          farm,
          'GET',
          '/api/v1/audit-log?action=loginFailed',
          farm.adminToken,
        );
        expect(
          filtered.body.items.every((e: { action: string }) => e.action === 'loginFailed'),
        ).toBe(true);
        expect(
          (await api(farm, 'GET', '/api/v1/audit-log', people.users.manager.token)).status,
        ).toBe(403);
      });
    });

    it('never writes a password, token, session or secret to the log', async () => {
      // A request with a token in the query string (as the live socket accepts) and a login.
      await api(
        farm,
        'GET',
        `/api/v1/jobs?token=${people.users.viewer.token}`,
        people.users.viewer.token,
      );
      await login(people.users.viewer.name, people.users.viewer.password);
      const text = logLines.join('');
      expect(text.length).toBeGreaterThan(0);
      expect(text).toContain('"level"');
      expect(text).toContain('/api/v1/auth/login');
      for (const user of Object.values(people.users)) {
        expect(text).not.toContain(user.password);
        expect(text).not.toContain(user.token);
      }
      expect(text).not.toContain(farm.adminToken);
      expect(text).not.toMatch(/farm_[uws]_[A-Za-z0-9_-]{20}/);
      expect(text).not.toContain(farm.manager.registrationSecret);
      expect(text).not.toContain('correct horse');
      expect(text).not.toContain('scrypt$');
    });
  });
}
