import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { createJobTypeRegistry, resolveVariables, type WorkerSocketPush } from '@farm/core';
import { resolveConfig } from '../../../src/config';
import type { FarmDatabase } from '../../../src/db';
import type { BroadcastEvent } from '@farm/core';
import { createWakeups } from '../../../src/http/long-poll';
import type { WorkerPrincipal } from '../../../src/http/principal';
import type { WorkerServiceContext } from '../../../src/services/workers';
import { createTaskLogStore } from '../../../src/storage/task-log-store';

/** A worker-service context on a test database that records pushes, events and wake-ups. */
export interface TestWorkerContext extends WorkerServiceContext {
  events: BroadcastEvent[];
  pushes: { workerId: string; message: WorkerSocketPush }[];
  wakeCalls: number;
  dir: string;
  cleanUp(): Promise<void>;
}

export function createTestWorkerContext(database: FarmDatabase): TestWorkerContext {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-workers-test-'));
  const wakeups = createWakeups();
  const ctx: TestWorkerContext = {
    db: database.db,
    config: resolveConfig({ env: {}, argv: ['--data-dir', dir], cwd: dir }),
    jobTypes: createJobTypeRegistry({ withoutBundled: true }),
    variables: resolveVariables({
      render: {
        is_twoway: true,
        values: [
          { platform: 'linux', value: '/mnt/render' },
          { platform: 'windows', value: 'R:\\' },
        ],
      },
    }),
    platform: 'linux',
    logs: createTaskLogStore({ dir }),
    publish: (event) => {
      ctx.events.push(event);
    },
    wakeWorkers: () => {
      ctx.wakeCalls += 1;
      wakeups.wakeAll();
    },
    stopTasks: () => {},
    logger: winston.createLogger({ silent: true }),
    wakeups,
    pushToWorker: (workerId, message) => {
      ctx.pushes.push({ workerId, message });
      return true;
    },
    events: [],
    pushes: [],
    wakeCalls: 0,
    dir,
    cleanUp: async () => {
      wakeups.releaseAll();
      await ctx.logs.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return ctx;
}

/** The principal of a seeded worker. */
export function principal(workerId: string, name = 'worker'): WorkerPrincipal {
  return { kind: 'worker', workerId, name };
}
