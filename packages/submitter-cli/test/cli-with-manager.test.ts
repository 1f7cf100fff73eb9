import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { createFarmClient, type Job } from '@farm/core';
import { farm, makeTempDir, removeTempDirs } from './support/test-io';
import { RENDER_ROOT, startTestManager, type TestManager } from './support/test-manager';

// A new embedded database takes a few seconds; one manager serves the whole file.
jest.setTimeout(60_000);

let farmManager: TestManager;
let env: Record<string, string>;

beforeAll(async () => {
  farmManager = await startTestManager();
  env = {
    FARM_URL: farmManager.url,
    FARM_TOKEN: farmManager.token,
    XDG_CONFIG_HOME: makeTempDir(),
  };
});

afterAll(async () => {
  await farmManager?.close();
  removeTempDirs();
});

function api() {
  return createFarmClient({ url: farmManager.url, token: farmManager.token });
}

async function waitForStatus(id: string, status: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ((await api().getJob(id)).status === status) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`job ${id} did not become ${status}`);
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An HTTP proxy to the manager that refuses every websocket upgrade. */
async function startWebsocketBlockingProxy(target: string) {
  let refused = 0;
  const upstream = new URL(target);
  const server = http.createServer((request, response) => {
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: request.url,
        method: request.method,
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forward.on('error', () => response.destroy());
    request.pipe(forward);
  });
  server.on('upgrade', (_request, socket) => {
    refused += 1;
    socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    refusedUpgrades: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('farm against a real manager', () => {
  // First, while the farm has no jobs, so "nothing was submitted" is checked on an empty list.
  it('lists every problem of bad settings at once, exits 2 and submits nothing', async () => {
    const result = await farm(
      [
        'submit',
        'echo-sleep-test',
        '--set',
        'sleep_repeats=three',
        '--set',
        'sleep_duration_seconds=-1',
        '--priority',
        '7',
        '--meta',
        'oops',
      ],
      { env },
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      [
        'farm: the job is invalid (4 problems); nothing was submitted:',
        '  - sleep_repeats: must be a whole number, got "three"',
        '  - message: is required',
        '  - sleep_duration_seconds: must be at least 0, got -1',
        '  - --meta: expected key=value, got "oops"',
        '',
      ].join('\n'),
    );
    expect((await api().listJobs()).items).toEqual([]);
  });

  it('logs in, stores the token with mode 0600, and knows who you are', async () => {
    const home = makeTempDir();
    const loginEnv = { XDG_CONFIG_HOME: home };
    const login = await farm(['login', farmManager.url, '--token', farmManager.token], {
      env: loginEnv,
    });
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    expect(login.stdout).toContain(`Logged in to ${farmManager.url} as `);
    const file = path.join(home, 'farm', 'config.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({
      url: farmManager.url,
      token: farmManager.token,
    });

    const whoami = await farm(['whoami', '--json'], { env: loginEnv });
    expect(whoami.code).toBe(0);
    const me = JSON.parse(whoami.stdout);
    expect(me).toMatchObject({ url: farmManager.url, isAdmin: true });
    expect(me.scopes).toContain('jobs:write');
    const plain = await farm(['whoami'], { env: loginEnv });
    expect(plain.stdout).toMatch(new RegExp(`user: +${me.name}`));

    const logout = await farm(['logout'], { env: loginEnv });
    expect(logout.stdout).toBe(`Logged out of ${farmManager.url}.\n`);
    expect(fs.existsSync(file)).toBe(false);
    expect((await farm(['whoami'], { env: loginEnv })).code).toBe(6);
  });

  it('asks for the token on a terminal', async () => {
    const home = makeTempDir();
    const questions: string[] = [];
    const login = await farm(['login', farmManager.url], {
      env: { XDG_CONFIG_HOME: home },
      stdinIsTTY: true,
      prompt: (question) => {
        questions.push(question);
        return Promise.resolve(farmManager.token);
      },
    });
    expect(login.code).toBe(0);
    expect(questions).toEqual([`API token for ${farmManager.url}: `]);
  });

  it('refuses a wrong token with exit code 6 and says what to do', async () => {
    const home = makeTempDir();
    const login = await farm(['login', farmManager.url, '--token', 'not-a-real-token'], {
      env: { XDG_CONFIG_HOME: home },
    });
    expect(login.code).toBe(6);
    expect(login.stderr.split('\n')[0]).toMatch(
      /^farm: not authenticated: .+ \(run "farm login", or check FARM_TOKEN \/ --token\)$/,
    );
    expect(fs.existsSync(path.join(home, 'farm', 'config.json'))).toBe(false);

    const jobs = await farm(['jobs', '--token', 'wrong'], { env });
    expect(jobs.code).toBe(6);
    expect(jobs.stderr).toContain('farm: not authenticated');
  });

  it('says it cannot reach a manager that is down, with exit code 5', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await farm(['jobs', '--url', url], { env });
    expect(result.code).toBe(5);
    expect(result.stderr).toBe(
      `farm: cannot reach the manager at ${url}: fetch failed (ECONNREFUSED)\n`,
    );
    const verbose = await farm(['jobs', '--url', url, '--verbose'], { env });
    expect(verbose.stderr).toContain('  code: unavailable');
  });

  it('lists the job types and shows one with its settings', async () => {
    const list = await farm(['job-types'], { env });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME +LABEL +SETTINGS +DESCRIPTION$/m);
    expect(list.stdout).toMatch(/^echo-sleep-test +Echo Sleep Test +3 /m);

    const show = await farm(['job-types', 'show', 'echo-sleep-test'], { env });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^message +string +yes +Message to log$/m);
    expect(show.stdout).toMatch(/^sleep_repeats +int32 +1 +0\.\. +How many sleep tasks/m);

    const json = JSON.parse(
      (await farm(['job-types', 'show', 'echo-sleep-test', '--json'], { env })).stdout,
    );
    expect(json.etag).toEqual(expect.any(String));

    const unknown = await farm(['job-types', 'show', 'no-such-type'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /^farm: the manager has no job type "no-such-type"; it has: .*echo-sleep-test/,
    );
  });

  let submitted: Job;

  it('submits a job, prints its id, and lists it', async () => {
    const result = await farm(
      [
        'submit',
        'echo-sleep-test',
        '--set',
        `message=${RENDER_ROOT}/shot010/frame.png`,
        '--set',
        'sleep_repeats=2',
        '--name',
        'cli smoke',
        '--priority',
        '70',
        '--meta',
        'shot=010',
        '--paused',
      ],
      { env },
    );
    expect(result.stderr).toBe(
      `message: ${RENDER_ROOT}/shot010/frame.png -> {render}/shot010/frame.png\n`,
    );
    expect(result.code).toBe(0);
    const id = result.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    submitted = await api().getJob(id);
    expect(submitted).toMatchObject({
      name: 'cli smoke',
      priority: 70,
      status: 'paused',
      metadata: { shot: '010' },
      settings: { message: '{render}/shot010/frame.png', sleep_repeats: 2 },
    });
    expect(submitted.taskCounts.total).toBe(3);

    const jobs = await farm(['jobs'], { env });
    expect(jobs.stdout).toMatch(
      new RegExp(`^${id} +cli smoke +echo-sleep-test +paused +0/3 +70 `, 'm'),
    );
    const json = JSON.parse(
      (await farm(['jobs', '--status', 'paused', '--json'], { env })).stdout,
    ) as Job[];
    expect(json.map((job) => job.id)).toEqual([id]);
    expect(
      JSON.parse((await farm(['jobs', '--status', 'failed', '--json'], { env })).stdout),
    ).toEqual([]);
    const mine = JSON.parse((await farm(['jobs', '--mine', '--json'], { env })).stdout) as Job[];
    expect(mine.map((job) => job.id)).toEqual([id]);

    const detail = await farm(['job', id], { env });
    expect(detail.stdout).toMatch(/^status: +paused/m);
    expect(detail.stdout).toMatch(/^tasks: +3 paused \(total 3\)$/m);
    expect(detail.stdout).toContain('  message = "{render}/shot010/frame.png"');

    const tasks = await farm(['tasks', id], { env });
    expect(tasks.stdout).toMatch(/^0 +\S+ +echo +misc +paused /m);
    expect(tasks.stdout).toMatch(/^2 +\S+ +sleep-2 +misc +paused /m);
  });

  it('reads settings from a YAML file, with --set winning over it', async () => {
    const dir = makeTempDir();
    const file = path.join(dir, 'settings.yaml');
    fs.writeFileSync(file, 'message: from the file\nsleep_repeats: 4\n');
    const result = await farm(
      ['submit', 'echo-sleep-test', '-f', file, '--set', 'sleep_repeats=1', '--paused', '--json'],
      { env },
    );
    expect(result.code).toBe(0);
    const job = JSON.parse(result.stdout) as Job;
    expect(job.settings).toMatchObject({ message: 'from the file', sleep_repeats: 1 });
    expect(job.taskCounts.total).toBe(2);
    await api().jobAction(job.id, 'delete');
  });

  it('takes --url/--token over FARM_URL/FARM_TOKEN over the stored login', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const home = makeTempDir();
    fs.mkdirSync(path.join(home, 'farm'));
    fs.writeFileSync(
      path.join(home, 'farm', 'config.json'),
      JSON.stringify({ url: down, token: 'stale' }),
    );
    const stored = await farm(['whoami'], { env: { XDG_CONFIG_HOME: home } });
    expect(stored.code).toBe(5);
    const fromEnv = await farm(['whoami'], {
      env: { XDG_CONFIG_HOME: home, FARM_URL: farmManager.url, FARM_TOKEN: farmManager.token },
    });
    expect(fromEnv.code).toBe(0);
    const fromOptions = await farm(
      ['whoami', '--url', farmManager.url, '--token', farmManager.token],
      {
        env: { XDG_CONFIG_HOME: home, FARM_URL: down, FARM_TOKEN: 'wrong' },
      },
    );
    expect(fromOptions.code).toBe(0);
    const optionsBeforeCommand = await farm(['--url', down, 'whoami'], { env });
    expect(optionsBeforeCommand.code).toBe(5);
  });

  it('explains a stale job type etag in one sentence', async () => {
    // The manager sees an etag that is not the job type's current one, as when the job type
    // changes between the CLI reading it and submitting.
    const staleFetch = async (request: Request): Promise<Response> => {
      const response = await fetch(request);
      if (!request.url.endsWith('/api/v1/job-types/echo-sleep-test')) return response;
      const body = (await response.json()) as Record<string, unknown>;
      return Response.json({ ...body, etag: 'an-old-etag' }, { status: response.status });
    };
    const before = (await api().listJobs()).items.length;
    const result = await farm(['submit', 'echo-sleep-test', '--set', 'message=hi'], {
      env,
      fetch: staleFetch,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'farm: the job type "echo-sleep-test" changed on the manager while you were submitting, so nothing was submitted; run the same command again to check your settings against the new version (see farm job-types show echo-sleep-test)\n',
    );
    expect((await api().listJobs()).items.length).toBe(before);
  });

  it('cancels a job, and several at once', async () => {
    const one = await farm(['cancel', submitted.id, '--reason', 'testing'], { env });
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(
      new RegExp(`^${submitted.id}: cancel requested \\(now (cancel-requested|canceled)\\)$`, 'm'),
    );
    expect(['cancel-requested', 'canceled']).toContain((await api().getJob(submitted.id)).status);

    const ids: string[] = [];
    for (const name of ['a', 'b']) {
      const result = await farm(
        ['submit', 'echo-sleep-test', '--set', 'message=x', '--name', name, '--paused'],
        { env },
      );
      ids.push(result.stdout.trim());
    }
    const many = await farm(['cancel', ...ids], { env });
    expect(many.code).toBe(0);
    for (const id of ids) {
      expect(many.stdout).toContain(`${id}: cancel requested`);
      expect(['cancel-requested', 'canceled']).toContain((await api().getJob(id)).status);
    }

    // Pausing a canceled job is not allowed: the manager says what is.
    const refused = await farm(['pause', ids[0]!], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^farm: .+/);
  });

  it('pauses, resumes, requeues and deletes jobs', async () => {
    const id = (
      await farm(['submit', 'echo-sleep-test', '--set', 'message=x', '--name', 'ctl'], { env })
    ).stdout.trim();
    expect((await api().getJob(id)).status).toBe('queued');
    const pause = await farm(['pause', id], { env });
    expect(pause.stdout).toMatch(
      new RegExp(`^${id}: pause requested \\(now (pause-requested|paused)\\)`),
    );
    await waitForStatus(id, 'paused');
    const resume = await farm(['resume', id, '--json'], { env });
    expect((JSON.parse(resume.stdout) as Job).status).toBe('queued');
    await farm(['cancel', id], { env });
    await waitForStatus(id, 'canceled');
    const requeue = await farm(['requeue', id], { env });
    expect(requeue.code).toBe(0);
    expect((await api().getJob(id)).status).toMatch(/^(requeueing|queued)$/);
    await waitForStatus(id, 'queued');
    await farm(['cancel', id], { env });
    await waitForStatus(id, 'canceled');
    const deleted = await farm(['delete', id], { env });
    expect(deleted.stdout).toBe(`${id}: deleted\n`);
    const gone = await farm(['job', id], { env });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`farm: there is no job ${id}\n`);
  });

  it('watch follows the job live over the websocket and exits 4 when it is canceled', async () => {
    const id = (
      await farm(['submit', 'echo-sleep-test', '--set', 'message=x', '--paused'], { env })
    ).stdout.trim();
    // Polls so rare that only the websocket can bring the news within the test.
    const watching = farm(['watch', id], { env, pollIntervalMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await api().jobAction(id, 'cancel');
    const started = Date.now();
    const result = await watching;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^\[-+\] 0\/2 tasks done, 0 failed, ETA --, paused\n/);
    expect(result.stderr).toMatch(new RegExp(`, canceled\\nJob .+ \\(${id}\\) canceled`));
  });

  it('watch falls back to polling when websockets are blocked (as by some proxies)', async () => {
    const proxy = await startWebsocketBlockingProxy(farmManager.url);
    try {
      const proxied = { ...env, FARM_URL: proxy.url };
      const id = (
        await farm(['submit', 'echo-sleep-test', '--set', 'message=x', '--paused'], {
          env: proxied,
        })
      ).stdout.trim();
      const watching = farm(['watch', id, '--verbose'], {
        env: proxied,
        pollIntervalMs: 300,
        isTTY: true,
      });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await api().jobAction(id, 'cancel');
      const result = await watching;
      expect(result.code).toBe(4);
      expect(proxy.refusedUpgrades()).toBeGreaterThan(0);
      expect(result.stderr).toContain('polling every 0.3 s instead');
      // On a terminal the bar is redrawn in place.
      const redraws = result.stderr.split('\r').slice(1);
      expect(redraws.length).toBeGreaterThan(1);
      for (const redraw of redraws) {
        expect(redraw).toMatch(/^\[-+\] 0\/2 tasks done, 0 failed, ETA --, /);
        expect(redraw).toContain('\u001b[K');
      }
    } finally {
      await proxy.close();
    }
  });

  it('colours tables on a terminal only, and never with NO_COLOR', async () => {
    const tty = await farm(['jobs'], { env, isTTY: true });
    expect(tty.stdout).toContain('\u001b[');
    const noColor = await farm(['jobs'], { env: { ...env, NO_COLOR: '1' }, isTTY: true });
    expect(noColor.stdout).not.toContain('\u001b[');
    expect(noColor.stdout).toMatch(/canceled/);
    const piped = await farm(['jobs'], { env });
    expect(piped.stdout).not.toContain('\u001b[');
  });

  it('runs the built bin against the manager', async () => {
    const bin = path.join(__dirname, '..', 'bin', 'farm.js');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [bin, 'jobs', '--json', '--limit', '1'],
      {
        env: { ...process.env, ...env, NO_COLOR: '1' },
      },
    );
    expect((JSON.parse(stdout) as Job[]).length).toBe(1);
  });
});
