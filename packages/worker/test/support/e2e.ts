// Real processes for end-to-end tests: the manager (`packages/manager/dist/main.js`) and the
// worker (`packages/worker/bin/farm-worker.js`), built by `npx tsc -b` first.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');
const MANAGER_MAIN = path.join(REPO_ROOT, 'packages/manager/dist/main.js');
const WORKER_BIN = path.join(REPO_ROOT, 'packages/worker/bin/farm-worker.js');

/**
 * Builds manager and worker (incremental: quick when nothing changed). Returns why the
 * end-to-end tests cannot run, or undefined when they can.
 */
export function prepareBuild(): string | undefined {
  if (!existsSync(path.join(REPO_ROOT, 'packages/manager/src/create-manager.ts')))
    return 'the manager has no create-manager.ts yet';
  const build = spawnSync('npx', ['tsc', '-b', 'packages/manager', 'packages/worker'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (
    !existsSync(MANAGER_MAIN) ||
    !existsSync(path.join(REPO_ROOT, 'packages/worker/dist/main.js'))
  )
    return `the build did not produce the programs: ${build.stdout}${build.stderr}`;
  if (build.status !== 0) console.warn(`npx tsc -b reported errors:\n${build.stdout}`);
  return undefined;
}

/** A free TCP port on 127.0.0.1 (so a restarted manager can come back on the same one). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface ChildHandle {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function track(child: ChildProcess): ChildHandle {
  const output: string[] = [];
  const collect = (chunk: Buffer): void => {
    output.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== ''),
    );
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    child,
    output,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface ManagerProcess extends ChildHandle {
  url: string;
  adminToken: string;
}

/** Starts the real manager (embedded database) and waits until it answers. */
export async function startManager(options: {
  port: number;
  dataDir: string;
  secret: string;
}): Promise<ManagerProcess> {
  const child = spawn(
    process.execPath,
    [
      MANAGER_MAIN,
      '--port',
      String(options.port),
      '--host',
      '127.0.0.1',
      '--data-dir',
      options.dataDir,
      '--no-discovery',
      '--registration-secret',
      options.secret,
      '--log-format',
      'json',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  const handle = track(child);
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the manager exited: ${handle.output.join('\n')}`);
    const ok = await fetch(`${url}/api/v1/version`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await handle.stop('SIGKILL');
      throw new Error(`the manager did not start: ${handle.output.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const adminToken = readFileSync(path.join(options.dataDir, 'admin-token'), 'utf8').trim();
  return { ...handle, url, adminToken };
}

/** Starts `farm-worker` as a real process. */
export function startWorker(options: {
  managerUrl: string;
  dataDir: string;
  secret: string;
  name?: string;
}): ChildHandle {
  const child = spawn(
    process.execPath,
    [
      WORKER_BIN,
      '--manager',
      options.managerUrl,
      '--data-dir',
      options.dataDir,
      '--name',
      options.name ?? 'e2e-worker',
      '--no-discovery',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        FARM_REGISTRATION_SECRET: options.secret,
        FARM_WORKER_DEBUG: '1',
      },
    },
  );
  return track(child);
}

/**
 * A fetch that tries once more when the connection fails before an answer: Node's fetch may
 * reuse a keep-alive socket at the moment the server closes it (UND_ERR_SOCKET).
 */
export async function retryingFetch(request: Request): Promise<Response> {
  const spare = request.clone();
  try {
    return await fetch(request);
  } catch {
    await new Promise((r) => setTimeout(r, 100));
    return fetch(spare);
  }
}

/** Polls `probe` until it returns a value other than undefined. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
  explain?: () => Promise<string>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const details = explain ? await explain().catch((e: unknown) => String(e)) : '';
      throw new Error(`timed out waiting for ${what}${details ? `\n${details}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
