import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { createJobTypeRegistry, resolveVariables, type JobTypeRegistry } from '@farm/core';
import { resolveConfig } from '../../../src/config';
import type { FarmDatabase } from '../../../src/db';
import type { BroadcastEvent } from '@farm/core';
import type { UserPrincipal } from '../../../src/http/principal';
import type { ServiceContext } from '../../../src/services/service-context';
import { createTaskLogStore } from '../../../src/storage/task-log-store';

/** A ServiceContext on a test database that records what the services asked for. */
export interface TestServiceContext extends ServiceContext {
  events: BroadcastEvent[];
  wakeups: number;
  stopped: { taskIds: string[]; reason: string }[];
  /** A signed-in user that exists in the database. */
  principal: UserPrincipal;
  dir: string;
  cleanUp(): void;
}

let registry: JobTypeRegistry | undefined;

/** The bundled job types (loaded once per test file: compiling scripts takes a moment). */
export function bundledJobTypes(): JobTypeRegistry {
  return (registry ??= createJobTypeRegistry());
}

/** Builds the context; call after the database was reset (it inserts the principal's user). */
export async function createTestServiceContext(
  database: FarmDatabase,
): Promise<TestServiceContext> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-jobs-test-'));
  const user = await database.db
    .insertInto('users')
    .values({ name: 'ann', display_name: 'Ann', is_admin: true })
    .returning('id')
    .executeTakeFirstOrThrow();
  const events: BroadcastEvent[] = [];
  const stopped: { taskIds: string[]; reason: string }[] = [];
  const ctx: TestServiceContext = {
    db: database.db,
    config: resolveConfig({ env: {}, argv: ['--data-dir', dir], cwd: dir }),
    jobTypes: bundledJobTypes(),
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
      events.push(event);
    },
    wakeWorkers: () => {
      ctx.wakeups += 1;
    },
    stopTasks: (taskIds, reason) => {
      stopped.push({ taskIds: [...taskIds], reason });
    },
    logger: winston.createLogger({ silent: true }),
    events,
    wakeups: 0,
    stopped,
    principal: { kind: 'user', userId: user.id, name: 'ann', isAdmin: true, scopes: [] },
    dir,
    cleanUp: () => {
      void ctx.logs.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return ctx;
}
