import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');
export const MANAGER_MAIN = path.join(REPO_ROOT, 'packages/manager/dist/main.js');
export const WORKER_MAIN = path.join(REPO_ROOT, 'packages/worker/dist/main.js');
export const WEB_INDEX = path.join(REPO_ROOT, 'packages/web/dist/index.html');
export const CHROMIUM = process.env.FARM_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Why the browser tests cannot run here, or null when they can. */
export function browserTestsUnavailable(): string | null {
  if (!fs.existsSync(CHROMIUM)) return `Chromium is not installed at ${CHROMIUM}`;
  if (!fs.existsSync(MANAGER_MAIN))
    return `the manager is not built (${MANAGER_MAIN}); run npm run build`;
  if (!fs.existsSync(WEB_INDEX)) return 'the web app is not built; run npm run build -w @farm/web';
  return null;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface RunningProcess {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): RunningProcess {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    child,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  logs: () => string,
  owner?: RunningProcess,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    // A process that died will not answer; say so now rather than after the timeout.
    if (owner && (owner.child.exitCode !== null || owner.child.signalCode !== null)) {
      throw new Error(`the process exited while waiting for ${what}\n${logs().slice(-4000)}`);
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n${logs().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface TestFarm {
  url: string;
  token: string;
  /** The farm's worker registration secret, for tests that act as a worker over HTTP. */
  registrationSecret: string;
  dataDir: string;
  manager: RunningProcess;
  workers: RunningProcess[];
  /** Starts a real worker process against this manager (needs the worker build). */
  startWorker(name: string): Promise<RunningProcess>;
  /** Calls the manager's API with the admin token. */
  api<T>(method: string, apiPath: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/** Starts a real manager (embedded database, no local worker, no mDNS) in a temp folder. */
export async function startTestFarm(): Promise<TestFarm> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-web-test-'));
  const port = await freePort();
  const secret = 'web-test-registration-secret';
  const manager = run(
    process.execPath,
    [MANAGER_MAIN, '--port', String(port), '--data-dir', dataDir, '--no-discovery'],
    {
      FARM_LOCAL_WORKER: 'false',
      FARM_REGISTRATION_SECRET: secret,
      FARM_LOG_LEVEL: 'warn',
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'the manager to answer /healthz',
    async () => ((await fetch(`${url}/healthz`)).ok ? true : undefined),
    60_000,
    manager.output,
    manager,
  );
  const tokenFile = path.join(dataDir, 'admin-token');
  const token = await waitFor(
    'the admin token file',
    () =>
      Promise.resolve(
        fs.existsSync(tokenFile) ? fs.readFileSync(tokenFile, 'utf8').trim() : undefined,
      ),
    10_000,
    manager.output,
  );
  const workers: RunningProcess[] = [];
  const farm: TestFarm = {
    url,
    token,
    registrationSecret: secret,
    dataDir,
    manager,
    workers,
    async startWorker(name) {
      const worker = run(
        process.execPath,
        [
          WORKER_MAIN,
          '--manager',
          url,
          '--name',
          name,
          '--data-dir',
          path.join(dataDir, `worker-${name}`),
          '--registration-secret',
          secret,
          '--task-types',
          'misc,file-management',
          '--no-discovery',
        ],
        {},
      );
      workers.push(worker);
      await waitFor(
        `worker ${name} to sign on`,
        async () => {
          const list = await farm.api<{ items: Array<{ name: string; status: string }> }>(
            'GET',
            '/api/v1/workers',
          );
          return list.items.some((w) => w.name === name && w.status === 'awake') ? true : undefined;
        },
        30_000,
        () => worker.output() + manager.output(),
        worker,
      );
      return worker;
    },
    async api<T>(method: string, apiPath: string, body?: unknown): Promise<T> {
      const response = await fetch(url + apiPath, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${apiPath}: ${response.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async stop() {
      for (const worker of workers) await worker.stop();
      await manager.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return farm;
}
