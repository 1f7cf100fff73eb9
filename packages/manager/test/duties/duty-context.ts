import { resolveConfig } from '../../src/config';
import type { FarmDatabase } from '../../src/db';
import {
  createTestWorkerContext,
  type TestWorkerContext,
} from '../services/workers/worker-context';

/** A worker-service context whose `stopTasks` calls are recorded, with config flags applied. */
export interface DutyTestContext extends TestWorkerContext {
  stopped: { taskIds: string[]; reason: string }[];
}

export function createDutyContext(database: FarmDatabase, argv: string[] = []): DutyTestContext {
  const ctx = createTestWorkerContext(database) as DutyTestContext;
  ctx.config = resolveConfig({ env: {}, argv: ['--data-dir', ctx.dir, ...argv], cwd: ctx.dir });
  ctx.stopped = [];
  ctx.stopTasks = (taskIds, reason) => {
    ctx.stopped.push({ taskIds: [...taskIds], reason });
  };
  return ctx;
}
