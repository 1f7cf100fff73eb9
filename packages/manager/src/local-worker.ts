import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'winston';

/** A worker process the manager runs next to itself (`npm start`), restarted when it exits. */
export interface LocalWorker {
  stop(): Promise<void>;
}

const RESTART_DELAY_MS = 2000;

/** Where the worker package's entry point is, or null when it is not built/installed. */
export function findWorkerEntryPoint(): string | null {
  try {
    const packageJson = require.resolve('@farm/worker/package.json');
    const main = path.join(path.dirname(packageJson), 'dist', 'main.js');
    return fs.existsSync(main) ? main : null;
  } catch {
    return null;
  }
}

/**
 * Starts `farm-worker` as a child process pointed at this manager, so a one-machine farm runs
 * work with a single command. Its output goes to the manager's log; when it exits unexpectedly
 * it is started again after a short delay.
 */
export function startLocalWorker(options: {
  managerUrl: string;
  registrationSecret: string;
  dataDir: string;
  logger: Logger;
}): LocalWorker | null {
  const entry = findWorkerEntryPoint();
  if (!entry) {
    options.logger.warn('no local worker: @farm/worker is not built (run npm run build)');
    return null;
  }
  let child: ChildProcess | null = null;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;

  const start = (): void => {
    child = spawn(
      process.execPath,
      [
        entry,
        '--manager',
        options.managerUrl,
        '--data-dir',
        options.dataDir,
        '--name',
        'local-worker',
        '--no-discovery',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, FARM_REGISTRATION_SECRET: options.registrationSecret },
      },
    );
    const forward = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) options.logger.info(`[local worker] ${line}`);
      }
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    child.on('exit', (code, signal) => {
      child = null;
      if (stopping) return;
      options.logger.warn('local worker exited; restarting', { code, signal });
      restartTimer = setTimeout(start, RESTART_DELAY_MS);
    });
  };
  start();

  return {
    stop: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        clearTimeout(restartTimer);
        const running = child;
        if (!running) return resolve();
        const killTimer = setTimeout(() => running.kill('SIGKILL'), 10_000);
        running.once('exit', () => {
          clearTimeout(killTimer);
          resolve();
        });
        running.kill('SIGTERM');
      }),
  };
}
