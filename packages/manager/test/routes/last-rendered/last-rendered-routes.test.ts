import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import WebSocket from 'ws';
import type { LiveEvent } from '@farm/core';
import { testBackends } from '../../support/test-database';
import { startTestManager, type TestManager } from '../../support/test-manager';

type Json = Record<string, any>;

/** A real PNG of the given size. */
function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: '#3366cc80' } })
    .png()
    .toBuffer();
}

// The last-rendered images through the whole manager: a worker uploads a PNG of its running task,
// the manager makes the thumbnails, says so live, and serves them with validators for polling.
for (const backend of testBackends()) {
  describe(`last-rendered images over HTTP [${backend}]`, () => {
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
    ): Promise<{ status: number; body: Json | undefined; headers: Headers }> => {
      const response = await fetch(`${farm.url}${path}`, {
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
        body: text ? (JSON.parse(text) as Json) : undefined,
        headers: response.headers,
      };
    };

    /** Submits a job and starts its first task on a new worker; returns what the upload needs. */
    async function runningTask(name: string) {
      const submitted = await api('POST', '/api/v1/jobs', farm.adminToken, {
        name,
        type: 'echo-sleep-test',
        settings: { message: 'hi', sleep_repeats: 1 },
      });
      expect(submitted.status).toBe(201);
      const registered = await api('POST', '/api/v1/worker/register', null, {
        secret: farm.manager.registrationSecret,
        name: `${name}-worker`,
        platform: 'linux',
        taskTypes: ['misc'],
      });
      const token: string = registered.body!.token;
      await api('POST', '/api/v1/worker/sign-on', token, {
        name: `${name}-worker`,
        platform: 'linux',
        taskTypes: ['misc'],
        version: 'test',
      });
      await api('POST', '/api/v1/worker/state-changed', token, { status: 'awake' });
      const claim = await api('POST', '/api/v1/worker/claim', token, { waitMs: 0 });
      expect(claim.status).toBe(200);
      const taskId: string = claim.body!.id;
      const update = `/api/v1/worker/tasks/${taskId}/update`;
      expect((await api('POST', update, token, { status: 'active' })).status).toBe(204);
      return { jobId: submitted.body!.id as string, taskId, token, update };
    }

    const upload = (taskId: string, token: string, image: Buffer, type = 'image/png') =>
      fetch(`${farm.url}/api/v1/worker/tasks/${taskId}/output`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': type },
        body: image,
      });

    async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const value = await probe();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error('timed out waiting');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }

    it('turns an uploaded PNG into JPEG thumbnails, served with an ETag, live and farm-wide', async () => {
      const task = await runningTask('shot-010');
      expect(
        (await api('GET', `/api/v1/jobs/${task.jobId}/last-rendered`, farm.adminToken)).status,
      ).toBe(204);

      const live = new WebSocket(`${farm.url.replace('http', 'ws')}/api/v1/ws`, {
        headers: { Authorization: `Bearer ${farm.adminToken}` },
      });
      const received: LiveEvent[] = [];
      live.on('message', (data) =>
        received.push(JSON.parse((data as Buffer).toString()) as LiveEvent),
      );
      await new Promise((resolve, reject) => live.once('open', resolve).once('error', reject));
      live.send(JSON.stringify({ type: 'subscribe', topic: 'last-rendered' }));
      await eventually(() => received.find((e) => e.type === 'subscribed'));

      const accepted = await upload(task.taskId, task.token, await png(2400, 1200));
      expect(accepted.status).toBe(202);

      const info = await eventually(async () => {
        const res = await api('GET', `/api/v1/jobs/${task.jobId}/last-rendered`, farm.adminToken);
        return res.status === 200 ? res.body : undefined;
      });
      expect(info.jobId).toBe(task.jobId);
      const event = await eventually(() => received.find((e) => e.type === 'last-rendered'));
      expect(event).toEqual({ type: 'last-rendered', jobId: task.jobId, info });
      live.close();

      const farmWide = await api('GET', '/api/v1/last-rendered', farm.adminToken);
      expect(farmWide.status).toBe(200);
      expect(farmWide.body).toEqual(info);

      for (const [size, width] of [
        ['full', 1920],
        ['small', 640],
        ['tiny', 160],
      ] as const) {
        const res = await fetch(`${farm.url}${info.images[size]}`, {
          headers: { Authorization: `Bearer ${farm.adminToken}` },
        });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('image/jpeg');
        // The versioned URL never changes content, so the browser may keep it.
        expect(res.headers.get('cache-control')).toContain('immutable');
        const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', width, width / 2]);
      }

      // Polling without a version revalidates, and an unchanged image costs a 304 and no body.
      const plain = `${farm.url}/api/v1/jobs/${task.jobId}/last-rendered/small`;
      const first = await fetch(plain, { headers: { Authorization: `Bearer ${farm.adminToken}` } });
      expect(first.headers.get('cache-control')).toBe('private, no-cache');
      const etag = first.headers.get('etag')!;
      expect(etag).toMatch(/^".+"$/);
      const again = await fetch(plain, {
        headers: { Authorization: `Bearer ${farm.adminToken}`, 'If-None-Match': etag },
      });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');

      // A newer image replaces it: new version, new etag.
      expect((await upload(task.taskId, task.token, await png(300, 300))).status).toBe(202);
      const newer = await eventually(async () => {
        const res = await api('GET', `/api/v1/jobs/${task.jobId}/last-rendered`, farm.adminToken);
        return res.body?.updated !== info.updated ? res.body : undefined;
      });
      expect(newer.images.small).not.toBe(info.images.small);
      const changed = await fetch(plain, {
        headers: { Authorization: `Bearer ${farm.adminToken}`, 'If-None-Match': etag },
      });
      expect(changed.status).toBe(200);
      expect((await sharp(Buffer.from(await changed.arrayBuffer())).metadata()).width).toBe(300);
    });

    it('shows the newest image of any job farm-wide', async () => {
      const a = await runningTask('shot-020');
      const b = await runningTask('shot-030');
      expect((await upload(a.taskId, a.token, await png(64, 64))).status).toBe(202);
      await eventually(async () => {
        const res = await api('GET', '/api/v1/last-rendered', farm.adminToken);
        return res.body?.jobId === a.jobId ? true : undefined;
      });
      expect((await upload(b.taskId, b.token, await png(64, 64))).status).toBe(202);
      await eventually(async () => {
        const res = await api('GET', '/api/v1/last-rendered', farm.adminToken);
        return res.body?.jobId === b.jobId ? true : undefined;
      });
    });

    it('removes the thumbnails with their job', async () => {
      const task = await runningTask('shot-050');
      expect((await upload(task.taskId, task.token, await png(64, 64))).status).toBe(202);
      const info = await eventually(async () => {
        const res = await api('GET', `/api/v1/jobs/${task.jobId}/last-rendered`, farm.adminToken);
        return res.status === 200 ? res.body : undefined;
      });
      // Run the job's remaining tasks, so it completes and may be deleted.
      expect((await api('POST', task.update, task.token, { status: 'completed' })).status).toBe(
        204,
      );
      for (;;) {
        const claim = await api('POST', '/api/v1/worker/claim', task.token, { waitMs: 0 });
        if (claim.status !== 200) break;
        const update = `/api/v1/worker/tasks/${claim.body!.id}/update`;
        await api('POST', update, task.token, { status: 'active' });
        await api('POST', update, task.token, { status: 'completed' });
      }
      const folder = path.join(farm.manager.config.storageDir, 'previews', task.jobId);
      expect(fs.existsSync(path.join(folder, 'full.jpg'))).toBe(true);
      const deleted = await api('POST', `/api/v1/jobs/${task.jobId}/actions`, farm.adminToken, {
        action: 'delete',
      });
      expect(deleted.status).toBe(200);
      expect(fs.existsSync(folder)).toBe(false);
      const gone = await fetch(`${farm.url}${info.images.small}`, {
        headers: { Authorization: `Bearer ${farm.adminToken}` },
      });
      expect(gone.status).toBe(404);
    });

    it('refuses uploads of a task that is not running, and images of jobs without one', async () => {
      const task = await runningTask('shot-040');
      expect((await api('POST', task.update, task.token, { status: 'completed' })).status).toBe(
        204,
      );
      const late = await upload(task.taskId, task.token, await png(32, 32));
      expect(late.status).toBe(409);
      const gif = await upload(task.taskId, task.token, Buffer.from('GIF89a'), 'image/gif');
      expect(gif.status).toBe(415);

      const none = await api(
        'GET',
        `/api/v1/jobs/${task.jobId}/last-rendered/full`,
        farm.adminToken,
      );
      expect(none.status).toBe(404);
      expect(none.body!.code).toBe('not_found');
      const badSize = await api(
        'GET',
        `/api/v1/jobs/${task.jobId}/last-rendered/huge`,
        farm.adminToken,
      );
      expect(badSize.status).toBe(400);
    });
  });
}
