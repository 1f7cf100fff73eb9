import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir } from './test-io';

/** The built worker; the watch tests need it and say so when it is missing. */
export const WORKER_MAIN = path.join(__dirname, '..', '..', '..', 'worker', 'dist', 'main.js');

export function workerIsBuilt(): boolean {
  return fs.existsSync(WORKER_MAIN);
}

/** A real `farm-worker` process registered with the manager. */
export interface TestWorker {
  name: string;
  process: ChildProcess;
  /** What it printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts a worker process on the manager at `url` (discovery off). */
export function startTestWorker(url: string, registrationSecret: string, name: string): TestWorker {
  const dataDir = makeTempDir('farm-cli-worker-');
  let output = '';
  const child = spawn(
    process.execPath,
    [
      WORKER_MAIN,
      '--manager',
      url,
      '--registration-secret',
      registrationSecret,
      '--data-dir',
      dataDir,
      '--name',
      name,
      '--no-discovery',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    name,
    process: child,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(killer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
