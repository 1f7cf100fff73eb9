import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { farm, makeTempDir, removeTempDirs } from './support/test-io';
import { startTestManager, type TestManager } from './support/test-manager';

jest.setTimeout(60_000);

let manager: TestManager;
let env: Record<string, string>;

beforeAll(async () => {
  manager = await startTestManager();
  env = { FARM_URL: manager.url, FARM_TOKEN: manager.token, XDG_CONFIG_HOME: makeTempDir() };
});

afterAll(async () => {
  await manager?.close();
  removeTempDirs();
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A fetch that records every upload request and the bytes in its body. */
function countingFetch() {
  const uploads: { path: string; bytes: number }[] = [];
  const others: string[] = [];
  const fetchFn = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (request.method === 'PUT') {
      const bytes = (await request.clone().arrayBuffer()).byteLength;
      uploads.push({ path: url.pathname + url.search, bytes });
    } else {
      others.push(`${request.method} ${url.pathname}`);
    }
    return fetch(request);
  };
  return { uploads, others, fetch: fetchFn };
}

async function putFile(data: Buffer, range?: [number, number]) {
  const body = range ? data.subarray(range[0], range[1]) : data;
  const response = await fetch(`${manager.url}/api/v1/files/${sha256(data)}/${data.length}`, {
    method: 'PUT',
    headers: {
      Authorization: `Bearer ${manager.token}`,
      'Content-Type': 'application/octet-stream',
      ...(range ? { 'Content-Range': `bytes ${range[0]}-${range[1] - 1}/${data.length}` } : {}),
    },
    body,
  });
  expect(response.status).toBe(range && range[1] < data.length ? 202 : 201);
}

function writeTree(root: string, files: Record<string, Buffer>): void {
  for (const [name, data] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), data);
  }
}

function readTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else out[path.relative(root, full).split(path.sep).join('/')] = sha256(fs.readFileSync(full));
    }
  };
  visit(root);
  return out;
}

describe('farm upload', () => {
  it('sends only the files the store lacks, then checks the folder out', async () => {
    const folder = path.join(makeTempDir(), 'shot010');
    const stored = {
      'shot.blend': randomBytes(40_000),
      'textures/wood.png': randomBytes(20_000),
      'textures/metal.png': randomBytes(10_000),
    };
    const fresh = {
      'audio/theme.wav': randomBytes(30_000),
      'textures/new/rust.png': randomBytes(25_000),
      'notes.txt': Buffer.from('render at 50%\n'),
      'empty/.keep': Buffer.alloc(0),
    };
    writeTree(folder, { ...stored, ...fresh });
    for (const data of Object.values(stored)) await putFile(data);

    const io = countingFetch();
    const result = await farm(['upload', folder, '--concurrency', '2'], { env, fetch: io.fetch });
    expect(result.stderr).toContain('uploaded 4 of 7 files');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{checkouts}/shot010\n');

    // Exactly the other half went over the wire, once each.
    const sent = io.uploads.map((u) => u.path.split('?')[0]).sort();
    const expected = Object.values(fresh).map((d) => `/api/v1/files/${sha256(d)}/${d.length}`);
    expect(sent).toEqual(expected.sort());
    expect(io.uploads.reduce((sum, u) => sum + u.bytes, 0)).toBe(
      Object.values(fresh).reduce((sum, d) => sum + d.length, 0),
    );

    const checkout = path.join(manager.manager.config.storageDir, 'checkouts', 'shot010');
    expect(readTree(checkout)).toEqual(readTree(folder));

    // A second upload of the same folder sends nothing and gets a name of its own.
    const again = countingFetch();
    const second = await farm(['upload', folder, '--json'], { env, fetch: again.fetch });
    expect(second.code).toBe(0);
    expect(again.uploads).toEqual([]);
    const json = JSON.parse(second.stdout) as {
      checkout: { path: string; fileCount: number };
      uploadedFiles: number;
    };
    expect(json.checkout.path).toBe('{checkouts}/shot010-2');
    expect(json.checkout.fileCount).toBe(7);
    expect(json.uploadedFiles).toBe(0);
  });

  it('resumes a half-sent file from where the store says it stopped', async () => {
    const folder = path.join(makeTempDir(), 'resume');
    const big = randomBytes(300_000);
    writeTree(folder, { 'cache/sim.bin': big });
    await putFile(big, [0, 120_000]);

    const io = countingFetch();
    const result = await farm(['upload', folder, '--name', 'resumed'], { env, fetch: io.fetch });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('resuming');
    expect(io.uploads).toEqual([
      { path: `/api/v1/files/${sha256(big)}/${big.length}?offset=120000`, bytes: 180_000 },
    ]);
    const copy = path.join(manager.manager.config.storageDir, 'checkouts/resumed/cache/sim.bin');
    expect(sha256(fs.readFileSync(copy))).toBe(sha256(big));
  });

  it('continues after a connection drops mid-file, sending only the rest', async () => {
    const folder = path.join(makeTempDir(), 'flaky');
    const big = randomBytes(200_000);
    writeTree(folder, { 'plate.exr': big });
    const puts: string[] = [];
    let dropped = false;
    const flakyFetch = async (request: Request): Promise<Response> => {
      if (request.method !== 'PUT') return fetch(request);
      const url = new URL(request.url);
      puts.push(url.search);
      if (dropped) return fetch(request);
      dropped = true;
      // The first 50,000 bytes arrive, then the network goes away.
      const body = Buffer.from(await request.arrayBuffer()).subarray(0, 50_000);
      await fetch(request.url, { method: 'PUT', headers: request.headers, body });
      throw new TypeError('fetch failed: connection reset');
    };
    const result = await farm(['upload', folder, '--name', 'flaky'], { env, fetch: flakyFetch });
    expect(result.code).toBe(0);
    expect(puts).toEqual(['?offset=0', '?offset=50000']);
    const copy = path.join(manager.manager.config.storageDir, 'checkouts/flaky/plate.exr');
    expect(sha256(fs.readFileSync(copy))).toBe(sha256(big));
  });

  it('refuses a folder that does not exist, with exit code 2', async () => {
    const result = await farm(['upload', path.join(makeTempDir(), 'nope')], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('does not exist');
  });
});

describe('farm submit --upload', () => {
  it('uploads the folder and points settings naming its files at the checkout', async () => {
    const folder = path.join(makeTempDir(), 'job-files');
    writeTree(folder, { 'message.txt': Buffer.from('hello from the file store\n') });
    const result = await farm(
      [
        'submit',
        'echo-sleep-test',
        '--upload',
        folder,
        '--set',
        'message=message.txt',
        '--set',
        'sleep_repeats=0',
        '--json',
      ],
      { env },
    );
    expect(result.stderr).toContain('message: message.txt -> {checkouts}/job-files/message.txt');
    expect(result.code).toBe(0);
    const job = JSON.parse(result.stdout) as { settings: Record<string, unknown> };
    expect(job.settings.message).toBe('{checkouts}/job-files/message.txt');
    const file = path.join(manager.manager.config.storageDir, 'checkouts/job-files/message.txt');
    expect(fs.readFileSync(file, 'utf8')).toBe('hello from the file store\n');
  });
});
