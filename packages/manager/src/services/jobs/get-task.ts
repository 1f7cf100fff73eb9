import type { Task } from '@farm/core';
import {
  findDependencyIds,
  findFailedByWorkers,
  findTaskWithWorker,
  taskNotFound,
  toApiTask,
} from '../../db/queries/tasks';
import type { ServiceContext } from '../service-context';

/**
 * One task with its commands, dependencies (ids, in index order), the workers that failed it,
 * its log size and the actions its status and its job's status allow.
 *
 * @throws FarmError `not_found`.
 */
export async function getTask(ctx: ServiceContext, taskId: string): Promise<Task> {
  const row = await findTaskWithWorker(ctx.db, taskId);
  if (!row) throw taskNotFound(taskId);
  const [job, dependsOn, failedByWorkers, logSize] = await Promise.all([
    ctx.db.selectFrom('jobs').select('status').where('id', '=', row.job_id).executeTakeFirst(),
    findDependencyIds(ctx.db, taskId),
    findFailedByWorkers(ctx.db, taskId),
    ctx.logs.size(row.job_id, taskId),
  ]);
  if (!job) throw taskNotFound(taskId);
  return toApiTask(row, row.worker_name, {
    jobStatus: job.status,
    dependsOn,
    failedByWorkers,
    logSize,
  });
}
