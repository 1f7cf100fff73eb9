import { defineOperation, respond, type OperationDefinition } from '../http/define-operation';
import {
  deleteWorker,
  deleteWorkerSleepSchedule,
  getWorkerSleepSchedule,
  listWorkers,
  requestWorkerStatus,
  setWorkerSleepSchedule,
  setWorkerTags,
} from '../services/workers/worker-admin';
import type { WorkerServiceContext } from '../services/workers/worker-deps';
import { getWorker } from '../services/workers/worker-view';
import { hideForeignTask, hideForeignTasks } from '../services/workers/worker-visibility';
import type { OperationRegistry } from './operation-registry';

/** The worker management operations people use: list, get, status requests, tags, schedule, delete. */
export function registerWorkerRoutes(
  router: OperationRegistry,
  ctx: WorkerServiceContext,
  tokens?: { forget(workerId?: string): void },
): void {
  const definitions: OperationDefinition[] = [
    // The task a worker runs is shown only to callers who may see its job (issue 7).
    defineOperation('listWorkers', async ({ principal, query }) => {
      const list = await listWorkers(ctx, query);
      return { ...list, items: await hideForeignTasks(ctx.db, principal, list.items) };
    }),
    defineOperation('getWorker', async ({ principal, params }) =>
      hideForeignTask(ctx.db, principal, await getWorker(ctx, params.workerId)),
    ),
    defineOperation('deleteWorker', async ({ params }) => {
      await deleteWorker(ctx, params.workerId);
      tokens?.forget(params.workerId);
      return respond(204);
    }),
    defineOperation('requestWorkerStatus', async ({ principal, params, body }) =>
      hideForeignTask(ctx.db, principal, await requestWorkerStatus(ctx, params.workerId, body)),
    ),
    defineOperation('setWorkerTags', async ({ principal, params, body }) =>
      hideForeignTask(ctx.db, principal, await setWorkerTags(ctx, params.workerId, body.tags)),
    ),
    defineOperation('getWorkerSleepSchedule', async ({ params }) => {
      const schedule = await getWorkerSleepSchedule(ctx, params.workerId);
      return schedule === null ? respond(204) : schedule;
    }),
    defineOperation('setWorkerSleepSchedule', ({ params, body }) =>
      setWorkerSleepSchedule(ctx, params.workerId, body),
    ),
    defineOperation('deleteWorkerSleepSchedule', async ({ params }) => {
      await deleteWorkerSleepSchedule(ctx, params.workerId);
      return respond(204);
    }),
  ];
  router.push(...definitions);
}
