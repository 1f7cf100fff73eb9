import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { sql } from 'kysely';
import { createFileStore, createFileStoreLayout } from '../../../src/services/file-store';
import { testBackends } from '../../support/test-database';
import { startTestManager, type TestManager } from '../../support/test-manager';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

for (const backend of testBackends()) {
  describe(`file store over HTTP [${backend}]`, () => {
    let farm: TestManager;

    beforeAll(async () => {
      // Duties off: garbage collection is driven by hand here (the duty has its own test below).
      farm = await startTestManager(backend, ['--file-gc-age', '1d']);
    }, 120_000);
    afterAll(() => farm?.stop());

    const api = async (method: string, url: string, body?: unknown, token = farm.adminToken) => {
      const response = await fetch(`${farm.url}/api/v1${url}`, {
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
    const upload = async (
      hash: string,
      size: number,
      data: Buffer,
      extra: { offset?: number; headers?: Record<string, string> } = {},
    ) => {
      const query = extra.offset === undefined ? '' : `?offset=${extra.offset}`;
      const response = await fetch(`${farm.url}/api/v1/files/${hash}/${size}${query}`, {
        method: 'PUT',
        headers: {
          Authorization: `Bearer ${farm.adminToken}`,
          'Content-Type': 'application/octet-stream',
          ...extra.headers,
        },
        body: data,
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    };
    const layout = () => createFileStoreLayout(farm.manager.config.storageDir);
    const blobRows = async () =>
      (
        await sql<{ n: number }>`select count(*)::int as n from file_blobs`.execute(
          farm.manager.database.db,
        )
      ).rows[0]!.n;

    it('says what is missing, stores an upload read-only, and then has it', async () => {
      const data = randomBytes(5000);
      const hash = sha256(data);
      const asked = await api('POST', '/files/missing', {
        files: [{ sha256: hash, size: data.length }],
      });
      expect(asked.status).toBe(200);
      expect(asked.body.missing).toEqual([{ sha256: hash, size: data.length, receivedBytes: 0 }]);

      const stored = await upload(hash, data.length, data);
      expect(stored.status).toBe(201);
      expect(stored.body).toEqual({
        sha256: hash,
        size: data.length,
        status: 'stored',
        receivedBytes: data.length,
      });
      const blob = layout().blobPath(hash, data.length);
      expect(fs.readFileSync(blob).equals(data)).toBe(true);
      expect(fs.statSync(blob).mode & 0o222).toBe(0);

      expect(
        (await api('POST', '/files/missing', { files: [{ sha256: hash, size: 5000 }] })).body,
      ).toEqual({ missing: [] });
      expect((await upload(hash, data.length, data)).body.status).toBe('already-stored');
    });

    it('resumes an interrupted upload at the offset the store reports', async () => {
      const data = randomBytes(64 * 1024);
      const hash = sha256(data);
      const half = data.length / 2;
      const first = await upload(hash, data.length, data.subarray(0, half), {
        headers: { 'Content-Range': `bytes 0-${half - 1}/${data.length}` },
      });
      expect(first.status).toBe(202);
      expect(first.body).toMatchObject({ status: 'partial', receivedBytes: half });

      const asked = await api('POST', '/files/missing', {
        files: [{ sha256: hash, size: data.length }],
      });
      expect(asked.body.missing).toEqual([
        { sha256: hash, size: data.length, receivedBytes: half },
      ]);

      const wrong = await upload(hash, data.length, data.subarray(100), { offset: 100 });
      expect(wrong.status).toBe(409);
      expect(wrong.body.details).toEqual({ reason: 'offset-mismatch', receivedBytes: half });

      const rest = await upload(hash, data.length, data.subarray(half), { offset: half });
      expect(rest.status).toBe(201);
      expect(fs.readFileSync(layout().blobPath(hash, data.length)).equals(data)).toBe(true);
      expect(fs.existsSync(layout().partPath(hash, data.length))).toBe(false);
    });

    it('keeps what arrived when the client goes away, and continues from there', async () => {
      const data = randomBytes(256 * 1024);
      const hash = sha256(data);
      const { port } = new URL(farm.url);
      await new Promise<void>((resolve) => {
        const request = http.request({
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: `/api/v1/files/${hash}/${data.length}`,
          headers: {
            Authorization: `Bearer ${farm.adminToken}`,
            'Content-Type': 'application/octet-stream',
            'Content-Length': String(data.length),
          },
        });
        request.on('error', () => resolve());
        request.write(data.subarray(0, 100_000), () => {
          setTimeout(() => {
            request.destroy();
            resolve();
          }, 300);
        });
      });
      let received = 0;
      const deadline = Date.now() + 5000;
      while (received === 0 && Date.now() < deadline) {
        const asked = await api('POST', '/files/missing', {
          files: [{ sha256: hash, size: data.length }],
        });
        received = asked.body.missing[0].receivedBytes as number;
        if (received === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(received).toBeGreaterThan(0);
      expect(received).toBeLessThanOrEqual(100_000);
      const rest = await upload(hash, data.length, data.subarray(received), { offset: received });
      expect(rest.status).toBe(201);
      expect(fs.readFileSync(layout().blobPath(hash, data.length)).equals(data)).toBe(true);
    });

    it('refuses a wrong checksum or too many bytes and stores nothing', async () => {
      const before = await blobRows();
      const data = randomBytes(2000);
      const lie = sha256(Buffer.from('something else'));
      const bad = await upload(lie, data.length, data);
      expect(bad.status).toBe(422);
      expect(bad.body.code).toBe('checksum_mismatch');
      expect(bad.body.details).toMatchObject({ expected: lie, actual: sha256(data) });
      expect(fs.existsSync(layout().blobPath(lie, data.length))).toBe(false);
      expect(fs.existsSync(layout().partPath(lie, data.length))).toBe(false);

      const hash = sha256(data);
      const long = await upload(hash, 1000, data);
      expect(long.status).toBe(422);
      expect(long.body.code).toBe('size_mismatch');
      expect(fs.existsSync(layout().partPath(hash, 1000))).toBe(false);

      // Without a Content-Length (streamed), the overflow is caught while reading.
      const streamed = await fetch(`${farm.url}/api/v1/files/${hash}/1000`, {
        method: 'PUT',
        headers: {
          Authorization: `Bearer ${farm.adminToken}`,
          'Content-Type': 'application/octet-stream',
        },
        body: new Blob([data]).stream(),
        duplex: 'half',
      });
      expect(streamed.status).toBe(422);
      expect(((await streamed.json()) as { code: string }).code).toBe('size_mismatch');
      expect(fs.existsSync(layout().partPath(hash, 1000))).toBe(false);

      const badName = await upload('not-a-hash', 10, Buffer.alloc(10));
      expect(badName.status).toBe(400);
      expect(badName.body.code).toBe('validation_failed');
      expect(await blobRows()).toBe(before);
    });

    it('makes a checkout of hard links with the right files, reachable as {checkouts}', async () => {
      const a = randomBytes(3000);
      const b = Buffer.from('print("hello")\n');
      for (const data of [a, b]) {
        expect((await upload(sha256(data), data.length, data)).status).toBe(201);
      }
      const files = [
        { path: 'scene.blend', sha256: sha256(a), size: a.length },
        { path: 'textures/wood/oak.png', sha256: sha256(b), size: b.length },
        { path: 'textures/copy-of-a.bin', sha256: sha256(a), size: a.length },
      ];
      const made = await api('POST', '/files/checkouts', { name: 'shot-010', files });
      expect(made.status).toBe(201);
      expect(made.body).toMatchObject({
        name: 'shot-010',
        path: '{checkouts}/shot-010',
        fileCount: 3,
        totalBytes: 2 * a.length + b.length,
        linkedFiles: 3,
      });
      const folder = made.body.managerPath as string;
      expect(folder).toBe(path.join(layout().checkoutsDir, 'shot-010'));
      expect(fs.readFileSync(path.join(folder, 'scene.blend')).equals(a)).toBe(true);
      expect(fs.readFileSync(path.join(folder, 'textures/wood/oak.png')).equals(b)).toBe(true);
      expect(fs.readFileSync(path.join(folder, 'textures/copy-of-a.bin')).equals(a)).toBe(true);
      expect(fs.statSync(path.join(folder, 'scene.blend')).ino).toBe(
        fs.statSync(layout().blobPath(sha256(a), a.length)).ino,
      );

      const again = await api('POST', '/files/checkouts', { name: 'shot-010', files });
      expect(again.status).toBe(201);
      expect(again.body.name).toBe('shot-010-2');
      expect((await api('GET', `/files/checkouts/${made.body.id}`)).body).toMatchObject({
        id: made.body.id,
        name: 'shot-010',
        fileCount: 3,
      });

      const variables = await api('GET', '/variables/workers/linux');
      expect(variables.body.variables.checkouts.value).toBe(layout().checkoutsDir);
    });

    it('refuses traversal, absolute and duplicate paths, listing each, and makes nothing', async () => {
      const data = Buffer.from('x');
      await upload(sha256(data), 1, data);
      const ref = { sha256: sha256(data), size: 1 };
      const checkoutsBefore = fs.readdirSync(layout().checkoutsDir).sort();
      const refused = await api('POST', '/files/checkouts', {
        name: 'evil',
        files: [
          { path: '../../escape.txt', ...ref },
          { path: '/etc/passwd', ...ref },
          { path: 'C:/Windows/x', ...ref },
          { path: 'a/./b', ...ref },
          { path: 'ok.txt', ...ref },
          { path: 'OK.txt', ...ref },
          { path: 'dir', ...ref },
          { path: 'dir/inside', ...ref },
          { path: 'back\\slash', ...ref },
        ],
      });
      expect(refused.status).toBe(400);
      expect(refused.body.code).toBe('validation_failed');
      const where = (refused.body.details.issues as { path: string }[]).map((i) => i.path);
      expect(where).toEqual([
        'body.files[0].path',
        'body.files[1].path',
        'body.files[2].path',
        'body.files[3].path',
        'body.files[5].path',
        'body.files[8].path',
        'body.files[7].path',
      ]);
      expect(refused.body.details.issues[0].message).toContain('must not contain ".."');
      expect(fs.readdirSync(layout().checkoutsDir).sort()).toEqual(checkoutsBefore);
      expect(fs.existsSync(path.join(farm.manager.config.storageDir, 'escape.txt'))).toBe(false);
      const { rows } = await sql<{
        n: number;
      }>`select count(*)::int as n from file_checkouts where name = 'evil'`.execute(
        farm.manager.database.db,
      );
      expect(rows[0]!.n).toBe(0);

      const unknown = sha256(Buffer.from('never uploaded'));
      const missing = await api('POST', '/files/checkouts', {
        files: [
          { path: 'x', ...ref },
          { path: 'y', sha256: unknown, size: 14 },
        ],
      });
      expect(missing.status).toBe(409);
      expect(missing.body.details).toEqual({
        reason: 'files-missing',
        missing: [{ sha256: unknown, size: 14 }],
      });
    });

    it('collects blobs no checkout uses once old, keeps used ones, and removes with the checkout', async () => {
      const used = randomBytes(1000);
      const unused = randomBytes(1000);
      for (const data of [used, unused]) await upload(sha256(data), data.length, data);
      const checkout = await api('POST', '/files/checkouts', {
        name: 'gc-test',
        files: [{ path: 'used.bin', sha256: sha256(used), size: used.length }],
      });
      expect(checkout.status).toBe(201);
      const files = createFileStore({
        db: farm.manager.database.db,
        config: farm.manager.config,
        logger: { info: () => undefined, warn: () => undefined, debug: () => undefined },
      } as unknown as Parameters<typeof createFileStore>[0]);

      // Young blobs survive a collection whatever uses them.
      expect((await files.collectGarbage()).blobsDeleted).toBe(0);

      const later = new Date(Date.now() + 2 * 86_400_000);
      const report = await files.collectGarbage(later);
      expect(report.blobsDeleted).toBeGreaterThanOrEqual(1);
      expect(fs.existsSync(layout().blobPath(sha256(unused), 1000))).toBe(false);
      expect(fs.existsSync(layout().blobPath(sha256(used), 1000))).toBe(true);
      const asked = await api('POST', '/files/missing', {
        files: [
          { sha256: sha256(used), size: 1000 },
          { sha256: sha256(unused), size: 1000 },
        ],
      });
      expect(asked.body.missing).toEqual([
        { sha256: sha256(unused), size: 1000, receivedBytes: 0 },
      ]);

      expect((await api('DELETE', `/files/checkouts/${checkout.body.id}`)).status).toBe(204);
      expect(fs.existsSync(checkout.body.managerPath)).toBe(false);
      expect((await api('GET', `/files/checkouts/${checkout.body.id}`)).status).toBe(404);
      // Asking just now marked it used; it goes once that, too, is old.
      expect((await files.collectGarbage()).blobsDeleted).toBe(0);
      await files.collectGarbage(new Date(Date.now() + 2 * 86_400_000));
      expect(fs.existsSync(layout().blobPath(sha256(used), 1000))).toBe(false);
    });
  });

  describe(`file store garbage collection duty [${backend}]`, () => {
    let farm: TestManager;
    beforeAll(async () => {
      farm = await startTestManager(backend, [
        '--duty-interval',
        '100ms',
        '--file-gc-age',
        '1s',
        '--checkout-age',
        '1s',
      ]);
    }, 120_000);
    afterAll(() => farm?.stop());

    it('really runs: old checkouts and then their unused blobs disappear by themselves', async () => {
      const data = randomBytes(500);
      const hash = sha256(data);
      const auth = { Authorization: `Bearer ${farm.adminToken}` };
      const put = await fetch(`${farm.url}/api/v1/files/${hash}/500`, {
        method: 'PUT',
        headers: { ...auth, 'Content-Type': 'application/octet-stream' },
        body: data,
      });
      expect(put.status).toBe(201);
      const made = await fetch(`${farm.url}/api/v1/files/checkouts`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ files: [{ path: 'a.bin', sha256: hash, size: 500 }] }),
      });
      const checkout = (await made.json()) as { managerPath: string };
      const blob = createFileStoreLayout(farm.manager.config.storageDir).blobPath(hash, 500);
      expect(fs.existsSync(checkout.managerPath)).toBe(true);
      const deadline = Date.now() + 20_000;
      while (fs.existsSync(blob) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(fs.existsSync(checkout.managerPath)).toBe(false);
      expect(fs.existsSync(blob)).toBe(false);
    }, 30_000);
  });
}
