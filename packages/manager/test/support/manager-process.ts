import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const MAIN = path.join(__dirname, '../../dist/main.js');

/** True when the manager has been built (`npx tsc -b`), which process tests need. */
export function managerIsBuilt(): boolean {
  return fs.existsSync(MAIN);
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A `farm-manager` child process. */
export interface ManagerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `node dist/main.js` with the given flags and waits until `/readyz` answers 200. */
export async function startManagerProcess(options: {
  dataDir: string;
  databaseUrl?: string;
  registrationSecret: string;
  extraArgs?: string[];
}): Promise<ManagerProcess> {
  const port = await freePort();
  let output = '';
  const child = spawn(
    process.execPath,
    [
      MAIN,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--data-dir',
      options.dataDir,
      '--no-discovery',
      '--no-local-worker',
      '--registration-secret',
      options.registrationSecret,
      '--log-format',
      'json',
      '--log-level',
      'warn',
      ...(options.extraArgs ?? []),
    ],
    {
      env: {
        ...process.env,
        ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`manager exited early:\n${output}`);
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`manager did not become ready:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    child,
    output: () => output,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill(signal);
      }),
  };
}
